"""The reminder settings, the calendar page and the start page's kept reminders in a real
browser, with axe (WCAG 2.1 AA) on each; one journey, on SQLite (nothing here depends on the
database)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import assert_accessible, log_in
from tests.test_calendar_feed import OWNER, keep_for_start_page
from workflow.app import App

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


def test_a_person_chooses_how_reminders_come_and_subscribes_to_their_calendar(
    live_server: str, page: Page, demo_app: App
) -> None:
    keep_for_start_page(demo_app, OWNER, "Delårsrapport ska lämnas in senast 8 december 2026")
    page.goto(f"{live_server}/logga-in")
    log_in(page, OWNER)
    expect(page.get_by_role("heading", name="Dina påminnelser")).to_be_visible()
    assert_accessible(page)

    # The person's own settings are behind their name in the header.
    page.get_by_role("link", name="mitt konto").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mitt konto")
    assert_accessible(page)
    page.get_by_role("link", name="Påminnelser", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hur du får påminnelser")
    assert_accessible(page)
    group = page.get_by_role("group", name="Rapport ska lämnas in")
    group.get_by_label("Daglig sammanfattning per e-post").check()
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status")).to_have_text("Dina val är sparade.")
    expect(group.get_by_label("Daglig sammanfattning per e-post")).to_be_checked()
    assert_accessible(page)

    page.get_by_role("link", name="din kalender").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Din kalender")
    assert_accessible(page)
    page.get_by_role("button", name="Skapa kalenderadress").click()
    address = page.get_by_label("Din kalenderadress")
    expect(address).to_have_value(re.compile(r"/kalender/fsk_[\w-]+\.ics$"))
    assert_accessible(page)
    path = re.sub(r"^https?://[^/]+", "", address.input_value())
    answer = page.request.get(f"{live_server}{path}")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in answer.body()
