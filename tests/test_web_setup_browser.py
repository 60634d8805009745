"""In a real browser, on SQLite and PostgreSQL: an installation administrator founds a förbund,
its first administrator sets it up from the pages (parties, people, the board with its mandate
period, a policy), a person so created logs in, and is logged out at once when deactivated.
axe-core (WCAG 2.1 AA) finds nothing on any page visited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_support import assert_accessible, log_in
from tests.support import sqlite_by_default
from workflow.app import App
from workflow.services.access import passwords
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role

# The journey is about the pages, not the database: SQLite by default, PostgreSQL too under
# `pytest -m full` (tests/support.py sqlite_by_default). The förbundschef's and the project
# owner's journeys run on both.
pytestmark = [pytest.mark.browser, sqlite_by_default]

POLICY_PDF = b"%PDF-1.4\n% policy\n"

PASSWORD = "ett-långt-lösenord-för-prov"


def _submit(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def _add_person(page: Page, name: str, email: str, party: str, roles: list[str]) -> None:
    page.locator("#person-name").fill(name)
    page.locator("#person-email").fill(email)
    page.locator("#person-party").select_option(party)
    for role in roles:
        page.locator(f"#person-roles-{role}").check()
    _submit(page, "Lägg till personen")
    expect(page.get_by_role("status")).to_have_text("Personen är sparad.")


def _member(page: Page, person: str, role: str, *, elected: str = "") -> None:
    page.locator("#member-person").select_option(label=person)
    page.locator("#member-role").select_option(role)
    page.locator("#member-elected").fill(elected)
    _submit(page, "Spara uppdraget")
    expect(page.get_by_role("status")).to_have_text("Uppdraget är sparat.")


def test_an_administrator_sets_up_a_new_forbund_and_a_deactivated_person_is_logged_out(
    live_server: str, page: Page, browser: Browser, demo_app: App
) -> None:
    installer = demo_login(Role.ADMIN, "akst").email
    demo_app.settings.installation_admins = [f"akst:{installer}"]

    # The installation administrator founds the förbund with its first administrator.
    page.goto(f"{live_server}/logga-in?nasta=/installningar")
    log_in(page, installer)
    expect(page).to_have_url(f"{live_server}/installningar/akst")
    assert_accessible(page)
    with page.expect_navigation():  # axe on the page being left finds no document
        page.get_by_role("link", name="Alla förbund i installationen").click()
    assert_accessible(page)
    page.locator("#new-slug").fill("orust")
    page.locator("#new-name").fill("Samordningsförbundet Orust")
    page.locator("#new-admin-name").fill("Olle Admin")
    page.locator("#new-admin-email").fill("olle@orust.example")
    _submit(page, "Skapa förbundet")
    expect(page.get_by_role("status")).to_contain_text("Förbundet är skapat")
    expect(page.get_by_role("cell", name="Samordningsförbundet Orust")).to_be_visible()
    assert_accessible(page)
    _submit(page, "Logga ut")

    # Its administrator gets a password (the CLI's service) and sets the förbund up.
    passwords.set_password(demo_app, email="olle@orust.example", password=PASSWORD)
    page.goto(f"{live_server}/logga-in?nasta=/installningar")
    log_in(page, "olle@orust.example", PASSWORD)
    expect(page).to_have_url(f"{live_server}/installningar/orust")
    for kind, name in (
        ("forsakringskassan", "Försäkringskassan"),
        ("arbetsformedlingen", "Arbetsförmedlingen"),
        ("region", "Västra Götalandsregionen"),
        ("kommun", "Orust kommun"),
    ):
        page.locator("#party-kind").select_option(kind)
        page.locator("#party-name").fill(name)
        _submit(page, "Lägg till parten")
        expect(page.get_by_role("status")).to_have_text("Parten är sparad.")
    # A refusal is said on the page, accessibly.
    page.locator("#party-kind").select_option("kommun")
    page.locator("#party-name").fill("Orust kommun")
    _submit(page, "Lägg till parten")
    expect(page.get_by_role("alert")).to_contain_text("har redan en part")
    assert_accessible(page)

    page.goto(f"{live_server}/installningar/orust")
    _add_person(
        page, "Stina Ordförande", "stina@orust.example", "Orust kommun", ["styrelse_ordforande"]
    )
    page.get_by_role("link", name="Inställningar").first.click()
    _add_person(
        page, "Sven Ersättare", "sven@orust.example", "Orust kommun", ["styrelse_ersattare"]
    )
    page.get_by_role("link", name="Inställningar").first.click()
    _add_person(
        page, "Hanna Handläggare", "hanna@orust.example", "Försäkringskassan", ["handlaggare"]
    )
    assert_accessible(page)  # the person's page
    hanna_page = page.url.split("?")[0]

    page.goto(f"{live_server}/installningar/orust")
    page.locator("#organ-kind").select_option("styrelse")
    _submit(page, "Lägg till organet")
    expect(page.get_by_role("heading", level=1)).to_have_text("Styrelsen")
    _member(page, "Stina Ordförande <stina@orust.example>", "ordforande", elected="2022")
    expect(page.get_by_role("cell", name="2023-04-01 – 2027-03-31 (vald 2022)")).to_be_visible()
    expect(page.locator(".warnings")).to_contain_text("varje ledamot ska ha en ersättare")
    assert_accessible(page)
    _member(page, "Sven Ersättare <sven@orust.example>", "ersattare", elected="2022")
    expect(page.locator(".warnings")).to_have_count(0)
    assert_accessible(page)

    # A policy in the register, overdue since 2022, and the history of every change.
    page.goto(f"{live_server}/styrdokument")
    page.locator("#policy-kind").select_option("policy")
    page.locator("#policy-title").fill("Policy för samverkan")
    page.locator("#policy-decided-by").fill("Styrelsen")
    page.locator("#policy-decided-on").fill("2018-12-11")
    page.locator("#policy-document").set_input_files(
        files=[{"name": "samverkan.pdf", "mimeType": "application/pdf", "buffer": POLICY_PDF}]
    )
    _submit(page, "Registrera styrdokumentet")
    expect(page.locator("dd", has_text="2022-12-31")).to_contain_text("Försenad")
    expect(page.get_by_role("link", name="samverkan.pdf")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Styrdokument").first.click()
    expect(page.locator("tr.is-overdue")).to_contain_text("Policy för samverkan")
    assert_accessible(page)
    page.goto(f"{live_server}/installningar/orust/historik")
    expect(page.locator("tbody tr")).to_have_count(12)
    expect(page.locator("tbody")).to_contain_text("olle@orust.example")
    expect(page.locator("tbody")).to_contain_text(f"installation@finsam för {installer} (akst)")
    assert_accessible(page)

    # A person so created logs in (in a browser of their own) ...
    passwords.set_password(demo_app, email="hanna@orust.example", password=PASSWORD)
    other = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    try:
        hanna = other.new_page()
        hanna.goto(f"{live_server}/logga-in")
        log_in(hanna, "hanna@orust.example", PASSWORD)
        expect(hanna.get_by_role("heading", level=1)).to_have_text("Att göra")
        expect(hanna.get_by_text("Hanna Handläggare").first).to_be_visible()
        assert_accessible(hanna)

        # ... and is logged out at once when the administrator deactivates them.
        page.goto(hanna_page)
        _submit(page, "Inaktivera personen")
        expect(page.get_by_role("status")).to_contain_text("inloggningar har upphört")
        assert_accessible(page)
        hanna.get_by_role("link", name="Att göra").click()
        hanna.wait_for_load_state()
        expect(hanna).to_have_url(re.compile(r"/logga-in"))
    finally:
        other.close()
