"""The Uppföljning page's totals per year, added up by the database: per insats and year the
latest approved report's counts (never added across the reports of a year), only for the
insatser with a budget line that year; the same as adding up the reports one by one, on
both databases."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from tests.funding_world import CHEF
from tests.support import TravelClock
from tests.test_read_paths import _grown
from workflow.app import App
from workflow.models import Agreement, BudgetLine, Insats, Report
from workflow.services.funding import uppfoljning

# Reports added to _grown's (an approved delår ending 2027-06-30 and a helår waiting, per
# insats), by insats number: (period end, status, women, men, other).
MORE: dict[int, list[tuple[date, str, int | None, int | None, int | None]]] = {
    # A later approved helår replaces the delår's counts.
    1: [(date(2027, 12, 31), "godkand", 40, 41, 2)],
    # Two approved reports ending the same day: the one recorded last counts.
    2: [(date(2027, 9, 30), "godkand", 5, 6, None), (date(2027, 9, 30), "godkand", 7, 8, 1)],
    # An approved report of 2028, a year it has a line in, and one of 2029, where it has none.
    3: [(date(2028, 6, 30), "godkand", 11, 12, 3), (date(2029, 6, 30), "godkand", 99, 99, 99)],
    # A later report sent back does not count; nor counts left out (None) add anything.
    4: [
        (date(2027, 11, 30), "komplettering", 70, 70, 70),
        (date(2028, 3, 31), "godkand", None, 4, None),
    ],
    # An approved report of 2028, while others have lines that year and it has none.
    6: [(date(2028, 6, 30), "godkand", 50, 50, 50)],
}
LINES_2028 = {3: 300, 4: 400, 5: 500}


def _reference(app: App, year: int | None) -> dict[int, dict[str, int]]:
    """The totals added up in Python, report by report."""
    with app.db.reading() as session:
        lines = session.exec(select(BudgetLine.insats_id, BudgetLine.year)).all()
        reports = session.exec(select(Report).where(Report.status == "godkand")).all()
    latest: dict[tuple[int, int], Report] = {}
    for report in reports:
        key = (report.insats_id, report.period_end.year)
        if key not in latest or (report.period_end, report.id) > (  # type: ignore[operator]
            latest[key].period_end,
            latest[key].id,
        ):
            latest[key] = report
    totals: dict[int, dict[str, int]] = {}
    for insats_id, line_year in lines:
        if year is not None and line_year != year:
            continue
        per = totals.setdefault(line_year, {"insatser": 0, "kvinnor": 0, "man": 0, "ovriga": 0})
        per["insatser"] += 1
        counted = latest.get((insats_id, line_year))
        if counted is not None:
            per["kvinnor"] += counted.participants_women or 0
            per["man"] += counted.participants_men or 0
            per["ovriga"] += counted.participants_other or 0
    return dict(sorted(totals.items()))


def test_the_totals_count_each_insats_years_latest_approved_report_once(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 6)
    now = clock()
    with app.db.transaction() as session:
        cases = {c.number: c for c in session.exec(select(Insats))}
        agreements = {a.insats_id: a for a in session.exec(select(Agreement))}
        for number, reports in MORE.items():
            case = cases[number]
            for end, status, women, men, other in reports:
                session.add(
                    Report(
                        forbund_id=case.forbund_id,
                        insats_id=case.id,  # type: ignore[arg-type]
                        agreement_id=agreements[case.id].id,  # type: ignore[arg-type, index]
                        kind="delar",
                        period_start=date(end.year, 1, 1),
                        period_end=end,
                        due_on=end,
                        status=status,
                        participants_women=women,
                        participants_men=men,
                        participants_other=other,
                        updated_at=now,
                    )
                )
                session.flush()  # ids in the order listed: the tie goes to the later
        for number, tkr in LINES_2028.items():
            session.add(
                BudgetLine(
                    forbund_id=cases[number].forbund_id,
                    insats_id=cases[number].id,  # type: ignore[arg-type]
                    year=2028,
                    granted_tkr=tkr,
                    decided_on=date(2027, 12, 1),
                    updated_at=now,
                )
            )
    every = uppfoljning.overview(app, viewer_email=CHEF, forbund="test", limit=2).totals
    assert every == _reference(app, None)
    assert every[2027]["kvinnor"] == 40 + 7 + 2 + 3 + 4 + 5 and every[2028]["ovriga"] == 3
    assert sorted(every) == [2027, 2028], "no line in 2029: its report is not counted"
    for year in (2027, 2028, 2029):
        totals = uppfoljning.overview(app, viewer_email=CHEF, forbund="test", year=year).totals
        assert totals == _reference(app, year)
