"""The förbund's machinery in a real browser, as its förbundschef: reminders, the outbox with
a failed message sent again, the health panel, the audit trail and a check of its chain, the
diarium; then the public diarium without login. axe-core on every page visited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser_support import assert_accessible, log_in
from workflow.app import App
from workflow.models import Forbund, Insats, OutboxMessage
from workflow.reminder_rules import Rendered
from workflow.services.demo.logins import demo_login
from workflow.services.reminders import outbox
from workflow.vocabulary import Role

pytestmark = pytest.mark.browser


def _failed_message(app: App) -> int:
    with app.db.transaction() as session:
        forbund_id = session.execute(select(Forbund.id).where(Forbund.slug == "akst")).scalar_one()
        message = outbox.queue(
            session,
            app,
            forbund_id=forbund_id,
            kind="reminder",
            to_address="mottagare@example.org",
            to_name="Mottagare",
            rendered=Rendered(
                "Påminnelse: lägesrapport", "Hej!\n\nRapporten ska in.", "<p>Hej</p>"
            ),
            now=app.clock(),
        )
        message.status = "failed"
        message.failure_cause = "recipient"
        message.last_error = "550 5.1.1 Mailbox unavailable"
        session.add(message)
        session.flush()
        return int(message.id)  # type: ignore[arg-type]


def _check(page: Page, heading: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    assert_accessible(page)


def test_the_forbundschef_watches_reminders_outbox_health_audit_and_diarium(
    live_server: str, page: Page, demo_app: App
) -> None:
    message_id = _failed_message(demo_app)
    with demo_app.db.reading() as session:
        ref = (
            session.execute(
                select(Insats.dnr)
                .join(Forbund, Forbund.id == Insats.forbund_id)
                .where(Forbund.slug == "akst", Insats.dnr.is_not(None))
                .order_by(Insats.dnr)
            )
            .scalars()
            .first()
        )
    page.goto(f"{live_server}/logga-in")
    log_in(page, demo_login(Role.FORBUNDSCHEF).email)
    expect(page.locator("#utkorg-fel")).to_contain_text("kunde inte levereras")
    assert_accessible(page)

    page.get_by_role("link", name="Påminnelser").first.click()
    _check(page, "Påminnelser")
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Visa påminnelser").click()
    _check(page, "Påminnelser")

    page.get_by_role("link", name="Utkorg", exact=True).click()
    _check(page, "Utkorg")
    page.get_by_role("link", name=str(message_id), exact=True).click()
    _check(page, f"Meddelande {message_id}")
    expect(page.locator("pre")).to_contain_text("Rapporten ska in.")
    page.get_by_role("button", name="Skicka igen").click()
    expect(page.get_by_role("status")).to_contain_text("kö igen")
    _check(page, "Utkorg")
    with demo_app.db.reading() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None and row.status == "pending"

    page.goto(f"{live_server}/drift")
    _check(page, "Driftläge")
    expect(page.get_by_text("Hela förbundets påminnelser planerades senast")).to_be_visible()

    page.get_by_role("link", name="Logg").first.click()
    _check(page, "Logg")
    page.get_by_label("Gäller").select_option("outbox")
    page.get_by_role("button", name="Visa händelser").click()
    expect(page.locator("#handelser")).to_contain_text("skicka_igen")
    _check(page, "Logg")
    page.goto(f"{live_server}/logg/arende/{ref}")
    _check(page, f"Logg för {ref}")
    page.get_by_role("button", name="Kontrollera kedjan nu").click()
    expect(page.locator("#kontroll")).to_contain_text("Kedjan är hel", timeout=30000)
    _check(page, "Kontroll av loggen")

    page.get_by_role("link", name="Diarium").first.click()
    _check(page, "Diarium")
    page.get_by_label("Sök", exact=True).fill(ref.split("-")[0])
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page.locator("#diariet")).to_contain_text(ref)
    _check(page, "Diarium")

    page.get_by_role("button", name="Logga ut").click()
    page.goto(f"{live_server}/diarium/akst")
    _check(page, "Diarium för")
    expect(page.locator("#diariet")).to_contain_text(ref)
    assert re.search(r"\d{4}-\d{2}-\d{2}", page.locator("#diariet").inner_text())
