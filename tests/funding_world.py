"""Helpers for the funding tests: a förbund with a frame, and insatser granted by the board."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import func, select

from tests.meeting_support import sign_and_start
from tests.support import World, drive_happy_path, email
from workflow.models import AuditEvent
from workflow.services.funding import budget
from workflow.vocabulary import Role

CHEF = email(Role.FORBUNDSCHEF)
SEKRETERARE = email(Role.SEKRETERARE)
PROJEKTAGARE = email(Role.PROJEKTAGARE)
ADMIN = email(Role.ADMIN)


def audit_count(world: World) -> int:
    with world.app.db.reading() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def rows(world: World, model: Any) -> int:
    with world.app.db.reading() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def frame(
    world: World, year: int, total: int, *, adopted: date, reserve: int = 0, admin: int = 0
) -> None:
    """A frame with a room for new insatser and one administration line."""
    budget.set_frame(
        world.app, year=year, total=total, adopted_on=adopted, actor_email=CHEF, forbund=world.slug
    )
    if reserve:
        budget.set_item(
            world.app,
            year=year,
            section="reserv",
            label="utrymme för nya insatser",
            amount=reserve,
            actor_email=CHEF,
            forbund=world.slug,
        )
    if admin:
        budget.set_item(
            world.app,
            year=year,
            section="administration",
            group="Tjänsteman",
            label="lön, resor, utb., telefon, data",
            amount=admin,
            actor_email=CHEF,
            forbund=world.slug,
        )


def decided(world: World, **values: Any) -> str:
    """An insats the board has granted in a § whose protocol is not yet justerat (state
    väntar justering): no budget lines yet, so amounts may be registered by hand
    (`budget.grant`). The § is decided even beyond a frame: these tests are about the frame."""
    ref = world.idea(**values)
    return drive_happy_path(world, ref, until="bifall", over_frame=True).ref


def granted(world: World, **values: Any) -> str:
    """An insats granted in a justerat protocol (state avtal): the § made its budget lines."""
    ref = world.idea(**values)
    return drive_happy_path(world, ref, until="justera").ref


def running(world: World, **values: Any) -> str:
    """Granted, avtal drawn up and signed, and started on its start date."""
    ref = granted(world, **values)
    sign_and_start(world, ref)
    assert world.show(ref).state == "pagaende"
    return ref
