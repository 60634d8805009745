"""The front door in a real browser: login, the start page, accessibility, keyboard only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import assert_accessible, log_in
from tests.support import sqlite_by_default
from workflow.services.demo.logins import DEMO_PASSWORD, demo_login
from workflow.vocabulary import Role

# The journey is about the pages, not the database: SQLite by default, PostgreSQL too under
# `pytest -m full` (tests/support.py sqlite_by_default). The förbundschef's and the project
# owner's journeys run on both.
pytestmark = [pytest.mark.browser, sqlite_by_default]


def test_a_handlaggare_logs_in_and_lands_on_the_start_page(live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(r"/logga-in\?nasta=/$"))
    expect(page).to_have_title(re.compile("^Logga in"))
    assert_accessible(page)
    log_in(page, demo_login(Role.HANDLAGGARE).email)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Att göra")
    expect(page.get_by_text("Sofia Persson").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Tillgänglighetsredogörelse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tillgänglighetsredogörelse")
    assert_accessible(page)


def test_a_wrong_password_is_said_accessibly(live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/logga-in")
    log_in(page, demo_login(Role.SEKRETERARE).email, "fel-lösenord")
    expect(page.get_by_role("alert")).to_contain_text("Fel e-postadress eller lösenord")
    assert_accessible(page)


def test_login_and_logout_by_keyboard_only(live_server: str, page: Page) -> None:
    page.goto(f"{live_server}/logga-in")
    # The first Tab reaches the skip link, visibly; it leads to the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till innehållet")
    expect(skip).to_be_focused()
    assert skip.bounding_box() is not None and skip.bounding_box()["y"] >= 0  # type: ignore[index]
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("E-postadress")).to_be_focused()
    assert _outline(page) != "none"
    page.keyboard.type(demo_login(Role.FORBUNDSCHEF).email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Lösenord")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Att göra")
    # Log out by keyboard too: Tab until the button has focus, then Enter (through the whole
    # header: the förbundschef's menu is the longest).
    logout = page.get_by_role("button", name="Logga ut")
    for _ in range(30):
        page.keyboard.press("Tab")
        if logout.evaluate("el => el === document.activeElement"):
            break
    expect(logout).to_be_focused()
    assert _outline(page) != "none"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Du är utloggad.")
    assert_accessible(page)


def _outline(page: Page) -> str:
    """The focused element's outline style: focus must be visible."""
    return str(page.evaluate("getComputedStyle(document.activeElement).outlineStyle"))
