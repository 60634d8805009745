"""The funding pages' sums and pages come from their indexes (issue 15, migration
0030_funding_read_indexes), on both databases: the budget lines' sums and counts from the
index by förbund and year, not from every line of the förbund; the Uppföljning page's
participant counts from the approved reports' index; the review table's reports by due date,
a page sorting only the days it reaches. The figures are those of the tests beside
(test_uppfoljning_totals.py, test_budget_page_table.py, test_review_paging.py); these say how
they are read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tests.funding_world import CHEF
from tests.support import TravelClock, query_plan, sent_statements
from tests.test_read_paths import _grown
from workflow.app import App
from workflow.services.funding import budget, budget_report, reports, uppfoljning

TABLES = ("insats", "budget_line", "report", "uppfoljning_record")


def _vacuumed(app: App) -> None:
    """PostgreSQL's statistics and visibility map as autovacuum keeps them: without the map an
    index-only scan costs as much as reading the table, and the planner of a table of a few
    dozen rows rightly takes the smallest index instead."""
    if app.db.engine.dialect.name == "postgresql":
        autocommit = app.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with autocommit as connection:
            connection.exec_driver_sql(f"VACUUM ANALYZE {', '.join(TABLES)}")


def _plans(app: App, read: Callable[[], Any], starts: str, *avoid: str) -> list[str]:
    """The plans of the statements starting with `starts` that `read` sends (at least one)."""
    _vacuumed(app)
    with sent_statements(app, starts) as seen:
        read()
    assert seen, f"no statement starts with {starts!r}"
    avoiding = ("enable_seqscan", "enable_bitmapscan", *avoid)
    return [query_plan(app, *sent, avoiding, analyze=TABLES) for sent in seen]


def test_the_uppfoljning_page_counts_lines_and_reads_counts_from_their_indexes(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 30)

    def page() -> Any:
        return uppfoljning.overview(app, viewer_email=CHEF, forbund="test", limit=5)

    found = page()
    assert found.totals[2027]["insatser"] == 30
    assert found.totals[2027]["kvinnor"] == sum(range(30))
    # Each year's number of insatser with a line: the lines' own förbund, no insats read.
    for plan in _plans(app, page, "SELECT budget_line.year, count(*)"):
        assert "ix_budget_line_forbund_year" in plan, plan
        assert "insats" not in plan.replace("ix_budget_line_forbund_year", ""), plan
    # The totals: every approved report of the förbund, from their partial index alone.
    # In the index's order (insats, period end, number): nothing sorted but the years.
    for plan in _plans(app, page, "SELECT anon_1.year"):
        assert "ix_report_approved" in plan, plan
        assert "ix_report_status" not in plan, plan
        assert "ORDER BY" not in plan and "Sort Key: report" not in plan, plan
    # The page's counts: its insatser's approved reports, found by insats (on SQLite from the
    # partial index; PostgreSQL may take the index on insats_id for so few), not among every
    # approved report of every förbund through the index on status.
    for plan in _plans(app, page, "SELECT report.insats_id"):
        assert "ix_report_status" not in plan, plan
        if app.db.engine.dialect.name == "sqlite":
            assert "ix_report_approved" in plan, plan


def test_the_budget_pages_sums_read_the_lines_index_and_its_lines_walk_the_insatser(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 30)

    def table() -> Any:
        return budget_report.build(app, years=[2027], forbund="test", insatser=2)

    def outcomes() -> Any:
        return budget.outcomes(app, years=[2027], viewer_email=CHEF, forbund="test", limit=5)

    # The sums per year: every line of the year from the index by förbund and year, and the
    # year's granted, utfall and prognos; no line's insats looked up for its inriktning (the
    # insatser not individinriktade are added up apart, from the insatser).
    for starts in ("SELECT budget_line.year, CAST(NULL", "SELECT coalesce(sum"):
        for plan in _plans(app, lambda: (table(), outcomes()), starts):
            assert "ix_budget_line_forbund_year" in plan, plan
            # SQLite's look-up by rowid, PostgreSQL's by a parameter of a nested loop.
            assert "INTEGER PRIMARY KEY" not in plan and "(id = budget_line" not in plan, plan
    # A page of the year's lines still walks the förbund's insatser by dnr and stops at the
    # page's end: the new index by year does not make it sort every line of the year.
    for plan in _plans(app, outcomes, "SELECT budget_line.id", "enable_sort"):
        assert "ix_budget_line_forbund_year" not in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_the_review_table_reads_the_reports_by_due_date_and_sorts_only_its_ids(
    app: App, clock: TravelClock
) -> None:
    _grown(app, clock, 30)
    after = None
    refs = []
    for _ in range(3):
        with sent_statements(app, "SELECT report.id") as seen:
            page = reports.table(app, viewer_email=CHEF, forbund="test", after=after, limit=4)
        assert len(seen) == 1, seen
        statement, parameters = seen[0]
        # The page's report numbers in the order, then their rows: one statement.
        assert "IN (SELECT report.id" in statement, statement
        plan = query_plan(app, statement, parameters, analyze=TABLES)
        assert "ix_report_forbund_due" in plan, plan
        refs += [item.ref for item in page.items]
        after = page.next_after
        assert after is not None
    every = reports.table(app, viewer_email=CHEF, forbund="test", limit=500).items
    assert refs == [item.ref for item in every][: len(refs)]


def test_the_years_sums_in_sql_are_the_sums_of_the_lines_per_inriktning(
    app: App, clock: TravelClock
) -> None:
    """The budget page's sums (named_figures: the database adds up the lines, those not
    individinriktade apart) are the figures of the lines read one by one (figures)."""
    _grown(app, clock, 30)  # every third insats strukturinriktad
    summed, _named = budget.named_figures(app, years=[2027], limit=2, forbund="test")
    [read] = budget.figures(app, years=[2027], forbund="test")
    assert read.insatser and summed[0].insatser == []
    assert summed[0].individ_tkr > 0 and summed[0].struktur_tkr > 0
    assert summed[0].struktur_tkr == sum(100 + n for n in range(0, 30, 3))
    assert [replace(summed[0], insatser=read.insatser)] == [read]
