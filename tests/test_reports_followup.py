"""Reports, overdue reports, Uppföljning Finsam and the end of an insats."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest

from tests import meeting_support as board
from tests.funding_world import ADMIN, CHEF, PROJEKTAGARE, audit_count, running
from tests.support import World
from workflow.clock import STOCKHOLM
from workflow.errors import BadInput, NotPermitted
from workflow.models import FollowUpQuestion
from workflow.services.board import closing
from workflow.services.funding import closure, reports, uppfoljning
from workflow.vocabulary import Role


def owed(world: World, ref: str, kind: str) -> int:
    return next(
        r.id
        for r in reports.list_reports(world.app, ref=ref, forbund="test")
        if r.kind == kind and r.status in {"vantar", "komplettering"}
    )


def test_an_overdue_report_is_listed_from_the_day_after_its_due_date_in_stockholm(
    world: World,
) -> None:
    ref = running(world)
    # 23:30 on 30 June in Stockholm is still the due day (21:30 UTC).
    world.clock.set(datetime(2027, 6, 30, 23, 30, tzinfo=STOCKHOLM))
    assert reports.overdue(world.app, forbund="test") == []
    # Half past midnight on 1 July in Stockholm: the delårsrapport is one day late.
    world.clock.set(datetime(2027, 7, 1, 0, 30, tzinfo=STOCKHOLM))
    late = reports.overdue(world.app, forbund="test")
    assert [(r.ref, r.kind, r.due_on, r.days_overdue) for r in late] == [
        (ref, "delar", date(2027, 6, 30), 1)
    ]
    reports.submit(world.app, ref=ref, actor_email=PROJEKTAGARE, forbund="test", progress="I gång")
    assert reports.overdue(world.app, forbund="test") == []


@pytest.mark.parametrize("bad", ["2.5", "-1", "tre", 2.5, -3, True, ""])
def test_participant_counts_must_be_whole_non_negative_numbers(world: World, bad: object) -> None:
    ref = running(world)
    before = audit_count(world)
    with pytest.raises(BadInput, match=r"deltagare kvinnor.*0 eller mer"):
        reports.submit(
            world.app,
            ref=ref,
            actor_email=PROJEKTAGARE,
            forbund="test",
            progress="I gång",
            women=bad,
            men=3,
        )
    assert reports.list_reports(world.app, ref=ref, forbund="test")[0].status == "vantar"
    assert audit_count(world) == before


def test_a_report_keeps_only_aggregate_counts_and_refuses_a_personnummer(world: World) -> None:
    ref = running(world)
    with pytest.raises(BadInput, match="personnummer"):
        reports.submit(
            world.app,
            ref=ref,
            actor_email=PROJEKTAGARE,
            forbund="test",
            progress="Deltagare 19811218-9876 har fått arbete",
        )
    view = reports.submit(
        world.app,
        ref=ref,
        actor_email=PROJEKTAGARE,
        forbund="test",
        progress="Fem deltagare har fått arbete",
        women=4,
        men="3",
        other=0,
    )
    assert (view.participants_women, view.participants_men, view.participants_other) == (4, 3, 0)


def finish(world: World, ref: str) -> None:
    """The insats reaches its end and the slutrapport is submitted and approved."""
    world.clock.set(date(2028, 12, 31))
    world.fire(ref, "avsluta", Role.FORBUNDSCHEF)
    world.clock.set(date(2029, 2, 20))
    reports.submit(
        world.app,
        ref=ref,
        report_id=owed(world, ref, "slut"),
        actor_email=PROJEKTAGARE,
        forbund="test",
        progress="Målen nådda",
        utfall=880,
        women=20,
        men=18,
        other=1,
    )


@pytest.mark.parametrize(
    ("outcome", "state", "questions"),
    [
        ("implementerad", "avslutad_implementerad", 2),
        ("ej_implementerad", "avslutad_ej_implementerad", 0),
    ],
)
def test_the_board_takes_note_of_the_approved_slutrapport_in_a_paragraph_and_the_case_ends(
    world: World, outcome: str, state: str, questions: int
) -> None:
    """Defect (issue 9): closing took a free-text "§ 40" tied to no meeting and wrote it over
    the case's "Beslut §". The board now takes note of the slutrapport in a § of a real
    protocol; the granting § stays the case's, the closing § is the slutrapport's."""
    ref = running(world)
    granted_by = world.show(ref).decision_paragraph
    finish(world, ref)
    # Not before the förbundschef has approved the slutrapport.
    early = board.held_meeting(world)
    before = audit_count(world)
    with pytest.raises(NotPermitted, match="ingen godkänd slutrapport"):
        closing.propose(
            world.app, ref=ref, meeting=early, outcome=outcome, actor_email=CHEF, forbund="test"
        )
    assert audit_count(world) == before
    reports.approve(
        world.app,
        ref=ref,
        report_id=owed_or_submitted(world, ref),
        actor_email=CHEF,
        forbund="test",
    )
    world.clock.set(date(2029, 3, 15))
    meeting = board.close_at_meeting(world, ref, outcome)
    case = world.show(ref)
    assert case.state == state
    assert case.decision_paragraph == granted_by
    assert case.final_report_on == date(2029, 2, 20)
    closing_paragraph = board.paragraph_ref_of(world, ref)
    assert closing_paragraph.endswith("/2029") and closing_paragraph != granted_by
    view = closure.get(world.app, ref=ref, forbund="test")
    assert (view.state, view.decision_paragraph, view.closing_paragraph) == (
        state,
        granted_by,
        closing_paragraph,
    )
    assert view.final_report_noted_on == date(2029, 3, 15)
    item = next(i for i in board.views_of(world, meeting).items if i.dnr == ref)
    assert (item.decision, item.outcome) == ("lagga_till_handlingarna", outcome)
    assert item.att_satser[0].startswith("att lägga slutrapporten för")
    due = [
        (q["months_after"], q["due_on"])
        for q in closure.follow_ups(world.app, forbund="test").items
    ]
    if questions:
        assert due == [(6, date(2029, 9, 15)), (12, date(2030, 3, 15))]
    else:
        assert due == []


def owed_or_submitted(world: World, ref: str) -> int:
    return next(
        r.id
        for r in reports.list_reports(world.app, ref=ref, forbund="test")
        if r.kind == "slut" and r.status == "inkommen"
    )


def test_the_board_stops_an_insats_early_and_no_more_reports_are_taken(world: World) -> None:
    ref = running(world)
    world.clock.set(date(2027, 10, 1))
    board.close_at_meeting(world, ref, "avbruten", reason="parterna drar sig ur finansieringen")
    view = closure.get(world.app, ref=ref, forbund="test")
    assert view.state == "avslutad_avbruten" and view.closing_paragraph is not None
    assert closure.follow_ups(world.app, forbund="test").items == []
    # A report for a closed insats: a clear error and nothing written.
    before = audit_count(world)
    with pytest.raises(NotPermitted, match=f"{ref} är avslutad"):
        reports.submit(
            world.app, ref=ref, actor_email=PROJEKTAGARE, forbund="test", progress="Sista läget"
        )
    assert audit_count(world) == before
    # And it is not listed as overdue.
    world.clock.set(date(2029, 1, 1))
    assert reports.overdue(world.app, forbund="test") == []


def test_stopping_an_insats_without_a_reason_is_refused(world: World) -> None:
    ref = running(world)
    meeting = board.held_meeting(world)
    before = audit_count(world)
    with pytest.raises(BadInput, match="ange varför"):
        closing.propose(
            world.app,
            ref=ref,
            meeting=meeting,
            outcome="avbruten",
            actor_email=CHEF,
            forbund="test",
        )
    assert audit_count(world) == before
    assert world.show(ref).state == "pagaende"


def test_a_running_insats_is_ended_by_the_forbundschef_before_the_board_takes_note(
    world: World,
) -> None:
    ref = running(world)
    with pytest.raises(NotPermitted, match=f"finsam cases fire {ref} avsluta"):
        closing.propose(
            world.app,
            ref=ref,
            meeting=board.held_meeting(world),
            outcome="implementerad",
            actor_email=CHEF,
            forbund="test",
        )


def test_uppfoljning_finsam_export_has_the_fields_it_asks_for(world: World) -> None:
    ref = running(world)
    uppfoljning.register(
        world.app,
        ref=ref,
        external_ref="UF-2027-0042",
        registered_on=date(2027, 1, 1),
        preciserad_inriktning="Arbetslivsinriktad rehabilitering",
        uppfoljningsmetod="Antal per kön",
        esf=True,
        actor_email=ADMIN,
        forbund="test",
    )
    world.clock.set(date(2027, 7, 2))
    reports.submit(
        world.app,
        ref=ref,
        actor_email=PROJEKTAGARE,
        forbund="test",
        progress="I gång",
        women=5,
        men=4,
        other=0,
    )
    reports.approve(world.app, ref=ref, actor_email=CHEF, forbund="test")
    world.clock.set(date(2028, 1, 20))
    reports.submit(
        world.app,
        ref=ref,
        actor_email=PROJEKTAGARE,
        forbund="test",
        progress="Helår",
        utfall=480,
        women=9,
        men=8,
        other=1,
    )
    reports.approve(world.app, ref=ref, actor_email=CHEF, forbund="test")
    table = list(
        csv.DictReader(
            io.StringIO(uppfoljning.export_csv(world.app, year=2027, forbund="test")), delimiter=";"
        )
    )
    assert len(table) == 1
    row = table[0]
    assert row["Diarienummer"] == ref
    assert row["Referens i Uppföljning Finsam"] == "UF-2027-0042"
    assert row["Senast registrerad"] == "2027-01-01"
    assert row["Insatsens namn"] == "Gemensamt stöd för unga vuxna"
    assert (row["Startdatum"], row["Slutdatum"]) == ("2027-01-01", "2028-12-31")
    assert row["Inriktning"] == "Individinriktad"
    assert row["Preciserad inriktning"] == "Arbetslivsinriktad rehabilitering"
    assert row["Målgrupp"] == "Unga vuxna 18–29 år"
    assert row["ESF-finansierad"] == "Ja"
    assert (row["År"], row["Budget (tkr)"], row["Utfall (tkr)"]) == ("2027", "500", "480")
    # The helårsrapport's counts for the year, never delår + helår added together.
    assert (row["Deltagare kvinnor"], row["Deltagare män"], row["Deltagare övriga"]) == (
        "9",
        "8",
        "1",
    )


def test_follow_up_questions_are_dated_rows_for_the_reminders(world: World) -> None:
    ref = running(world)
    finish(world, ref)
    reports.approve(
        world.app,
        ref=ref,
        report_id=owed_or_submitted(world, ref),
        actor_email=CHEF,
        forbund="test",
    )
    board.close_at_meeting(world, ref, "implementerad")
    with world.app.db.reading() as session:
        from sqlmodel import select

        due = sorted(q.due_on for q in session.exec(select(FollowUpQuestion)))
    assert due == [date(2029, 8, 20), date(2030, 2, 20)]
