"""The follow-up questions after implemented insatser, open and answered, a page at a time:
on the Avslut page (each list paged on by a cursor of its own), in the service and in
`finsam closure followups`. On the demo, both databases; the questions are written straight
into the table (the paging is about reading)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import insert, select

from tests.support import finsam
from tests.web_support import ClientFactory
from workflow.app import App
from workflow.errors import BadInput
from workflow.models import FollowUpQuestion, Forbund, Insats
from workflow.services.funding import closure
from workflow.vocabulary import Role


def _questions(app: App, open_: int, answered: int) -> None:
    """Questions on the förbund's cases, several on one due date (the id breaks the tie)."""
    with app.db.transaction() as session:
        akst = session.execute(select(Forbund.id).where(Forbund.slug == "akst")).scalar_one()
        cases = (
            session.execute(
                select(Insats.id).where(Insats.forbund_id == akst, Insats.dnr.is_not(None))
            )
            .scalars()
            .all()
        )
        rows = []
        for n in range(open_ + answered):
            rows.append(
                {
                    "forbund_id": akst,
                    "insats_id": cases[n % len(cases)],
                    "months_after": 100 + n,  # unique per insats with the demo's own
                    "due_on": date(2027, 1, 1) + timedelta(days=n // 3),
                    "question": f"Finns arbetssättet kvar? ({n})",
                    "answered_on": date(2027, 6, 1) if n >= open_ else None,
                    "answer": "Ja." if n >= open_ else None,
                }
            )
        session.execute(insert(FollowUpQuestion), rows)


def _all(app: App, answered: bool) -> list[int]:
    with app.db.reading() as session:
        return list(
            session.execute(
                select(FollowUpQuestion.id)
                .join(Forbund, Forbund.id == FollowUpQuestion.forbund_id)
                .where(
                    Forbund.slug == "akst",
                    FollowUpQuestion.answered_on.is_not(None)
                    if answered
                    else FollowUpQuestion.answered_on.is_(None),
                )
                .order_by(FollowUpQuestion.due_on, FollowUpQuestion.id)
            ).scalars()
        )


@pytest.mark.parametrize("answered", [False, True])
def test_each_list_pages_through_every_question_once_in_due_order(
    demo_app: App, answered: bool
) -> None:
    _questions(demo_app, open_=11, answered=7)
    seen, after = [], None
    while True:
        page = closure.follow_ups(demo_app, forbund="akst", answered=answered, after=after, limit=3)
        assert len(page.items) <= 3
        seen += [q["id"] for q in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == _all(demo_app, answered)
    # One list's cursor is not the other's.
    first = closure.follow_ups(demo_app, forbund="akst", answered=answered, limit=3)
    with pytest.raises(BadInput, match="sidmarkör"):
        closure.follow_ups(
            demo_app, forbund="akst", answered=not answered, after=first.next_after, limit=3
        )


def test_the_avslut_page_links_on_through_the_open_questions(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _questions(demo_app, open_=5, answered=4)
    monkeypatch.setattr(closure, "FOLLOW_UP_PAGE", 2)
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get("/ekonomi/avslut")
    shown: list[str] = []
    while True:
        assert page.status_code == 200
        open_part = page.text.split('id="oppna"', 1)[1].split('id="besvarade"', 1)[0]
        shown += re.findall(r"Finns arbetssättet kvar\? \((\d+)\)", open_part)
        pager = re.search(
            r'<nav aria-label="Sidor i listan över frågor att besvara".*?</nav>', page.text, re.S
        )
        link = pager and re.search(r'<a href="([^"]+)" rel="next">', pager.group(0))
        if link is None:
            break
        page = chef.get(unescape(link.group(1)).split("#")[0])
    assert shown == [str(n) for n in range(5)]
    assert chef.get("/ekonomi/avslut?oppna=trasig").status_code == 400


def test_the_command_line_lists_a_page_and_says_where_the_next_starts(
    demo_url: str, demo_app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    _questions(demo_app, open_=5, answered=0)
    code, out, err = finsam(
        capsys, demo_url, "closure", "followups", "--limit", "2", forbund="akst"
    )
    assert code == 0 and "Finns arbetssättet kvar? (0)" in out
    hint = re.search(r"finsam closure followups --limit 2 --after (\S+)", err)
    assert hint, err
    code, out, _ = finsam(
        capsys, demo_url, "closure", "followups", "--all", "--json", forbund="akst"
    )
    assert code == 0 and [q["id"] for q in json.loads(out)] == _all(demo_app, False)
