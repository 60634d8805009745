"""The board's preparation in a real browser, on SQLite and PostgreSQL: a beredningsgrupp
member's note, the förbundschef's recommendation, the next board meeting in the calendar, its
agenda built from standard items and the case offered, its order changed by keyboard only, a
draft decision written beside the application, and the kallelse previewed and sent through the
outbox. axe-core (WCAG 2.1 AA) on every page visited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser_support import assert_accessible, log_in
from tests.support import sqlite_by_default
from workflow.app import App
from workflow.models import OutboxMessage
from workflow.services import cases
from workflow.services.board import agenda, views
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role

# The journey is about the pages, not the database: SQLite by default, PostgreSQL too under
# `pytest -m full` (tests/support.py sqlite_by_default). The förbundschef's and the project
# owner's journeys run on both.
pytestmark = [pytest.mark.browser, sqlite_by_default]

UNDER_BEREDNING = "Språkstöd och arbetsträning för nyanlända"
MATTER = "Verksamhetsplan med budget 2027"


def _as(page: Page, live_server: str, role: Role, path: str) -> None:
    page.goto(f"{live_server}/logga-in?nasta={path}")
    log_in(page, demo_login(role).email)
    expect(page).to_have_url(re.compile(re.escape(path.split("?")[0]) + r"(\?.*)?(#.*)?$"))


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_role("status")).to_have_text("Du är utloggad.")


def _focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement.id"))


def _tab_to(page: Page, element_id: str, limit: int = 200) -> None:
    """Press Tab until the element has focus (keyboard only), its focus visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused_id(page) == element_id:
            style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert style != "none", element_id
            return
    pytest.fail(f"{element_id} was never reached by Tab")


