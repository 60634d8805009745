"""The budget page's lines per year come a page at a time (keyset on the insatser's dnr), with
the year's sums over all its lines; the Finansiell ram workbook as before. TestClient on the
demo (both databases)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.web_support import ClientFactory
from workflow.app import App
from workflow.models import BudgetLine, Forbund, Insats
from workflow.services.cases import case_ref
from workflow.services.funding import budget
from workflow.vocabulary import Role

_ROW = re.compile(r'<span class="case-ref-cell">([^<]+)</span>')


def _section(html: str, year: int) -> str:
    found = re.search(rf'<section aria-labelledby="utfall-{year}">(.*?)</section>', html, re.S)
    assert found, f"no section for {year}"
    return found.group(1)


def _next(section: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">Nästa sida</a>', section)
    return found.group(1).replace("&amp;", "&") if found else None


def _lines_of(app: App, year: int) -> tuple[list[str], int]:
    """The year's lines in dnr order, and what they grant in all."""
    with app.db.reading() as session:
        akst = session.execute(select(Forbund.id).where(Forbund.slug == "akst")).scalar_one()
        rows = session.execute(
            select(Insats)
            .join(BudgetLine, BudgetLine.insats_id == Insats.id)
            .where(BudgetLine.year == year, BudgetLine.forbund_id == akst)
        ).scalars()
        refs = sorted((case_ref(c) for c in rows), key=lambda ref: ref.encode())
        total = session.execute(
            select(func.sum(BudgetLine.granted_tkr)).where(
                BudgetLine.year == year, BudgetLine.forbund_id == akst
            )
        ).scalar_one()
    return refs, int(total)


def test_a_years_lines_page_through_with_the_sum_of_the_whole_year(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "OUTCOME_PAGE", 2)
    chef = client_as(Role.FORBUNDSCHEF)
    expected, granted = _lines_of(demo_app, 2013)
    assert len(expected) > 4, "the demo should have lines enough for three pages"

    page = chef.get("/ekonomi/budget?ar=2013&ar=2014")
    assert page.status_code == 200
    seen: list[str] = []
    section = _section(page.text, 2013)
    first_2014 = _ROW.findall(_section(page.text, 2014))
    assert "Första sidan" not in section
    while True:
        rows = _ROW.findall(section)
        assert 1 <= len(rows) <= 2
        seen += rows
        # The sum is the whole year's, whichever page is shown.
        assert re.sub(
            r"\D", "", re.search(r"<tfoot>.*?<td>(.*?)</td>", section, re.S).group(1)
        ) == str(granted)
        link = _next(section)
        if link is None:
            break
        assert "utfall=2013" in link and "ar=2014" in link
        page = chef.get(link.split("#")[0])
        assert page.status_code == 200
        section = _section(page.text, 2013)
        assert "Första sidan" in section
        # Paging 2013 leaves 2014 at its first page.
        assert _ROW.findall(_section(page.text, 2014)) == first_2014
    assert seen == expected


def test_a_mangled_cursor_or_a_year_not_shown_is_refused_in_one_sentence(
    client_as: ClientFactory,
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    bad = chef.get("/ekonomi/budget?ar=2013&utfall=2013&efter=inte-en-markor")
    assert bad.status_code == 400
    assert "Ogiltig sidmarkör" in bad.text and "--after" not in bad.text
    other = chef.get("/ekonomi/budget?ar=2013&utfall=2019&efter=x")
    assert other.status_code == 400
    assert "År 2019 visas inte i tabellen" in other.text


def test_the_lines_of_a_year_take_as_many_queries_for_many_insatser_as_for_few(
    demo_app: App,
) -> None:
    from tests.test_read_paths import statements

    with statements(demo_app) as seen:
        budget.outcomes(
            demo_app, years=[2013], viewer_email="chef@akst.example", forbund="akst", limit=2
        )
    few = len(seen)
    with statements(demo_app) as seen:
        budget.outcomes(
            demo_app, years=[2013], viewer_email="chef@akst.example", forbund="akst", limit=50
        )
    assert len(seen) == few


def test_the_page_names_at_most_so_many_insatser_and_sums_the_others(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflow.services.funding import budget_report

    whole = budget_report.build(demo_app, years=[2013, 2014], forbund="akst")
    named = [r for r in whole.rows if r.label.startswith("- ") and r.kind == budget_report.LINE]
    cut = budget_report.build(demo_app, years=[2013, 2014], forbund="akst", insatser=2)
    assert cut.others > 0
    other = next(r for r in cut.rows if r.label == f"- Övriga {cut.others} insatser")
    # The named ones and the others' row add up to what the whole table grants per year.
    first = whole.rows.index(named[0])
    insatser = whole.rows[first : first + 2 + cut.others]
    for year in (2013, 2014):
        assert sum(r.values.get(year) or 0 for r in insatser[2:]) == other.values[year]
    # Everything after the insatser is the same.
    assert cut.rows[-20:] == whole.rows[-20:]

    monkeypatch.setattr(budget_report, "PAGE_INSATSER", 2)
    html = client_as(Role.FORBUNDSCHEF).get("/ekonomi/budget?ar=2013&ar=2014").text
    assert f"- Övriga {cut.others} insatser" in html and "Excelfilen namnger var och en" in html


def test_a_years_lines_show_what_is_paid_of_each_as_the_insats_shows_it(demo_app: App) -> None:
    [year] = budget.outcomes(
        demo_app, years=[2013], viewer_email="chef@akst.example", forbund="akst", limit=500
    )
    paid = {line.ref: line.paid_tkr for line in year.lines}
    assert any(paid.values()), "the demo should have payments made in 2013"
    for ref, tkr in paid.items():
        [line] = [v for v in budget.lines_of(demo_app, ref=ref, forbund="akst") if v.year == 2013]
        assert line.paid_tkr == tkr, ref
