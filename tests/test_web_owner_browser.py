"""A project owner in a real browser, from the reminder mail to a sent report: the link in a
real reminder in the outbox leads through the login to the report page; a draft is saved with
an attachment, found again from the start page, and sent; the case's attachments page lists
the file. axe-core (WCAG 2.1 AA) on every page visited; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser_support import assert_accessible, log_in
from tests.support import TravelClock
from workflow.app import App
from workflow.models import OutboxMessage
from workflow.services.demo.logins import demo_login
from workflow.services.funding import reports
from workflow.services.reminders import planner
from workflow.vocabulary import Role

pytestmark = pytest.mark.browser

OWNER = demo_login(Role.PROJEKTAGARE).email
REPORT = 30  # the helårsrapport 2026 of 2025/002-01, due 31 December 2026
PDF = b"%PDF-1.4\n% lagesbild\n"


def _reminder_link(app: App, clock: TravelClock, live_server: str) -> str:
    """The first reminder of the report (21 days before) as the scheduler writes it."""
    app.settings.web.public_url = live_server
    clock.set(datetime(2026, 12, 10, 8, 0, tzinfo=UTC))
    planner.sweep(app, worker="test")
    with app.db.reading() as session:
        bodies = session.execute(
            select(OutboxMessage.text_body).where(OutboxMessage.to_address == OWNER)
        ).scalars()
        links = [m for body in bodies for m in re.findall(r"https?://\S+/rapporter/\d+", body)]
    assert links, "no reminder with a link to the report page in the outbox"
    return links[0]


def test_owner_reports_from_the_reminder_link(
    live_server: str, page: Page, demo_app: App, web_clock: TravelClock
) -> None:
    link = _reminder_link(demo_app, web_clock, live_server)
    assert link == f"{live_server}/rapporter/{REPORT}"

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    assert_accessible(page)
    log_in(page, OWNER)
    expect(page).to_have_url(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Helårsrapport för 2025/002-01")
    expect(page.locator(".case-status")).to_contain_text("senast 31 december 2026")
    assert_accessible(page)

    page.get_by_label("Läget mot målen").fill("Tolv deltagare har börjat; målen nås.")
    page.get_by_label("Kvinnor").fill("7")
    page.get_by_label("Bifoga filer").set_input_files(
        files=[{"name": "lägesbild.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Spara utkast").click()
    expect(page.get_by_role("status")).to_contain_text("Utkastet är sparat")
    expect(page.get_by_role("link", name="lägesbild.pdf")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Att göra").first.click()
    row = page.locator(f'tr[data-report="{REPORT}"]')
    expect(row).to_contain_text("Utkast sparat")
    expect(row).to_contain_text("senast 31 december 2026")
    assert_accessible(page)
    row.get_by_role("link").click()
    expect(page.get_by_label("Läget mot målen")).to_have_value(
        "Tolv deltagare har börjat; målen nås."
    )
    page.get_by_label("Utfall (tkr)").fill("1 150")
    page.get_by_label("Män").fill("5")
    page.get_by_label("Övriga").fill("0")
    page.get_by_role("button", name="Skicka rapporten").click()
    expect(page.get_by_role("status")).to_contain_text("Rapporten är skickad")
    expect(page.locator(".case-status")).to_contain_text("Inkommen")
    assert_accessible(page)

    page.get_by_role("link", name="Alla bilagor i ärendet och hela akten").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilagor och akt")
    expect(page.get_by_role("cell", name="lägesbild.pdf")).to_be_visible()
    assert_accessible(page)

    sent = reports.report_page(demo_app, report_id=REPORT, viewer_email=OWNER).report
    assert sent.status == "inkommen" and sent.utfall_tkr == 1150
    assert (sent.participants_women, sent.participants_men, sent.participants_other) == (7, 5, 0)
    assert [a.filename for a in sent.attachments] == ["lägesbild.pdf"]