# The whole board cycle (tests/test_web_protocol_browser.py) walks this as its first half on
# every run; on its own, to tell which half broke, under `pytest -m full`.
@pytest.mark.full
def test_beredning_to_kallelse_in_the_browser(live_server: str, page: Page, demo_app: App) -> None:
    ref = next(
        c.ref
        for c in cases.list_cases(
            demo_app, forbund="akst", filters=cases.CaseFilter(text=UNDER_BEREDNING)
        ).items
    )
    case_id = cases.get_case(demo_app, ref=ref, forbund="akst").id

    # A member of the beredningsgrupp writes a note beside the application.
    _as(page, live_server, Role.BEREDNINGSGRUPP, "/beredning")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beredning")
    assert_accessible(page)
    section = page.locator(f"#arende-{case_id}")
    expect(section).to_contain_text("Syfte")
    section.get_by_label("Anteckning", exact=True).fill(
        "Parterna har förankrat insatsen i sina ledningar."
    )
    section.get_by_role("button", name="Spara anteckningen").click()
    expect(page.get_by_role("status")).to_have_text("Anteckningen är sparad.")
    assert_accessible(page)
    _log_out(page)

    # The förbundschef records the group's recommendation, with a dissent.
    _as(page, live_server, Role.FORBUNDSCHEF, "/beredning")
    section = page.locator(f"#arende-{case_id}")
    expect(section).to_contain_text("Parterna har förankrat insatsen")
    section.get_by_label("Bevilja", exact=True).check()
    section.get_by_label("Motivering", exact=True).fill(
        "Väl förankrad; tydliga mål och uppföljning."
    )
    section.get_by_label("Avvikande mening (lämna tomt om gruppen är enig)").fill(
        "Arbetsförmedlingen vill se en mindre budget för 2028."
    )
    section.get_by_role("button", name="Registrera rekommendationen").click()
    expect(page.get_by_role("status")).to_have_text("Rekommendationen är registrerad.")
    assert_accessible(page)
    assert cases.get_case(demo_app, ref=ref, forbund="akst").state == "rekommenderad"

    # The next board meeting, found in the calendar.
    coming = next(
        m for m in views.year_meetings(demo_app, year=2026, forbund="akst") if not m.items
    )
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Möten").click()
    page.goto(f"{live_server}/moten?manad={coming.starts_at:%Y-%m}")
    assert_accessible(page)
    page.get_by_role("table").get_by_role("link", name=re.compile("Styrelsen kl. 13.00")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Styrelsen")
    assert_accessible(page)

    # The agenda: standard items, then the case offered as ready for decision.
    page.get_by_label("Ta med alla ärenden som är redo för beslut").uncheck()
    page.get_by_role("button", name="Ställ upp dagordningen med standardpunkter").click()
    expect(page.get_by_role("status")).to_have_text("Dagordningen är uppställd.")
    expect(page.get_by_role("heading", name="Ärenden redo för beslut")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("^Lägg på dagordningen")).click()
    expect(page.get_by_role("status")).to_have_text("Ärendet är lagt på dagordningen.")
    # A matter of the board's own beside it, so the section has two items to order.
    agenda.add_matter(
        demo_app,
        ref=coming.number,
        title=MATTER,
        proposal="att fastställa verksamhetsplanen med budget 2027",
        actor_email="chef@akst.example",
        forbund="akst",
    )
    page.reload()
    view = views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst")
    matter = next(i for i in view.items if i.title == MATTER)
    case_item = next(i for i in view.items if i.dnr == ref)
    assert case_item.agenda_no < matter.agenda_no

    # Keyboard only: Tab to the matter's "Flytta upp", Enter; focus comes back to it.
    _tab_to(page, f"flytta-upp-{matter.item_id}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Punkten är flyttad.")
    expect(page.locator(f"#flytta-upp-{matter.item_id}")).to_be_focused()
    assert_accessible(page)
    order = [
        i.item_id
        for i in views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst").items
    ]
    assert order.index(matter.item_id) < order.index(case_item.item_id)
    # And back down again, by keyboard: Tab once reaches its "Flytta ned".
    page.keyboard.press("Tab")
    assert _focused_id(page) == f"flytta-ned-{matter.item_id}"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Punkten är flyttad.")
    expect(page.locator(f"#flytta-ned-{matter.item_id}")).to_be_focused()
    order = [
        i.item_id
        for i in views.get_meeting_by_id(demo_app, meeting_id=coming.id, forbund="akst").items
    ]
    assert order.index(case_item.item_id) < order.index(matter.item_id)

    # The draft decision, written beside the application and the recommendation.
    page.locator(f"#punkt-{case_item.item_id}").get_by_role(
        "link", name=re.compile("^Skriv förslag till beslut")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(UNDER_BEREDNING)
    expect(page.locator("main")).to_contain_text("Väl förankrad; tydliga mål och uppföljning.")
    expect(page.locator("main")).to_contain_text("Målgrupp")
    assert_accessible(page)
    page.get_by_label("Förslag till beslut").fill(
        "Styrelsen beslutar att bevilja insatsen 600 tkr för 2027 och 550 tkr för 2028."
    )
    page.get_by_role("button", name="Spara förslaget").click()
    expect(page.get_by_role("status")).to_have_text("Förslaget till beslut är sparat.")
    expect(page.locator(f"#punkt-{case_item.item_id}")).to_contain_text("600 tkr för 2027")

    # The kallelse: previewed with the agenda and papers, sent, and shown as sent.
    page.get_by_role("link", name="Förhandsgranska och skicka kallelsen").click()
    expect(page.get_by_role("heading", name="Förhandsgranskning")).to_be_visible()
    expect(page.locator(".paper-preview")).to_contain_text("600 tkr för 2027")
    expect(page.locator(".paper-preview")).to_contain_text(f"Ansökan {ref}")
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("Skicka kallelsen till \\d+ mottagare")).click()
    expect(page.get_by_role("status")).to_have_text("Kallelsen är skickad.")
    expect(page.locator("main")).to_contain_text("Kallelsen skickades")
    expect(page.locator("main")).to_contain_text("ordforande@akst.example")
    assert_accessible(page)
    with demo_app.db.reading() as session:
        sent = list(
            session.execute(select(OutboxMessage).where(OutboxMessage.kind == "kallelse")).scalars()
        )
    called = {a.email for a in view.attendance if a.email}
    assert {m.to_address for m in sent} == called
    assert all("600 tkr för 2027" in m.text_body for m in sent)
