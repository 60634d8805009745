"""Helpers for the funding tests: a förbund with a frame, and insatser granted by the board."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import func, select

from tests.support import World, drive_happy_path, email
from workflow.models import AuditEvent
from workflow.services.funding import agreements, budget
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
    """An insats the board granted and whose protocol is justerat (state avtal)."""
    ref = world.idea(**values)
    return drive_happy_path(world, ref, until="justera").ref


def granted(world: World, amounts: dict[str, int] | None = None, **values: Any) -> str:
    ref = decided(world, **values)
    budget.grant(world.app, ref=ref, amounts=amounts, actor_email=SEKRETERARE, forbund=world.slug)
    return ref


def running(world: World, **values: Any) -> str:
    """Granted, avtal drawn up and signed, and started on its start date."""
    ref = granted(world, **values)
    agreements.create(world.app, ref=ref, actor_email=CHEF, forbund=world.slug)
    today = world.clock.now.date()
    agreements.sign(
        world.app,
        ref=ref,
        actor_email=CHEF,
        forbund=world.slug,
        forbund_signed_on=today,
        owner_signed_on=today,
    )
    start = world.show(ref).start
    assert start is not None
    world.clock.set(start)
    agreements.start_due(world.app, actor_email=CHEF, forbund=world.slug)
    assert world.show(ref).state == "pagaende"
    return ref
