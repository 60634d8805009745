"""The board services the web pages added, on both databases: the meeting's version as the
lock of its agenda (two moves from the same page: one conflict, nothing lost), the kallelse
through the outbox only with an agenda and only once, a meeting's organ kept once it has one."""

from __future__ import annotations

import pytest

from workflow.app import App
from workflow.errors import BadInput, Conflict, NotPermitted
from workflow.services.board import agenda, meetings, views

CHEF = "chef@akst.example"


def _coming(app: App) -> views.MeetingView:
    return next(m for m in views.year_meetings(app, year=2026, forbund="akst") if not m.items)


def test_two_moves_from_the_same_page_one_conflict_nothing_lost(demo_app: App) -> None:
    coming = _coming(demo_app)
    with pytest.raises(BadInput, match="ingen dagordning"):
        meetings.send_kallelse(demo_app, ref=coming.number, actor_email=CHEF, forbund="akst")
    built = agenda.build_agenda(
        demo_app, ref=coming.number, actor_email=CHEF, include_ready=False, forbund="akst"
    )
    first, second = built.items[0], built.items[1]
    moved = agenda.move_item(
        demo_app, ref=coming.number, item_id=second.item_id, direction="upp",
        actor_email=CHEF, expected_version=built.version, forbund="akst",
    )  # fmt: skip
    with pytest.raises(Conflict):
        agenda.move_item(
            demo_app, ref=coming.number, item_id=first.item_id, direction="ned",
            actor_email=CHEF, expected_version=built.version, forbund="akst",
        )  # fmt: skip
    now = views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst")
    assert [i.item_id for i in now.items[:2]] == [second.item_id, first.item_id]
    assert now.version == moved.version == built.version + 1
    with pytest.raises(NotPermitted, match="organet kan inte bytas"):
        meetings.update_meeting(
            demo_app, ref=coming.number, actor_email=CHEF,
            starts=f"{coming.starts_at:%Y-%m-%d %H:%M}", place=coming.place,
            organ="beredningsgrupp", forbund="akst",
        )  # fmt: skip
    sent = meetings.send_kallelse(demo_app, ref=coming.number, actor_email=CHEF, forbund="akst")
    assert sent.recipients and all(status == "pending" for _, status in sent.recipients)
    with pytest.raises(Conflict, match="redan skickad"):
        meetings.send_kallelse(demo_app, ref=coming.number, actor_email=CHEF, forbund="akst")
    shown = meetings.kallelse_sent(demo_app, ref=coming.number, forbund="akst")
    assert shown is not None and shown.recipients == sent.recipients and not shown.by_hand
