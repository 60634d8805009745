"""Helpers for the tests that meet the board: a case recommended by the beredningsgrupp, board
meetings, and the board's steps of a case (agenda, decision, justering, closing) through a
meeting's protocol, the only way those steps happen."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, func, select

from tests.support import World, email
from workflow.models import AgendaItem, Meeting, Organ, Paragraph, Protocol
from workflow.services.board import (
    agenda,
    beredning,
    closing,
    decisions,
    justering,
    meetings,
    views,
)
from workflow.services.board import protocol as protocols
from workflow.services.board.decisions import DecisionInput
from workflow.services.board.views import MeetingView
from workflow.services.cases import find_case
from workflow.services.funding import agreements, reports
from workflow.services.organisation.forbund import resolve_forbund
from workflow.vocabulary import Role

CHAIR = email(Role.STYRELSE_ORDFORANDE)
MEMBER = email(Role.STYRELSE_LEDAMOT)
DEPUTY = email(Role.STYRELSE_ERSATTARE)
SECRETARY = email(Role.SEKRETERARE)
DIRECTOR = email(Role.FORBUNDSCHEF)


def _as(world: World, role: Role) -> str:
    """The address of the world's person in this role (each world is a förbund of its own)."""
    return email(role, world.slug)


def under_beredning(world: World, **values: Any) -> str:
    ref = world.fire(world.idea(**values), "registrera", Role.SEKRETERARE).ref
    world.fire(ref, "starta_beredning", Role.FORBUNDSCHEF)
    return ref


def recommend(world: World, ref: str, outcome: str = "bevilja") -> None:
    beredning.record_recommendation(
        world.app,
        ref=ref,
        actor_email=_as(world, Role.FORBUNDSCHEF),
        outcome=outcome,
        motivation="Beredningsgruppen har prövat ansökan mot förbundets mål",
        conditions="att insatsen redovisar resultat per kön"
        if outcome == "bevilja_med_villkor"
        else None,
        forbund=world.slug,
    )


def recommended(world: World, outcome: str = "bevilja", **values: Any) -> str:
    ref = under_beredning(world, **values)
    recommend(world, ref, outcome)
    return ref


def board_meeting(world: World, starts: str | datetime, place: str = "Kungälv") -> MeetingView:
    return meetings.create_meeting(
        world.app,
        actor_email=_as(world, Role.SEKRETERARE),
        starts=starts,
        place=place,
        forbund=world.slug,
    )


def meet(world: World, meeting: MeetingView) -> None:
    """The clock moves to the meeting, an hour after it began: the board decides now."""
    world.clock.set(meeting.starts_at + timedelta(hours=1))


def with_agenda_and_protocol(world: World, meeting_id: int) -> MeetingView:
    agenda.build_agenda(
        world.app,
        ref=number_of(world, meeting_id),
        actor_email=_as(world, Role.FORBUNDSCHEF),
        forbund=world.slug,
    )
    return protocols.open_protocol(
        world.app,
        ref=number_of(world, meeting_id),
        actor_email=_as(world, Role.SEKRETERARE),
        justerare=[_as(world, Role.STYRELSE_LEDAMOT)],
        forbund=world.slug,
    )


def paragraph_of(view: MeetingView, dnr: str) -> int:
    item = next(i for i in view.items if i.dnr == dnr)
    assert item.paragraph is not None
    return item.paragraph


def justera(world: World, meeting_id: int) -> MeetingView:
    justering.send_for_justering(
        world.app,
        ref=number_of(world, meeting_id),
        actor_email=_as(world, Role.SEKRETERARE),
        forbund=world.slug,
    )
    justering.approve(
        world.app,
        ref=number_of(world, meeting_id),
        actor_email=_as(world, Role.STYRELSE_ORDFORANDE),
        forbund=world.slug,
    )
    return justering.approve(
        world.app,
        ref=number_of(world, meeting_id),
        actor_email=_as(world, Role.STYRELSE_LEDAMOT),
        forbund=world.slug,
    )


# -- a case's board steps, each at a meeting held just now --------------------------------


def held_meeting(world: World) -> int:
    """A board meeting that began an hour before the clock's now, or just after the latest
    board meeting there is (§§ follow the meetings' dates)."""
    start = world.clock.now - timedelta(hours=1)
    with world.app.db.reading() as session:
        latest = session.exec(
            select(func.max(Meeting.starts_at))
            .join(Organ, col(Organ.id) == col(Meeting.organ_id))
            .where(Organ.kind == "styrelse", Organ.forbund_id == _forbund_id(world))
        ).one()
    if latest is not None and latest >= start:
        start = latest + timedelta(seconds=1)
    assert start <= world.clock.now, "ett möte per sekund: flytta klockan framåt"
    return board_meeting(world, start).id


def number_of(world: World, meeting_id: int) -> int:
    """How people name the meeting (its number in the förbund); these helpers keep its row id."""
    with world.app.db.reading() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None and meeting.number is not None
        return meeting.number


def _forbund_id(world: World) -> int:
    with world.app.db.reading() as session:
        return resolve_forbund(session, world.slug).id  # type: ignore[return-value]


