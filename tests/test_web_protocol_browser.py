"""The whole board cycle in a real browser, on SQLite and PostgreSQL: the beredningsgrupp's
note and recommendation, the agenda (ordered by keyboard) and the kallelse sent for the next
board meeting (tests/test_web_board_browser.py, run first as the cycle's first half); then, at
the meeting, the sekreterare opens its protocol, follows every recommendation at once, decides
by hand what could not follow, sends it for justering; the ordförande and the justerare sign
from two separate logins (two browser contexts); the sekreterare posts the anslag and the
public reads it without login. axe-core on every page visited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser_support import assert_accessible, log_in
from tests.support import sqlite_by_default
from tests.test_web_board_browser import test_beredning_to_kallelse_in_the_browser as first_half
from tests.test_web_protocol import held_without_protocol
from workflow.app import App
from workflow.services.board import protocol as protocols
from workflow.services.board import views
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role

# The journey is about the pages, not the database: SQLite by default, PostgreSQL too under
# `pytest -m full` (tests/support.py sqlite_by_default). The förbundschef's and the project
# owner's journeys run on both.
pytestmark = [pytest.mark.browser, sqlite_by_default]


def _as(page: Page, live_server: str, role: Role, path: str) -> None:
    page.goto(f"{live_server}/logga-in?nasta={path}")
    log_in(page, demo_login(role).email)
    expect(page).to_have_url(re.compile(re.escape(path) + r"(\?.*)?$"))


@pytest.fixture
def second_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    yield context
    context.close()


def test_the_whole_board_cycle_from_recommendation_to_the_public_anslag(
    live_server: str, page: Page, second_context: BrowserContext, demo_app: App
) -> None:
    first_half(live_server, page, demo_app)
    page.get_by_role("button", name="Logga ut").click()
    now = demo_app.clock()
    called = next(
        m
        for m in views.year_meetings(demo_app, year=now.year, forbund="akst")
        if m.kallelse_sent_at and m.starts_at > now and m.organ_kind == "styrelse"
    )
    # The meeting held four days ago gets its protocol first (§§ follow the meetings' dates).
    protocols.open_protocol(
        demo_app,
        ref=held_without_protocol(demo_app),
        actor_email=demo_login(Role.SEKRETERARE).email,
        justerare=[demo_login(Role.STYRELSE_LEDAMOT).email],
        forbund="akst",
    )
    # The meeting has begun: the board decides now.
    demo_app.clock.set(called.starts_at + timedelta(hours=1))  # type: ignore[attr-defined]
    number = called.number
    path = f"/protokoll/akst/{number}"

    # The sekreterare opens the protocol, choosing the justerare.
    _as(page, live_server, Role.SEKRETERARE, f"/moten/{called.id}")
    page.get_by_role("link", name="Inte påbörjat").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Protokoll – Styrelsen")
    assert_accessible(page)
    page.get_by_label("Ordförande").select_option(demo_login(Role.STYRELSE_ORDFORANDE).email)
    justerare = demo_login(Role.STYRELSE_LEDAMOT).email
    page.locator(f'input[name="justerare"][value="{justerare}"]').check()
    page.get_by_role("button", name="Öppna protokollet").click()
    expect(page.get_by_role("status")).to_contain_text("Protokollet är öppnat")
    assert_accessible(page)

    # Follow every recommendation at once; whatever could not is named.
    page.get_by_role("button", name="Följ rekommendationen för alla §§").click()
    expect(page.get_by_role("status").first).to_contain_text("Rekommendationerna följdes")
    assert_accessible(page)
    view = views.get_meeting(demo_app, ref=number, forbund="akst")
    for item in view.items:
        if item.paragraph is not None and item.decision is None:
            # Left because of the budget frame: shown before it is recorded, then decided by
            # hand as the board did (bifall beyond the frame).
            expect(page.locator(f"#p{item.paragraph}-ram")).to_contain_text("Utöver budgetramen")
            page.locator(f"#p{item.paragraph} summary").click()
            page.locator(f"#p{item.paragraph}-kind-bifall").check()
            page.locator(f"#p{item.paragraph}-over").check()
            page.get_by_role("button", name=f"Registrera beslutet i § {item.paragraph}").click()
            expect(page.get_by_role("status")).to_have_text("Beslutet är registrerat.")
    assert_accessible(page)

    # The protocol as a paper, then sent for justering.
    page.get_by_role("link", name="Protokoll", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Protokoll Styrelsen")
    assert_accessible(page)
    page.get_by_role("link", name="Till protokollsidan").click()
    page.get_by_role("button", name="Skicka protokollet för justering").click()
    expect(page.get_by_role("status")).to_contain_text("skickat för justering")
    expect(page.locator("#protokoll-status")).to_have_text("För justering")
    assert_accessible(page)
    page.get_by_role("button", name="Logga ut").click()

    # The ordförande: the start page shows what waits, the signing page the text signed.
    _as(page, live_server, Role.STYRELSE_ORDFORANDE, "/")
    expect(page.get_by_role("heading", name="Protokoll att justera")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("^Justera protokollet styrelsen")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Justera protokollet")
    expect(page.locator(".paper-view")).to_contain_text("ANSLAG/BEVIS")
    assert_accessible(page)

    # Meanwhile the justerare, in a browser of their own, signs first.
    other = second_context.new_page()
    _as(other, live_server, Role.STYRELSE_LEDAMOT, f"{path}/justera")
    assert_accessible(other)
    other.get_by_role("button", name="Jag justerar protokollet").click()
    expect(other.get_by_role("status")).to_have_text("Din justering är registrerad.")
    assert_accessible(other)

    page.get_by_role("button", name="Jag justerar protokollet").click()
    expect(page.get_by_role("status")).to_have_text("Din justering är registrerad.")
    expect(page.locator("#protokoll-status")).to_have_text("Justerat")
    page.get_by_role("button", name="Logga ut").click()

    # The sekreterare posts the anslag; the public reads it without login.
    _as(page, live_server, Role.SEKRETERARE, path)
    page.get_by_role("button", name="Anslå protokollet").click()
    expect(page.locator("#protokoll-status")).to_have_text("Anslaget")
    assert_accessible(page)
    page.get_by_role("button", name="Logga ut").click()

    page.goto(f"{live_server}/anslagstavla/akst")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Anslagstavla")
    assert_accessible(page)
    anslagna = page.locator("section", has=page.get_by_role("heading", name="Anslagna protokoll"))
    anslagna.get_by_role("link").first.click()
    expect(page.locator("#anslag")).to_contain_text("Tas ned tidigast")
    expect(page.locator(".paper-view")).to_contain_text("Protokollet är justerat")
    assert_accessible(page)
    view = views.get_meeting(demo_app, ref=number, forbund="akst")
    assert view.protocol is not None and view.protocol.status == "anslaget"
    assert all(item.decision for item in view.items if item.paragraph is not None)
