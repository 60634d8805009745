"""Numbers people see, counted per förbund: diarienummer (one sequence per förbund and calendar
year, unique under concurrent registration) and the running number of its insatser and
meetings (ide-N, möte N), so that no förbund sees how much another does."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, select, update
from sqlmodel import Session

from workflow.models import DnrSequence, ForbundRef, Insats

_SEQUENCE = DnrSequence.__table__  # type: ignore[attr-defined]
_INSATS = Insats.__table__  # type: ignore[attr-defined]


@functools.cache
def _start_year(dialect: str) -> Any:
    """The year's first row, if missing, in the dialect's own upsert (imported when used: the
    PostgreSQL dialect is a tenth of a second that a SQLite command need not pay)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(_SEQUENCE).on_conflict_do_nothing()


# One atomic increment: two registrations can never read the same number.
_NEXT = (
    update(_SEQUENCE)
    .where(
        _SEQUENCE.c.forbund_id == bindparam("b_forbund_id"), _SEQUENCE.c.year == bindparam("b_year")
    )
    .values(last=_SEQUENCE.c.last + 1)
    .returning(_SEQUENCE.c.last)
)
_DNR_TAKEN = select(_INSATS.c.id).where(
    _INSATS.c.forbund_id == bindparam("forbund_id"), _INSATS.c.dnr == bindparam("dnr")
)


def _next_number(connection: Connection, forbund_id: int, year: int) -> int:
    connection.execute(
        _start_year(connection.dialect.name), {"forbund_id": forbund_id, "year": year, "last": 0}
    )
    return int(connection.execute(_NEXT, {"b_forbund_id": forbund_id, "b_year": year}).scalar_one())


def allocate_dnr(session: Session, forbund: ForbundRef, year: int) -> str:
    """The next free diarienummer of the year in the förbund's pattern."""
    assert forbund.id is not None
    connection = session.connection()
    while True:
        dnr = forbund.dnr_pattern.format(year=year, seq=_next_number(connection, forbund.id, year))
        taken = connection.execute(_DNR_TAKEN, {"forbund_id": forbund.id, "dnr": dnr}).first()
        if taken is None:  # a number entered by hand earlier is skipped, not reused
            return dnr


def reserve_numbers(session: Session, forbund: ForbundRef, year: int, last: int) -> None:
    """Start a year's sequence after `last` (numbers already used in an older diarium)."""
    assert forbund.id is not None
    row = session.get(DnrSequence, (forbund.id, year))
    if row is None:
        session.add(DnrSequence(forbund_id=forbund.id, year=year, last=last))
    else:
        row.last = max(row.last, last)
    session.flush()


def next_number(session: Session, table: Table, forbund_id: int) -> int:
    """The förbund's next running number in `table` (insats, meeting).

    The caller holds the förbund's chain lock (every change opens with begin_change), so no
    two transactions read the same highest number; the unique index is the last guard.
    """
    query = select(func.coalesce(func.max(table.c.number), 0)).where(
        table.c.forbund_id == forbund_id
    )
    return int(session.connection().execute(query).scalar_one()) + 1
