"""The reports an avtal asks for, from its period and the förbund's defaults ([funding]):
a delårsrapport and a helårsrapport on fixed days of every year the insats runs past them,
and a slutrapport some months after the end."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from workflow.settings import FundingSettings

KIND_LABELS = {
    "lages": "lägesrapport",
    "delar": "delårsrapport",
    "helar": "helårsrapport",
    "slut": "slutrapport",
}


@dataclass(frozen=True)
class PlannedReport:
    kind: str
    period_start: date
    period_end: date
    due_on: date


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (2014-11-30 + 3 = 2015-02-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _on(year: int, month_day: str) -> date:
    month, day = (int(p) for p in month_day.split("-"))
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def plan(start: date, end: date, settings: FundingSettings) -> list[PlannedReport]:
    planned: list[PlannedReport] = []
    for year in range(start.year, end.year + 1):
        year_start = max(start, date(year, 1, 1))
        for kind, month_day in (("delar", settings.delar_due), ("helar", settings.helar_due)):
            due = _on(year, month_day)
            # A report day on or after the end is covered by the slutrapport.
            if start <= due < end:
                planned.append(PlannedReport(kind, year_start, due, due))
    planned.append(
        PlannedReport("slut", start, end, add_months(end, settings.slut_months_after_end))
    )
    return sorted(planned, key=lambda p: (p.due_on, p.kind))