def meeting_of(world: World, ref: str) -> int:
    """The meeting whose agenda holds the case's latest item."""
    with world.app.db.reading() as session:
        case = find_case(session, resolve_forbund(session, world.slug), ref)
        item = session.exec(
            select(AgendaItem)
            .where(AgendaItem.insats_id == case.id)
            .order_by(col(AgendaItem.id).desc())
        ).first()
        assert item is not None, f"{ref} står inte på någon dagordning"
        return item.meeting_id


def put_on_agenda(world: World, ref: str) -> int:
    """The case goes on the agenda of a meeting held just now; returns the meeting."""
    meeting = held_meeting(world)
    agenda.build_agenda(
        world.app,
        ref=number_of(world, meeting),
        actor_email=_as(world, Role.FORBUNDSCHEF),
        add=[ref],
        forbund=world.slug,
    )
    return meeting


def open_protocol_of(world: World, meeting: int) -> MeetingView:
    """The meeting's protocol, opened now if it was not (justerare: the ledamot)."""
    with world.app.db.reading() as session:
        opened = session.exec(select(Protocol).where(Protocol.meeting_id == meeting)).first()
    if opened is None:
        return protocols.open_protocol(
            world.app,
            ref=number_of(world, meeting),
            actor_email=_as(world, Role.SEKRETERARE),
            justerare=[_as(world, Role.STYRELSE_LEDAMOT)],
            forbund=world.slug,
        )
    return views_of(world, meeting)


def views_of(world: World, meeting: int) -> MeetingView:
    return views.get_meeting(world.app, ref=number_of(world, meeting), forbund=world.slug)


def decide(world: World, ref: str, kind: str = "bifall", **decision: Any) -> MeetingView:
    """The board decides the case in its § at the meeting whose agenda holds it."""
    meeting = meeting_of(world, ref)
    opened = open_protocol_of(world, meeting)
    number = paragraph_of(opened, ref)
    return decisions.record_decision(
        world.app,
        ref=number_of(world, meeting),
        paragraph=number,
        decision=DecisionInput(kind, **decision),
        actor_email=_as(world, Role.SEKRETERARE),
        forbund=world.slug,
    )


def finish_meeting(world: World, meeting: int) -> MeetingView:
    """Every open § as proposed, then justering by the ordförande and the justerare."""
    view = open_protocol_of(world, meeting)
    if any(i.decision is None for i in view.items):
        decisions.follow_recommendations(
            world.app,
            ref=number_of(world, meeting),
            actor_email=_as(world, Role.SEKRETERARE),
            forbund=world.slug,
        )
    return justera(world, meeting)


def decided_paragraph(world: World, ref: str) -> Paragraph:
    with world.app.db.reading() as session:
        case = find_case(session, resolve_forbund(session, world.slug), ref)
        paragraph = session.exec(
            select(Paragraph)
            .where(Paragraph.insats_id == case.id, col(Paragraph.decision).is_not(None))
            .order_by(col(Paragraph.id).desc())
        ).first()
        assert paragraph is not None
        return paragraph


def paragraph_ref_of(world: World, ref: str) -> str:
    """'§ N/YYYY' of the case's latest decided §."""
    paragraph = decided_paragraph(world, ref)
    return f"§ {paragraph.number}/{paragraph.year}"


def sign_and_start(world: World, ref: str) -> None:
    """The avtal drawn up and signed today; the insats starts on its start date."""
    agreements.create(
        world.app, ref=ref, actor_email=_as(world, Role.FORBUNDSCHEF), forbund=world.slug
    )
    today = world.clock.now.astimezone(world.app.settings.zone).date()
    agreements.sign(
        world.app,
        ref=ref,
        actor_email=_as(world, Role.FORBUNDSCHEF),
        forbund=world.slug,
        forbund_signed_on=today,
        owner_signed_on=today,
    )
    start = world.show(ref).start
    assert start is not None
    if start > today:
        world.clock.set(start)
        agreements.start_due(
            world.app, actor_email=_as(world, Role.FORBUNDSCHEF), forbund=world.slug
        )


def final_report_approved(world: World, ref: str) -> None:
    """The slutrapport handed in and approved today."""
    owed = next(
        r.id
        for r in reports.list_reports(world.app, ref=ref, forbund=world.slug)
        if r.kind == "slut" and r.status in {"vantar", "komplettering"}
    )
    reports.submit(
        world.app,
        ref=ref,
        report_id=owed,
        actor_email=_as(world, Role.FORBUNDSCHEF),
        forbund=world.slug,
        progress="Målen nådda; arbetssättet finns kvar hos parterna",
        utfall=880,
        women=20,
        men=18,
        other=1,
    )
    reports.approve(
        world.app,
        ref=ref,
        report_id=owed,
        actor_email=_as(world, Role.FORBUNDSCHEF),
        forbund=world.slug,
    )


def close_at_meeting(world: World, ref: str, outcome: str = "implementerad", **kw: Any) -> int:
    """The end of the insats on a meeting held just now, decided as proposed and justerat."""
    meeting = held_meeting(world)
    closing.propose(
        world.app,
        ref=ref,
        meeting=meeting,
        outcome=outcome,
        actor_email=_as(world, Role.FORBUNDSCHEF),
        forbund=world.slug,
        **kw,
    )
    agenda.build_agenda(
        world.app,
        ref=number_of(world, meeting),
        actor_email=_as(world, Role.FORBUNDSCHEF),
        include_ready=False,
        forbund=world.slug,
    )
    finish_meeting(world, meeting)
    return meeting
