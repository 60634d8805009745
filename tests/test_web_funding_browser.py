"""The förbundschef's funding pages in a real browser, on SQLite and PostgreSQL: every page
visited (reports table, review, payments, agreements, budget, Uppföljning Finsam, closure),
a payment held and released by the review; and the whole journey with the project owner's
report page (routes/reports.py): draft with an attachment, sent, completion asked for and
given, approved, the held payment paid. axe-core WCAG 2.1 AA on every page visited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import assert_accessible, log_in
from workflow.app import App
from workflow.services.demo.logins import demo_login
from workflow.services.funding import payments, reports
from workflow.vocabulary import Role

pytestmark = pytest.mark.browser

RUNNING = "2025/002-01"


def _owed(app: App) -> list[reports.ReportView]:
    return [
        r
        for r in reports.list_reports(app, ref=RUNNING, forbund="akst")
        if r.status in reports.OWED
    ]


def _submit(app: App, report_id: int, progress: str) -> None:
    reports.submit(
        app,
        ref=RUNNING,
        report_id=report_id,
        actor_email="chef@akst.example",
        forbund="akst",
        progress=progress,
        utfall="200",
        women=4,
        men=5,
        other=0,
    )


def test_the_forbundschefs_funding_pages(live_server: str, page: Page, demo_app: App) -> None:
    page.goto(f"{live_server}/logga-in?nasta=/ekonomi/budget")
    log_in(page, demo_login(Role.FORBUNDSCHEF).email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget och finansiell ram")
    table = page.locator("#finansiell-ram")
    expect(table.locator('tr[data-row="Finansiell ram"]')).to_contain_text("6\u202f340")
    expect(table.locator('tr[data-row="Total summa"]')).to_contain_text("6\u202f145")
    expect(table.locator('tr[data-row="Över-/underskott +/-"]')).to_contain_text("+ 225")
    assert_accessible(page)

    sub = page.get_by_role("navigation", name="Ekonomi och uppföljning")
    for link, heading in (
        ("Avtal", "Avtal"),
        ("Uppföljning Finsam", "Uppföljning Finsam"),
        ("Avslut och uppföljning", "Avslutade insatser och uppföljning"),
    ):
        sub.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)
    page.get_by_role("navigation", name="Ekonomi och uppföljning").get_by_role(
        "link", name="Avtal", exact=True
    ).click()
    page.locator('a[href="/ekonomi/avtal/2025/001-01"]').first.click()
    expect(page.get_by_role("heading", level=2, name="Rapportplan")).to_be_visible()
    assert_accessible(page)

    # A payment asked for now waits for the helårsrapport 2025 and the delårsrapport 2026.
    page.goto(f"{live_server}/ekonomi/utbetalningar")
    page.get_by_label("Insats med undertecknat avtal").fill(RUNNING)
    page.get_by_label("År").fill("2026")
    page.get_by_label("Belopp (tkr)").fill("100")
    page.get_by_role("button", name="Begär utbetalning").click()
    expect(page.get_by_role("status")).to_contain_text("vilar tills rapporten")
    expect(
        page.get_by_role("link", name=re.compile("helårsrapport förfallen 2025-12-31"))
    ).to_be_visible()
    assert_accessible(page)

    helar, delar = _owed(demo_app)[:2]
    _submit(demo_app, helar.id, "Verksamheten följer planen.")

    page.get_by_role("navigation", name="Ekonomi och uppföljning").get_by_role(
        "link", name="Rapporter", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapporter från insatserna")
    page.get_by_label("Läge").select_option("inkommen")
    with page.expect_navigation():  # axe on the page being left finds no document
        page.get_by_role("button", name="Visa rapporter").click()
    assert_accessible(page)
    page.locator(f'tr[data-report="{helar.id}"]').get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Helårsrapport")
    assert_accessible(page)
    page.get_by_label("Vad saknas?").fill("Utfallet per kvartal saknas.")
    page.get_by_role("button", name="Begär komplettering").click()
    expect(page.get_by_role("status")).to_contain_text("vad som ska kompletteras")
    assert_accessible(page)

    _submit(demo_app, helar.id, "Utfallet per kvartal: 50 tkr varje kvartal.")
    page.reload()
    page.get_by_role("button", name="Godkänn").click()
    expect(page.get_by_role("status")).to_have_text("Rapporten är godkänd.")

    _submit(demo_app, delar.id, "Halvåret enligt plan.")
    page.goto(f"{live_server}/granskning/rapporter/{delar.id}")
    page.get_by_role("button", name="Godkänn").click()
    expect(page.get_by_role("status")).to_contain_text("1 vilande utbetalning betalades ut")
    assert_accessible(page)
    page.goto(f"{live_server}/ekonomi/utbetalningar")
    expect(page.get_by_text("Inga utbetalningar vilar.")).to_be_visible()
    assert_accessible(page)


OWNER = demo_login(Role.PROJEKTAGARE).email
PDF = b"%PDF-1.4\n% kvartalsutfall\n"


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_role("status")).to_have_text("Du är utloggad.")


def test_owner_reports_the_forbundschef_reviews_and_the_held_payment_is_released(
    live_server: str, page: Page, demo_app: App
) -> None:
    """The whole journey: the owner saves a draft with an attachment and sends it; the
    förbundschef asks for completion; the owner completes; the förbundschef approves and the
    payment held for the report is paid."""
    helar, delar = _owed(demo_app)[:2]
    # The delårsrapport 2026 is in and approved: the payment asked for now waits only for
    # the helårsrapport 2025.
    _submit(demo_app, delar.id, "Halvåret enligt plan.")
    reports.approve(
        demo_app, ref=RUNNING, report_id=delar.id, actor_email="chef@akst.example", forbund="akst"
    )
    held = payments.request(
        demo_app,
        ref=RUNNING,
        year=2026,
        amount=120,
        actor_email="chef@akst.example",
        forbund="akst",
    )
    assert held.status == "vilande" and held.waits_for_report_id == helar.id

    report_url = f"{live_server}/rapporter/{helar.id}"
    page.goto(report_url)
    log_in(page, OWNER)
    expect(page).to_have_url(report_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Helårsrapport")
    assert_accessible(page)
    page.get_by_label("Läget mot målen").fill("Åtta deltagare har börjat; målen nås.")
    page.get_by_label("Kvinnor").fill("5")
    page.get_by_label("Bifoga filer").set_input_files(
        files=[{"name": "kvartal.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Spara utkast").click()
    expect(page.get_by_role("status")).to_contain_text("Utkastet är sparat")
    expect(page.get_by_role("link", name="kvartal.pdf")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Utfall (tkr)").fill("380")
    page.get_by_label("Män").fill("3")
    page.get_by_label("Övriga").fill("0")
    page.get_by_role("button", name="Skicka rapporten").click()
    expect(page.get_by_role("status")).to_contain_text("Rapporten är skickad")
    assert_accessible(page)
    _log_out(page)

    page.goto(f"{live_server}/logga-in?nasta=/granskning/rapporter?grupp=inkommen")
    log_in(page, demo_login(Role.FORBUNDSCHEF).email)
    row = page.locator(f'tr[data-report="{helar.id}"]')
    expect(row).to_contain_text("Inkommen")
    assert_accessible(page)
    row.get_by_role("link").click()
    expect(page.get_by_role("link", name="kvartal.pdf")).to_be_visible()
    expect(page.get_by_text(f"Utbetalning nr {held.id}")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Vad saknas?").fill("Beskriv avvikelserna mot budgeten.")
    page.get_by_role("button", name="Begär komplettering").click()
    expect(page.get_by_role("status")).to_contain_text("vad som ska kompletteras")
    assert_accessible(page)
    _log_out(page)

    page.goto(report_url)
    log_in(page, OWNER)
    expect(page.get_by_role("heading", name="Förbundet ber om komplettering")).to_be_visible()
    expect(page.get_by_text("Beskriv avvikelserna mot budgeten.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Avvikelser från plan och budget").fill("Lokalkostnaden blev 20 tkr lägre.")
    page.get_by_label("Ditt svar på kompletteringen").fill("Avvikelserna är nu beskrivna.")
    page.get_by_role("button", name="Skicka rapporten").click()
    expect(page.get_by_role("status")).to_contain_text("Rapporten är skickad")
    assert_accessible(page)
    _log_out(page)

    page.goto(f"{live_server}/logga-in?nasta=/granskning/rapporter/{helar.id}")
    log_in(page, demo_login(Role.FORBUNDSCHEF).email)
    expect(page.get_by_text("Lokalkostnaden blev 20 tkr lägre.")).to_be_visible()
    page.get_by_role("button", name="Godkänn").click()
    expect(page.get_by_role("status")).to_contain_text("1 vilande utbetalning betalades ut")
    assert_accessible(page)
    page.goto(f"{live_server}/ekonomi/utbetalningar")
    expect(page.locator(f'tr[data-payment="{held.id}"]')).to_contain_text("2026-12-01")
    expect(page.get_by_text("Inga utbetalningar vilar.")).to_be_visible()
    assert_accessible(page)
