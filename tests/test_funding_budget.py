"""The förbund's budget frame: seed 004 reproduced, the room for new insatser, the frame
warning, the FINSAM split of contributions, the report as CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.funding_world import CHEF, SEKRETERARE, audit_count, decided, frame, rows
from tests.support import World
from workflow.app import App
from workflow.errors import BadInput
from workflow.models import BudgetLine
from workflow.services.funding import budget, budget_report


def row_values(report: budget_report.BudgetReport, label: str) -> dict[int, int | None]:
    return next(r.values for r in report.rows if r.label == label)


def test_demo_reproduces_seed_004s_financial_frame_for_2013_and_2014(demo_app: App) -> None:
    report = budget_report.build(demo_app, years=[2013, 2014], forbund="akst")
    assert row_values(report, "Finansiell ram") == {2013: 6340, 2014: 6340}
    # 2013 got the 100 tkr left from 2012; 2014 gets 2013's result.
    assert row_values(report, "Överskott från föregående år") == {2013: 100, 2014: 295}
    assert row_values(report, "Total summa") == {2013: 6145, 2014: 6410}
    assert row_values(report, "Över-/underskott +/-") == {2013: 295, 2014: 225}
    assert row_values(report, "Total budget (ram + överskott)") == {2013: 6440, 2014: 6635}
    # Every line of the seed table, as granted from the bifall or kept as a frame item.
    seed = {
        "- Utgångspunkten": (1500, 750),
        "- Ale Teamet": (1160, 1218),
        "- Stenungsunds/Tjörns Teamet": (1405, 1475),
        "- Jordhammars Växtkraft": (327, 200),
        "- motiverande insatser": (100, 100),
        "- träningsplatser (Kungälv/Ale)": (205, 215),
        "- Föreningspool Tjörn": (115, 120),
        "- information": (30, 35),
        "- föreläsningar": (10, 10),
        "- utbildningsinsatser (exkl. utb. i projekt)": (40, 45),
        "- FYSS/FaR": (10, 10),
        "- ESF-projekt Exsistre": (123, 60),
        # The VP kept 1 000 tkr for new insatser in 2014; the board granted 400 of it to a new
        # insats on 28 November 2013 (demo), so 600 are left and the total stays the seed's.
        "- utrymme för nya insatser": (0, 600),
        "- Arbetsträning i sociala företag": (0, 400),
        "Utvärdering": (0, 0),
        "- lön, resor, utb., telefon, data": (810, 850),
        "- Arvoden samt andra ersättningar": (130, 137),
        "- Övriga omkostnader, resor, utbildning, konferenser, förtäring vid styrelsemöte m.m.": (
            30,
            30,
        ),
        "Köp av Ekonomiadministration": (60, 65),
        "Köp av SUS-insats och gemensam information i VG": (40, 40),
        "Kostnad för revisorer": (50, 50),
    }
    for label, (y13, y14) in seed.items():
        assert row_values(report, label) == {2013: y13, 2014: y14}, label
    cost_rows = [r for r in report.rows if r.kind == "rad"][2:]
    cost_rows = cost_rows[: len(seed)]
    assert sum(r.values[2013] or 0 for r in cost_rows) == 6145
    assert sum(r.values[2014] or 0 for r in cost_rows) == 6410
    # Parter / Bidrag: FK/AF half, the region a quarter, the kommuner a quarter together.
    figs = {f.year: f for f in report.figures}
    shares = {c["share"]: 0 for c in figs[2013].contributions}
    for c in figs[2013].contributions:
        shares[c["share"]] += c["tkr"]
    assert shares == {"stat": 3170, "region": 1585, "kommun": 1585}
    # The 600 still kept for new insatser after the 28 Nov 2013 grant, + 225 left over.
    assert figs[2014].room_for_new_tkr == 825
    # The grants are those of each seed insats's bifall, with its §.
    lines = budget.lines_of(demo_app, ref="2012/011-01", forbund="akst")
    assert [(v.year, v.granted_tkr, v.decision_paragraph) for v in lines] == [
        (2013, 1500, "§ 45"),
        (2014, 750, "§ 45"),
    ]


def test_budget_report_as_xlsx_and_csv_carries_the_seed_totals(
    demo_app: App, tmp_path: Path
) -> None:
    report = budget_report.build(demo_app, years=[2013, 2014], forbund="akst")
    path = tmp_path / "budget.xlsx"
    path.write_bytes(budget_report.to_xlsx(report))
    sheet = load_workbook(path)["Finansiell ram"]
    values = {row[0]: row[1:] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert values["Finansiell ram"] == (6340, 6340)
    assert values["Total summa"] == (6145, 6410)
    assert values["Över-/underskott +/-"] == (295, 225)
    # The cost lines between the surplus and the total add up to the total in the sheet too.
    labels = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]
    costs = labels[labels.index("Insatser") + 1 : labels.index("Total summa")]
    assert sum(values[label][0] or 0 for label in costs) == 6145
    assert sum(values[label][1] or 0 for label in costs) == 6410
    # The same report as CSV for spreadsheets: one column per year.
    table = list(csv.reader(io.StringIO(budget_report.to_csv(report)), delimiter=";"))
    assert table[0] == ["Rad", "Typ", "2013", "2014"]
    by_label = {r[0]: r[2:] for r in table[1:]}
    assert by_label["Total summa"] == ["6145", "6410"]
    assert by_label["Över-/underskott +/-"] == ["295", "225"]


def test_a_year_asked_for_twice_is_one_column_with_each_grant_once(demo_app: App) -> None:
    twice = budget_report.build(demo_app, years=["2013", 2013, " 2013"], forbund="akst")
    once = budget_report.build(demo_app, years=[2013], forbund="akst")
    assert twice.years == [2013]
    assert row_values(twice, "- Utgångspunkten") == {2013: 1500}
    assert [(r.label, r.values) for r in twice.rows] == [(r.label, r.values) for r in once.rows]
    assert budget_report.to_csv(twice) == budget_report.to_csv(once)


def test_a_grant_beyond_the_room_is_refused_with_a_warning_and_nothing_written(
    world: World,
) -> None:
    frame(world, 2027, 1000, adopted=date(2026, 1, 15), reserve=300, admin=200)
    assert budget.figures(world.app, years=[2027], forbund="test")[0].room_for_new_tkr == 800
    ref = decided(world)
    before = audit_count(world)
    with pytest.raises(BadInput, match=r"överskrider ramen för 2027 med 100 tkr.*--over-frame"):
        budget.grant(
            world.app, ref=ref, amounts={"2027": 900}, actor_email=SEKRETERARE, forbund="test"
        )
    assert rows(world, BudgetLine) == 0
    assert audit_count(world) == before
    # Confirmed, it is recorded with the warning, and the report shows the deficit.
    result = budget.grant(
        world.app,
        ref=ref,
        amounts={"2027": 900},
        actor_email=SEKRETERARE,
        forbund="test",
        over_frame=True,
    )
    assert any("överskrider ramen för 2027" in w for w in result.warnings)
    fig = budget.figures(world.app, years=[2027], forbund="test")[0]
    assert (fig.result_tkr, fig.reserve_left_tkr) == (-100, 0)
    assert any("överskrider ramen" in w for w in fig.warnings)


def test_a_grant_within_the_room_uses_the_room_kept_for_new_insatser_first(world: World) -> None:
    frame(world, 2027, 1000, adopted=date(2026, 1, 15), reserve=300, admin=200)
    ref = decided(world)
    result = budget.grant(
        world.app,
        ref=ref,
        amounts={"2027": 500, "2028": 400},
        actor_email=SEKRETERARE,
        forbund="test",
    )
    # 2028 has no frame yet: said, not refused.
    assert result.warnings == ["ingen budgetram för 2028 ännu; beloppet prövas när ramen finns"]
    fig = budget.figures(world.app, years=[2027], forbund="test")[0]
    assert (fig.reserve_left_tkr, fig.costs_tkr, fig.result_tkr, fig.room_for_new_tkr) == (
        0,
        700,
        300,
        300,
    )
    report = budget_report.build(world.app, years=[2027], forbund="test")
    assert row_values(report, "- utrymme för nya insatser") == {2027: 0}
    assert row_values(report, "- Gemensamt stöd för unga vuxna") == {2027: 500}


def test_a_grant_that_eats_next_years_carried_surplus_is_refused(world: World) -> None:
    # 2027 leaves 300 tkr that 2028 needs: granting more in 2027 makes 2028 go negative.
    frame(world, 2027, 1000, adopted=date(2026, 1, 15), admin=700)
    frame(world, 2028, 1000, adopted=date(2026, 1, 15), admin=1200)
    assert budget.figures(world.app, years=[2028], forbund="test")[0].result_tkr == 100
    ref = decided(world)
    with pytest.raises(BadInput, match="ramen för 2028 med 50 tkr"):
        budget.grant(
            world.app, ref=ref, amounts={"2027": 150}, actor_email=SEKRETERARE, forbund="test"
        )


def test_individual_and_structural_costs_are_shown_against_the_national_pattern(
    world: World,
) -> None:
    frame(world, 2027, 2000, adopted=date(2026, 1, 15))
    budget.set_item(
        world.app,
        year=2027,
        section="insatser",
        label="information",
        amount=100,
        inriktning="struktur",
        actor_email=CHEF,
        forbund="test",
    )
    ref = decided(world)
    budget.grant(world.app, ref=ref, amounts={"2027": 400}, actor_email=SEKRETERARE, forbund="test")
    fig = budget.figures(world.app, years=[2027], forbund="test")[0]
    assert (fig.individ_tkr, fig.struktur_tkr, fig.individ_percent) == (400, 100, 80)
    assert fig.national_individ_percent == 80


def test_kommuner_share_their_quarter_as_configured(db_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.support import build_world
    from workflow.settings import load_settings

    settings = load_settings(
        database_url=db_url, funding={"kommun_split": {"Kungälvs kommun": 3, "Ale kommun": 1}}
    )
    application = App.create(settings, clock=clock)
    try:
        world = build_world(application, clock)
        fig = budget.set_frame(
            application, year=2027, total=1000, actor_email=CHEF, forbund=world.slug
        )
        assert {c["label"]: c["tkr"] for c in fig.contributions} == {
            "Försäkringskassan/Arbetsförmedlingen": 500,
            "Region Test": 250,
            "Kungälvs kommun": 188,
            "Ale kommun": 62,
        }
    finally:
        application.close()


def test_a_negative_amount_is_refused_and_nothing_written(world: World) -> None:
    frame(world, 2027, 1000, adopted=date(2026, 1, 15))
    ref = decided(world)
    before = audit_count(world)
    with pytest.raises(BadInput, match="negativt"):
        budget.grant(
            world.app, ref=ref, amounts={"2027": "-5"}, actor_email=SEKRETERARE, forbund="test"
        )
    with pytest.raises(BadInput, match="negativt"):
        budget.set_frame(world.app, year=2028, total=-1, actor_email=CHEF, forbund="test")
    with pytest.raises(BadInput, match="negativt"):
        budget.set_item(
            world.app,
            year=2027,
            section="insatser",
            label="x",
            amount=-3,
            actor_email=CHEF,
            forbund="test",
        )
    assert rows(world, BudgetLine) == 0
    assert audit_count(world) == before


def test_two_grants_at_once_cannot_both_spend_the_same_room(world: World) -> None:
    import threading

    from workflow.errors import FinsamError

    frame(world, 2027, 1000, adopted=date(2026, 1, 15), reserve=300, admin=200)  # room 800
    refs = [decided(world), decided(world)]
    outcomes: list[str] = []

    def grant(ref: str) -> None:
        try:
            budget.grant(
                world.app, ref=ref, amounts={"2027": 600}, actor_email=SEKRETERARE, forbund="test"
            )
            outcomes.append("beviljad")
        except FinsamError as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=grant, args=(ref,)) for ref in refs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["BadInput", "beviljad"]
    assert rows(world, BudgetLine) == 1
    assert budget.figures(world.app, years=[2027], forbund="test")[0].result_tkr == 200
