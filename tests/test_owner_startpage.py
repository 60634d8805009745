"""A project owner's start page stays one page however many insatser the person owns: the
running insatser first, at most OWNER_INSATSER, with a link to the case list of all of them;
the reports due soonest, at most OWNER_REPORTS, saying how many there are in all. TestClient
on the demo (both databases); the extra insatser are copies of the demo's own, written straight
into the tables (the figures are about reading)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from tests.support import query_plan, sent_statements
from tests.test_read_paths import statements
from tests.web_support import ClientFactory
from workflow.app import App
from workflow.models import Insats, Report
from workflow.services.funding import reports
from workflow.vocabulary import Role

OWNER = "projektagare@akst.example"
RUNNING = "2025/002-01"  # the demo owner's running insats, with owed reports


def _copies(app: App, running: int, closed: int) -> None:
    """`running` copies of RUNNING still running and `closed` ended ones, each with one owed
    report due two weeks after the demo's day."""
    insats, report = Insats.__table__, Report.__table__  # type: ignore[attr-defined]
    with app.db.transaction() as session:
        conn = session.connection()
        model = conn.execute(select(insats).where(insats.c.dnr == RUNNING)).mappings().one()
        owed = (
            conn.execute(
                select(report).where(report.c.insats_id == model["id"]).order_by(report.c.id)
            )
            .mappings()
            .first()
        )
        assert owed is not None
        top = conn.execute(select(func.max(insats.c.number))).scalar_one()
        for n in range(running + closed):
            row: dict[str, Any] = {k: v for k, v in model.items() if k != "id"}
            row.update(
                number=top + n + 1,
                dnr=f"2030/{n + 1:03d}-01",
                title=f"Kopia {n + 1}",
                state="pagaende" if n < running else "avslutad_implementerad",
            )
            new_id = conn.execute(insert(insats).values(**row)).inserted_primary_key[0]
            copy = {k: v for k, v in owed.items() if k != "id"}
            copy.update(
                insats_id=new_id, status="vantar", due_on=owed["due_on"].replace(2026, 12, 15)
            )
            conn.execute(insert(report).values(**copy))


def _shown_refs(html: str) -> list[str]:
    insatser = html.split('id="insatser-rubrik"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-ref="([^"]+)">', insatser)


def test_an_owner_of_many_insatser_sees_the_running_ones_first_and_a_link_to_all(
    client_as: ClientFactory, demo_app: App
) -> None:
    _copies(demo_app, running=30, closed=5)
    owner = client_as(Role.PROJEKTAGARE)
    page = owner.get("/")
    assert page.status_code == 200
    shown = _shown_refs(page.text)
    assert len(shown) == reports.OWNER_INSATSER
    # Running ones first, in dnr order: the demo's two, then the copies; no ended copy.
    assert shown[:2] == ["2012/011-01", RUNNING]
    assert shown[2:] == [f"2030/{n:03d}-01" for n in range(1, reports.OWNER_INSATSER - 1)]
    link = re.search(r'<a href="([^"]+)">Visa alla dina 37 insatser</a>', page.text)
    assert link, "no link to all of the owner's insatser"
    listing = owner.get(unescape(link.group(1)))
    assert listing.status_code == 200
    assert "37 ärenden" in listing.text
    assert "2030/035-01" in listing.text or "Nästa sida" in listing.text


def test_the_reports_due_soonest_are_shown_and_how_many_there_are(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _copies(demo_app, running=30, closed=5)
    monkeypatch.setattr(reports, "OWNER_REPORTS", 10)
    found = reports.owner_overview(demo_app, viewer_email=OWNER, forbund="akst")
    # The demo's five late or due (2012/011-01's two from 2014, RUNNING's three up to
    # 31 December), the 30 running copies' one each; none of the ended copies'.
    assert found.reports_total == 35
    assert len(found.reports) == 10
    dues = [r.due_on for r in found.reports]
    assert dues == sorted(dues) and all(r.ref != "2030/031-01" for r in found.reports)
    page = client_as(Role.PROJEKTAGARE).get("/")
    assert "De 10 som ska lämnas först visas, av 35." in page.text


def test_the_owners_start_page_reads_as_many_statements_for_many_insatser_as_for_two(
    demo_app: App,
) -> None:
    with statements(demo_app) as seen:
        reports.owner_overview(demo_app, viewer_email=OWNER, forbund="akst")
    few = len(seen)
    _copies(demo_app, running=30, closed=5)
    with statements(demo_app) as seen:
        reports.owner_overview(demo_app, viewer_email=OWNER, forbund="akst")
    # One more: with more reports than a page shows, they are counted.
    assert len(seen) <= few + 1


def test_with_few_running_the_closed_follow_in_dnr_order(
    client_as: ClientFactory, demo_app: App
) -> None:
    _copies(demo_app, running=3, closed=25)
    found = reports.owner_overview(demo_app, viewer_email=OWNER, forbund="akst")
    refs = [i.ref for i in found.insatser]
    assert len(refs) == reports.OWNER_INSATSER and found.insatser_total == 30
    running = ["2012/011-01", RUNNING, "2030/001-01", "2030/002-01", "2030/003-01"]
    assert refs[:5] == running
    closed = found.insatser[5:]
    assert all(i.state.startswith("avslutad") for i in closed)
    assert [i.ref for i in closed] == sorted(i.ref for i in closed)
    assert _shown_refs(client_as(Role.PROJEKTAGARE).get("/").text) == refs


# SQLite's plans: it plans without statistics. PostgreSQL chooses by its statistics, and on
# the demo's few rows any index of insats serves as well as another.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_owners_insatser_and_reports_are_read_from_their_own_index(demo_app: App) -> None:
    _copies(demo_app, running=30, closed=5)
    with sent_statements(demo_app, "SELECT") as seen:
        reports.owner_overview(demo_app, viewer_email=OWNER, forbund="akst")
    reading = [(s, p) for s, p in seen if "FROM insats" in s or "JOIN insats" in s]
    assert len(reading) >= 3  # the running ones, the count, the reports (and their count)
    for statement, parameters in reading:
        plan = query_plan(demo_app, statement, parameters)
        assert "ix_insats_owner_dnr" in plan, (statement, plan)
        assert "ix_report_status" not in plan, (statement, plan)
