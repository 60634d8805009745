"""§ numbers through the year and per organ, their restart on 1 January, and two secretaries
deciding the same § at the same moment (real threads, real databases)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, func, select

from tests.meeting_support import (
    DIRECTOR,
    SECRETARY,
    board_meeting,
    meet,
    paragraph_of,
    recommended,
    with_agenda_and_protocol,
)
from tests.support import World
from workflow.errors import Conflict, FinsamError
from workflow.models import AuditEvent
from workflow.services.board import agenda, decisions, meetings, protocol, views
from workflow.services.board.decisions import DecisionInput
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import add_person

# Opening, agenda, justerare, previous protocol, delegationsbeslut, meddelanden, closing.
STANDARD = 7


def numbers(world: World, meeting_id: int) -> list[int]:
    view = views.get_meeting(world.app, ref=meeting_id, forbund=world.slug)
    return [i.paragraph for i in view.items]  # type: ignore[misc]


def test_paragraphs_run_through_the_year_and_restart_on_the_first_of_january(world: World) -> None:
    recommended(world)
    february = board_meeting(world, "2026-02-20 13:00")
    with_agenda_and_protocol(world, february.id)  # the case and the standard items
    recommended(world, title="Andra ansökan")
    recommended(world, title="Tredje ansökan")
    june = board_meeting(world, "2026-06-12 09:00")
    with_agenda_and_protocol(world, june.id)
    # 00:30 on New Year's Day in Stockholm is still 31 December in UTC: it opens the new year.
    new_year = board_meeting(world, datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    with_agenda_and_protocol(world, new_year.id)
    january = board_meeting(world, "2027-01-22 13:00")
    with_agenda_and_protocol(world, january.id)

    assert numbers(world, february.id) == list(range(1, STANDARD + 2))
    assert numbers(world, june.id) == list(range(STANDARD + 2, 2 * STANDARD + 4))
    assert numbers(world, new_year.id) == list(range(1, STANDARD + 1))
    assert numbers(world, january.id) == list(range(STANDARD + 1, 2 * STANDARD + 1))


def test_each_organ_numbers_its_own_paragraphs(world: World) -> None:
    board = board_meeting(world, "2026-02-20 13:00")
    with_agenda_and_protocol(world, board.id)
    group = meetings.create_meeting(
        world.app,
        actor_email=DIRECTOR,
        starts="2026-03-10 09:00",
        place="Kungälv",
        organ="beredningsgrupp",
        forbund=world.slug,
    )
    agenda.build_agenda(world.app, ref=group.number, actor_email=DIRECTOR, forbund=world.slug)
    # The förbundschef chairs the beredningsgrupp; one of its members checks the notes.
    protocol.open_protocol(
        world.app,
        ref=group.number,
        actor_email=SECRETARY,
        justerare=["beredningsgrupp@test.example"],
        forbund=world.slug,
    )
    assert numbers(world, board.id) == list(range(1, STANDARD + 1))
    assert numbers(world, group.id) == list(range(1, STANDARD + 1))


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except FinsamError as error:
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_secretaries_recording_the_same_paragraph_at_once_one_wins_one_conflicts(
    world: World,
) -> None:
    ref = recommended(world)
    with world.app.db.transaction() as session:
        add_person(
            session,
            resolve_forbund(session, world.slug),
            name="Andra sekreteraren",
            email="sekreterare2@test.example",
            roles=["sekreterare"],
        )
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    number = paragraph_of(opened, ref)
    seen = next(i.version for i in opened.items if i.paragraph == number)

    def decide(actor: str, kind: str) -> Any:
        return decisions.record_decision(
            world.app,
            ref=meeting.number,
            paragraph=number,
            decision=DecisionInput(kind),
            actor_email=actor,
            expected_version=seen,
            forbund=world.slug,
        )

    results = run_together(
        [lambda: decide(SECRETARY, "bifall"), lambda: decide("sekreterare2@test.example", "avslag")]
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if isinstance(r, views.MeetingView)]
    assert len(conflicts) == 1 and len(winners) == 1, results
    assert "§" in str(conflicts[0]) and "\n" not in str(conflicts[0])
    won = next(i for i in winners[0].items if i.paragraph == number)
    expected_state = {"bifall": "vantar_justering", "avslag": "avslutad_avslag"}[won.decision]  # type: ignore[index]
    assert world.show(ref).state == expected_state
    assert won.version == seen + 1
    with world.app.db.reading() as session:
        decided = session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.trigger == "besluta")
        ).one()
        case_moves = session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(col(AuditEvent.trigger).in_(["bifall", "avslag"]))
        ).one()
    assert (decided, case_moves) == (1, 1)
