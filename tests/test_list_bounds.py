"""The lists that grew with the number of cases (issue 15) read only what a page shows: the
Avtal page's unsigned avtal from their own index, not a walk of every open insats; its
insatser waiting for an avtal as one range of the list index. Both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.funding_world import CHEF
from tests.support import TravelClock
from tests.test_funding_paging import _grown, _refs, _walk
from workflow.app import App
from workflow.services.funding import agreements


@contextmanager
def _reads(app: App, starts: str) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) that start with `starts`, sent while inside."""
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().startswith(starts):
            seen.append((statement, parameters))

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)


def _plan(
    app: App,
    statement: str,
    parameters: Any,
    avoid: tuple[str, ...] = ("enable_seqscan", "enable_bitmapscan"),
) -> str:
    """How the database reads the statement. PostgreSQL plans with the tables' statistics (as
    autovacuum keeps them) and is told to avoid table scans: on a few rows it would rightly
    prefer them (and a sort, `avoid` with enable_sort), and the question here is which index
    serves the list, not what is cheapest for a small table."""
    with app.db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[3]) for row in rows)
        connection.exec_driver_sql("ANALYZE insats, agreement, report")
        for setting in avoid:
            connection.exec_driver_sql(f"SET LOCAL {setting} = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        plan = "\n".join(str(row[0]) for row in rows)
        connection.rollback()
        return plan


def _page_plans(app: App, starts: str, read: Callable[[str | None], Any], *avoid: str) -> list[str]:
    """The plans of the list's query on its first page and on the page after a cursor."""
    plans = []
    after = None
    for _ in range(2):
        with _reads(app, starts) as seen:
            page = read(after)
        assert len(seen) == 1, seen
        plans.append(_plan(app, *seen[0], ("enable_seqscan", "enable_bitmapscan", *avoid)))
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
