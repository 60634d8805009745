"""The clock is injected so that tests can travel in time; read it once per operation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock that always answers `at` (aware; naive values are read as Stockholm time)."""
    aware = at if at.tzinfo else at.replace(tzinfo=STOCKHOLM)
    frozen = aware.astimezone(UTC)
    return lambda: frozen


def as_utc(value: datetime) -> datetime:
    """Databases may hand back naive UTC (SQLite); make it aware again."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local(value: datetime, zone: ZoneInfo = STOCKHOLM) -> datetime:
    return as_utc(value).astimezone(zone)


def local_date(value: datetime, zone: ZoneInfo = STOCKHOLM) -> date:
    return local(value, zone).date()


def show(value: datetime | None, zone: ZoneInfo = STOCKHOLM) -> str:
    """Human form used in tables: 2013-11-28 14:05 in Swedish local time."""
    return "" if value is None else local(value, zone).strftime("%Y-%m-%d %H:%M")
