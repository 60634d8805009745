"""Due dates from the board and funding work: reports, kallelse, justering."""

from __future__ import annotations

from datetime import date, timedelta

from tests.funding_world import CHEF, PROJEKTAGARE, granted, running
from tests.meeting_support import board_meeting, justera, with_agenda_and_protocol
from tests.reminder_support import morning
from tests.support import World, email
from workflow.scheduler import run_once
from workflow.services.board import decisions
from workflow.services.funding import agreements, reports
from workflow.services.reminders import planner as reminders
from workflow.services.reminders.working_days import working_day_on_or_before


def _planned(world: World, rule: str) -> list[reminders.ReminderView]:
    return [
        r
        for r in reminders.list_reminders(world.app, forbund="test", limit=500).items
        if r.rule == rule
    ]


def test_a_report_owed_is_reminded_21_and_7_days_before_then_overdue_then_escalated(
    world: World,
) -> None:
    ref = running(world)
    owed = reports.list_reports(world.app, ref=ref, forbund="test")
    first = min(owed, key=lambda r: r.due_on)
    planned = [
        r
        for r in _planned(world, "report_due")
        if r.due_on == first.due_on and r.subject_ref == ref
    ]
    applicant = world.show(ref).project_owner or email("handlaggare")
    assert {r.step: r.recipients for r in planned} == {
        "fore_21": [applicant],
        "fore_7": [applicant],
        "forsenad": [applicant],
        "eskalering": [email("forbundschef")],
    }
    by_step = {r.step: r.send_on for r in planned}
    assert by_step["fore_21"] == working_day_on_or_before(first.due_on - timedelta(days=21))
    assert by_step["fore_7"] == working_day_on_or_before(first.due_on - timedelta(days=7))
    assert by_step["forsenad"] > first.due_on and by_step["eskalering"] > by_step["forsenad"]

    # Handed in after the first reminder: the rest of that report's reminders are called off.
    world.clock.set(morning(by_step["fore_21"]))
    run_once(world.app)
    world.clock.advance(days=1)
    reports.submit(
        world.app, ref=ref, actor_email=PROJEKTAGARE, progress="Enligt plan", forbund="test"
    )
    after = {
        r.step: r.status
        for r in _planned(world, "report_due")
        if r.due_on == first.due_on and r.subject_ref == ref
    }
    assert after == {
        "fore_21": "sent",
        "fore_7": "cancelled",
        "forsenad": "cancelled",
        "eskalering": "cancelled",
    }


def test_the_board_gets_the_kallelse_reminder_seven_days_before_the_meeting(world: World) -> None:
    meeting = board_meeting(world, "2026-04-20 13:00")
    [kallelse] = _planned(world, "meeting_kallelse")
    assert kallelse.send_on == date(2026, 4, 13) and kallelse.due_on == date(2026, 4, 20)
    assert set(kallelse.recipients) == {
        email(role)
        for role in ("styrelse_ordforande", "styrelse_ledamot", "styrelse_ersattare", "sekreterare")
    }
    assert meeting.id


def test_an_unjusterat_protocol_is_reminded_after_three_days_and_escalated_at_ten(
    world: World,
) -> None:
    meeting = board_meeting(world, "2026-04-20 13:00")
    steps = {r.step: r.send_on for r in _planned(world, "protocol_justering")}
    assert steps == {"justera": date(2026, 4, 23), "eskalering": date(2026, 4, 30)}

    world.clock.set(morning(date(2026, 4, 20), 15, 0))
    with_agenda_and_protocol(world, meeting.id)
    decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=email("sekreterare"), forbund="test"
    )
    justera(world, meeting.id)
    statuses = {r.step: r.status for r in _planned(world, "protocol_justering")}
    assert statuses == {"justera": "cancelled", "eskalering": "cancelled"}


def test_the_applicant_hears_of_the_decision_and_an_unsigned_avtal_is_chased(world: World) -> None:
    ref = granted(world)  # bifall justerat today (Mon 2 March 2026), state avtal
    today = date(2026, 3, 2)
    # The one responsible for the case: its projektägare, or who submitted it.
    applicant = world.show(ref).project_owner or email("handlaggare")
    [decision] = [r for r in _planned(world, "decision_to_applicant") if r.subject_ref == ref]
    assert decision.send_on == today and decision.recipients == [applicant]
    [unsigned] = [r for r in _planned(world, "agreement_unsigned") if r.subject_ref == ref]
    assert unsigned.send_on == today + timedelta(days=14)
    assert set(unsigned.recipients) == {email("forbundschef"), applicant}

    agreements.create(world.app, ref=ref, actor_email=CHEF, forbund="test")
    agreements.sign(
        world.app,
        ref=ref,
        actor_email=CHEF,
        forbund="test",
        forbund_signed_on=today,
        owner_signed_on=today,
    )
    [unsigned] = [r for r in _planned(world, "agreement_unsigned") if r.subject_ref == ref]
    assert unsigned.status == "cancelled"
