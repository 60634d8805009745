"""The budget page's table names the first insatser and sums the rest in "- Övriga N insatser"
reading only the named ones' lines: row for row the same table as the whole one (the XLSX's)
cut after the first N insatser, for any order of years, on both databases."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.funding_world import frame
from tests.support import World
from workflow.models import BudgetLine, Insats
from workflow.services.funding import budget_report
from workflow.services.funding.budget_report import LINE, BudgetReport, Row
from workflow.services.organisation.forbund import resolve_forbund

# (dnr, title, {year: granted tkr}), stored in this order so that the ids are not in dnr order:
# insatser of 2027 alone, of 2028 alone (first seen in the second year) and of both, one
# without a dnr (an idea's ref) and one whose title sorts before the others'.
INSATSER: list[tuple[str | None, str, dict[int, int]]] = [
    ("2026/007", "Arbetsträning", {2027: 70, 2028: 71}),
    ("2026/002", "Unga vuxna", {2027: 20}),
    ("2026/010", "Steget före", {2028: 100}),
    ("2026/001", "Återgång i arbete", {2027: 10, 2028: 11}),
    ("2026/005", "Kartläggning", {2028: 50}),
    (None, "Idé utan diarienummer", {2027: 5}),
    ("2026/003", "Aktivitetshuset", {2027: 30, 2028: 31}),
    ("2026/009", "Brobyggare", {2027: 90}),
    ("2026/004", "Familjecentral", {2028: 40}),
    ("2026/008", "Hälsoteamet", {2027: 80, 2028: 81}),
    ("2026/006", "Språkstöd", {2027: 60}),
    ("2026/011", "Inget beviljat i tabellens år", {2029: 1}),
]


@pytest.fixture
def grown(world: World) -> World:
    """Frames for 2026-2028 (2026 without lines) and the insatser's lines, straight into the
    tables: the table is about reading them."""
    for year in (2026, 2027, 2028):
        frame(world, year, 5000, adopted=date(year - 1, 11, 20), reserve=400, admin=300)
    now = world.clock()
    with world.app.db.transaction() as session:
        forbund = resolve_forbund(session, world.slug)
        for number, (dnr, title, lines) in enumerate(INSATSER, start=1):
            case = Insats(
                forbund_id=forbund.id,  # type: ignore[arg-type]
                number=number,
                dnr=dnr,
                title=title,
                inriktning="struktur" if number % 3 == 0 else "individ",
                state="pagaende",
                state_since=now,
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            session.flush()
            for year, tkr in lines.items():
                session.add(
                    BudgetLine(
                        forbund_id=forbund.id,  # type: ignore[arg-type]
                        insats_id=case.id,  # type: ignore[arg-type]
                        year=year,
                        granted_tkr=tkr,
                        decided_on=date(year - 1, 12, 1),
                        updated_at=now,
                    )
                )
    return world


TITLES = {f"- {title}" for _, title, _ in INSATSER}


def _cut(whole: BudgetReport, limit: int) -> tuple[list[Row], int]:
    """The whole table with its insatser after the first `limit` summed in one row, and how
    many that row sums."""
    at = [index for index, row in enumerate(whole.rows) if row.label in TITLES]
    first, end = at[0], at[-1] + 1
    assert at == list(range(first, end)), "the insatser's rows come together"
    insatser = whole.rows[first:end]
    rest = insatser[limit:]
    others = (
        [
            Row(
                f"- Övriga {len(rest)} insatser",
                LINE,
                {y: sum(row.values[y] or 0 for row in rest) for y in whole.years},
            )
        ]
        if rest
        else []
    )
    return whole.rows[:first] + insatser[:limit] + others + whole.rows[end:], len(rest)


def _figures(report: BudgetReport) -> list[dict[str, Any]]:
    """The figures of the years, leaving out the lines (the page does not read them)."""
    return [{**f.to_json(), "insatser": None} for f in report.figures]


def test_the_page_names_the_first_insatser_as_the_whole_table_does_and_sums_the_rest(
    grown: World,
) -> None:
    for years in ([2027, 2028], [2028, 2027], [2028], [2026, 2027, 2028]):
        whole = budget_report.build(grown.app, years=years, forbund=grown.slug)
        assert _cut(whole, 3)[1] > 3, "more insatser than the smaller limits"
        for limit in (0, 1, 3, 5, 8, 10, 11, 50):
            page = budget_report.build(grown.app, years=years, forbund=grown.slug, insatser=limit)
            rows, others = _cut(whole, limit)
            assert (page.rows, page.others) == (rows, others), (years, limit)
            assert page.years == whole.years
            assert _figures(page) == _figures(whole)


def test_an_insats_first_granted_in_the_second_year_keeps_its_place_there(
    grown: World,
) -> None:
    page = budget_report.build(grown.app, years=[2027, 2028], forbund=grown.slug, insatser=11)
    labels = [row.label[2:] for row in page.rows if row.label in TITLES]
    # 2027's insatser by dnr, those of both years among them, then those of 2028 alone; the
    # one without a dnr where the database puts no dnr among 2027's (first or last).
    idea = "Idé utan diarienummer"
    assert labels.index(idea) in (0, 7)
    assert [label for label in labels if label != idea] == [
        "Återgång i arbete",
        "Unga vuxna",
        "Aktivitetshuset",
        "Språkstöd",
        "Arbetsträning",
        "Hälsoteamet",
        "Brobyggare",
        "Familjecentral",
        "Kartläggning",
        "Steget före",
    ]
    values = {row.label[2:]: row.values for row in page.rows if row.label in TITLES}
    assert values["Arbetsträning"] == {2027: 70, 2028: 71}
    assert values["Kartläggning"] == {2027: 0, 2028: 50}
    assert page.others == 0
