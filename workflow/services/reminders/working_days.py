"""Swedish working days: a reminder that falls on a weekend or a holiday goes out the day before."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

# Midsommarafton, julafton and nyårsafton are not public holidays in law, but offices are
# closed and working-time law treats them as Sundays; nobody reads a reminder sent then.
_EVES = ((12, 24), (12, 31))


@lru_cache(maxsize=64)
def _closed_days(year: int) -> frozenset[date]:
    days = set(holidays.country_holidays("SE", years=year).keys())
    days.update(date(year, month, day) for month, day in _EVES)
    # Midsommarafton is the Friday between 19 and 25 June.
    days.update(d for d in (date(year, 6, 19) + timedelta(n) for n in range(7)) if d.weekday() == 4)
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _closed_days(day.year)


def working_day_on_or_before(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def working_day_on_or_after(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def reminder_day(planned: date, due_on: date) -> date:
    """The working day a reminder planned for `planned` goes out: the working day before,
    except that a reminder about lateness must not leave before the thing is actually late
    (an 'overdue' note on 1 January would otherwise go out on 30 December)."""
    before = working_day_on_or_before(planned)
    if planned > due_on >= before:
        return working_day_on_or_after(planned)
    return before
