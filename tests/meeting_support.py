"""Helpers for the meeting tests: a case recommended by the beredningsgrupp, a board meeting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support import World, email
from workflow.services.board import agenda, beredning, justering, meetings, protocol
from workflow.services.board.views import MeetingView
from workflow.vocabulary import Role

CHAIR = email(Role.STYRELSE_ORDFORANDE)
MEMBER = email(Role.STYRELSE_LEDAMOT)
DEPUTY = email(Role.STYRELSE_ERSATTARE)
SECRETARY = email(Role.SEKRETERARE)
DIRECTOR = email(Role.FORBUNDSCHEF)


def under_beredning(world: World, **values: Any) -> str:
    ref = world.fire(world.idea(**values), "registrera", Role.SEKRETERARE).ref
    world.fire(ref, "starta_beredning", Role.FORBUNDSCHEF)
    return ref


def recommended(world: World, outcome: str = "bevilja", **values: Any) -> str:
    ref = under_beredning(world, **values)
    beredning.record_recommendation(
        world.app,
        ref=ref,
        actor_email=DIRECTOR,
        outcome=outcome,
        motivation="Beredningsgruppen har prövat ansökan mot förbundets mål",
        conditions="att insatsen redovisar resultat per kön"
        if outcome == "bevilja_med_villkor"
        else None,
        forbund=world.slug,
    )
    return ref


def board_meeting(world: World, starts: str | datetime, place: str = "Kungälv") -> MeetingView:
    return meetings.create_meeting(
        world.app, actor_email=SECRETARY, starts=starts, place=place, forbund=world.slug
    )


def with_agenda_and_protocol(world: World, meeting_id: int) -> MeetingView:
    agenda.build_agenda(world.app, ref=meeting_id, actor_email=DIRECTOR, forbund=world.slug)
    return protocol.open_protocol(
        world.app, ref=meeting_id, actor_email=SECRETARY, justerare=[MEMBER], forbund=world.slug
    )


def paragraph_of(view: MeetingView, dnr: str) -> int:
    item = next(i for i in view.items if i.dnr == dnr)
    assert item.paragraph is not None
    return item.paragraph


def justera(world: World, meeting_id: int) -> MeetingView:
    justering.send_for_justering(
        world.app, ref=meeting_id, actor_email=SECRETARY, forbund=world.slug
    )
    justering.approve(world.app, ref=meeting_id, actor_email=CHAIR, forbund=world.slug)
    return justering.approve(world.app, ref=meeting_id, actor_email=MEMBER, forbund=world.slug)
