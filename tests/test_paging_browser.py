"""The paged lists of this round in a real browser, with axe (WCAG 2.1 AA) on a later page of
each: the page sizes are lowered so that the demo has more than one page. One journey per
person, on SQLite (the paging is about links and markup; its SQL runs on both databases in
tests/test_*_paging.py). Set FINSAM_SCREENSHOTS to a folder to keep a picture of each page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import assert_accessible, log_in
from tests.test_followup_paging import _questions
from workflow.app import App
from workflow.services.demo.logins import demo_login
from workflow.services.funding import agreements, budget, budget_report, closure, payments, reports
from workflow.vocabulary import Role
from workflow.web.routes import review

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


def _seen(page: Page, name: str) -> None:
    """axe on the page as it is, and its picture when asked for."""
    assert_accessible(page)
    folder = os.environ.get("FINSAM_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_the_forbundschef_pages_on_through_each_list(
    live_server: str, page: Page, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module, name, size in (
        (budget, "OUTCOME_PAGE", 2),
        (budget_report, "PAGE_INSATSER", 2),
        (review, "PAGE_SIZE", 2),
        (payments, "PAGE_LIMIT", 1),
        (agreements, "PAGE_LIMIT", 1),
        (closure, "PAGE_LIMIT", 1),
        (closure, "FOLLOW_UP_PAGE", 2),
    ):
        monkeypatch.setattr(module, name, size)
    _questions(demo_app, open_=5, answered=0)

    page.goto(f"{live_server}/logga-in?nasta=/ekonomi/budget?ar=2013")
    log_in(page, demo_login(Role.FORBUNDSCHEF).email)
    expect(page.locator("#finansiell-ram")).to_contain_text("Övriga")
    year = page.locator(
        "section", has=page.get_by_role("heading", name="Beviljat, utfall och prognos 2013")
    )
    year.get_by_role("link", name="Nästa sida").click()
    expect(year.get_by_role("link", name="Första sidan")).to_be_visible()
    _seen(page, "budget-2")

    for path, shot in (
        ("/granskning/rapporter", "rapporter-2"),
        ("/ekonomi/utbetalningar", "utbetalningar-2"),
        ("/ekonomi/avtal", "avtal-2"),
        ("/ekonomi/avslut", "avslut-2"),
    ):
        page.goto(f"{live_server}{path}")
        page.get_by_role("link", name="Nästa sida").first.click()
        expect(page.get_by_role("link", name="Första sidan").first).to_be_visible()
        _seen(page, shot)

    # The open follow-up questions page on by a cursor of their own.
    page.goto(f"{live_server}/ekonomi/avslut")
    page.get_by_role("navigation", name="Sidor i listan över frågor att besvara").get_by_role(
        "link", name="Nästa sida"
    ).click()
    expect(page.get_by_text("Finns arbetssättet kvar? (2)")).to_be_visible()
    _seen(page, "avslut-fragor-2")


def test_a_project_owner_goes_from_the_start_page_to_all_their_insatser(
    live_server: str, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "OWNER_INSATSER", 1)
    owner = demo_login(Role.PROJEKTAGARE).email
    page.goto(f"{live_server}/logga-in")
    log_in(page, owner)
    _seen(page, "start-projektagare")
    page.get_by_role("link", name="Visa alla dina 2 insatser").click()
    expect(page.get_by_label("Projektägare")).to_have_value(owner)
    expect(page.get_by_role("heading", name="2 ärenden")).to_be_visible()
    _seen(page, "arenden-projektagare")


def test_the_meeting_page_asks_the_forbundschef_to_choose_when_too_many_are_ready(
    live_server: str, page: Page, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More ready than an agenda takes at once ([meetings] max_ready_on_agenda, lowered to 1
    with two cases ready): the page says so beside "Ta med alla", which is left unticked, and
    the board's cases can still be chosen one by one."""
    from tests.test_web_meetings import _two_ready
    from workflow.services.board import views

    monkeypatch.setattr(demo_app.settings.meetings, "max_ready_on_agenda", 1)
    _two_ready(demo_app)
    coming = next(
        m for m in views.year_meetings(demo_app, year=2026, forbund="akst") if not m.items
    )
    page.goto(f"{live_server}/logga-in?nasta=/moten/{coming.id}")
    log_in(page, demo_login(Role.FORBUNDSCHEF).email)
    include = page.get_by_label("Ta med alla ärenden som är redo för beslut")
    expect(include).not_to_be_checked()
    hint = page.locator("#dagordning-redo-hint")
    expect(hint).to_contain_text("en dagordning tar med högst 1 på en gång")
    expect(include).to_have_attribute("aria-describedby", "dagordning-redo-hint")
    _seen(page, "mote-for-manga-redo")


def test_uppfoljnings_wide_table_scrolls_in_its_own_region_on_a_narrow_screen(
    live_server: str, page: Page
) -> None:
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(f"{live_server}/logga-in?nasta=/ekonomi/uppfoljning")
    log_in(page, demo_login(Role.FORBUNDSCHEF).email)
    region = page.get_by_role("region", name="Per insats och år")
    expect(region.locator("#uf-rader")).to_contain_text("2012/011-01")
    # The page keeps to the screen; the table's fourteen columns scroll within the region.
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    assert region.evaluate("r => r.scrollWidth > r.clientWidth")
    region.focus()  # by keyboard, too
    page.keyboard.press("ArrowRight")
    expect(region).to_be_focused()
    assert region.evaluate("r => r.scrollLeft") > 0
    _seen(page, "uppfoljning-narrow")
