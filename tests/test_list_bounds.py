"""The lists that grew with the number of cases (issue 15) read only what a page shows: the
Avtal page's unsigned avtal from their own index, not a walk of every open insats; its
insatser waiting for an avtal as one range of the list index. Both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.funding_world import CHEF
from tests.support import TravelClock, query_plan, sent_statements
from tests.test_funding_paging import _grown, _refs, _walk
from workflow.app import App
from workflow.services.funding import agreements


def _page_plans(app: App, starts: str, read: Callable[[str | None], Any], *avoid: str) -> list[str]:
    """The plans of the list's query on its first page and on the page after a cursor."""
    plans = []
    after = None
    for _ in range(2):
        with sent_statements(app, starts) as seen:
            page = read(after)
        assert len(seen) == 1, seen
        avoiding = ("enable_seqscan", "enable_bitmapscan", *avoid)
        plans.append(query_plan(app, *seen[0], avoiding, analyze=("insats", "agreement", "report")))
        after = page.next_after
        assert after is not None
    return plans


def test_the_unsigned_avtal_are_read_from_their_index_not_a_walk_of_the_open_insatser(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 40)
    wanted = _refs(app, {"avtal", "pagaende"}, "utkast")
    assert len(wanted) == 5

    def unsigned(after: str | None) -> Any:
        return agreements.agreements_page(
            app, viewer_email=CHEF, forbund="test", status="utkast", after=after, limit=2
        )

    pages = _walk(unsigned)
    assert [a.ref for items in pages for a in items] == wanted
    assert {a.status for items in pages for a in items} == {"utkast"}
    for plan in _page_plans(app, "SELECT agreement.id", unsigned):
        assert "ix_agreement_unsigned" in plan, plan
        assert "ix_insats_list_dnr" not in plan, plan


def test_the_insatser_waiting_for_an_avtal_are_one_range_of_the_list_index(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 40)

    def waiting(after: str | None) -> Any:
        return agreements.to_create_page(
            app, viewer_email=CHEF, forbund="test", after=after, limit=2
        )

    assert [c.ref for items in _walk(waiting) for c in items] == _refs(app, {"avtal"}, None)
    for plan in _page_plans(app, "SELECT insats.id", waiting, "enable_sort"):
        assert "ix_insats_list_state" in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
