"""Diarienummer: one sequence per förbund and calendar year, unique under concurrent registration."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from workflow.models import DnrSequence, Forbund, Insats


def _next_number(session: Session, forbund_id: int, year: int) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(DnrSequence)
        .values(forbund_id=forbund_id, year=year, last=0)
        .on_conflict_do_nothing()
    )
    # One atomic increment: two registrations can never read the same number.
    return session.execute(
        update(DnrSequence)
        .where(col(DnrSequence.forbund_id) == forbund_id, col(DnrSequence.year) == year)
        .values(last=col(DnrSequence.last) + 1)
        .returning(col(DnrSequence.last))
    ).scalar_one()


def allocate_dnr(session: Session, forbund: Forbund, year: int) -> str:
    """The next free diarienummer of the year in the förbund's pattern."""
    assert forbund.id is not None
    while True:
        dnr = forbund.dnr_pattern.format(year=year, seq=_next_number(session, forbund.id, year))
        taken = session.exec(
            select(Insats.id).where(Insats.forbund_id == forbund.id, Insats.dnr == dnr)
        ).first()
        if taken is None:  # a number entered by hand earlier is skipped, not reused
            return dnr


def reserve_numbers(session: Session, forbund: Forbund, year: int, last: int) -> None:
    """Start a year's sequence after `last` (numbers already used in an older diarium)."""
    assert forbund.id is not None
    row = session.get(DnrSequence, (forbund.id, year))
    if row is None:
        session.add(DnrSequence(forbund_id=forbund.id, year=year, last=last))
    else:
        row.last = max(row.last, last)
    session.flush()
