"""An idea through the web in a real browser: submitted by a handläggare, registered by the
sekreterare (the dnr appears), put on beredning by the förbundschef; a conflict between two
browsers; the idea form by keyboard only. axe-core on every page visited."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser_support import assert_accessible, log_in
from tests.support import sqlite_by_default
from workflow.app import App
from workflow.services import cases
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role
from workflow.web.forms import case_url

# The journey is about the pages, not the database: SQLite by default, PostgreSQL too under
# `pytest -m full` (tests/support.py sqlite_by_default). The förbundschef's and the project
# owner's journeys run on both.
pytestmark = [pytest.mark.browser, sqlite_by_default]

TITLE = "Arbetsträning med stöd i Kungälv"
REGISTERED = "IPS – individanpassat stöd till arbete i Ale"  # inkommen, complete


def _as(page: Page, live_server: str, role: Role, path: str) -> None:
    page.goto(f"{live_server}/logga-in?nasta={path}")
    log_in(page, demo_login(role).email)
    expect(page).to_have_url(re.compile(re.escape(path.split("?")[0]) + r"(\?.*)?$"))


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_role("status")).to_have_text("Du är utloggad.")


def test_an_idea_is_submitted_registered_and_put_on_beredning(
    live_server: str, page: Page, demo_app: App
) -> None:
    _as(page, live_server, Role.HANDLAGGARE, "/ideer/ny")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny idé")
    assert_accessible(page)
    page.get_by_label("Titel (obligatoriskt)").fill(TITLE)
    page.get_by_label("Målgrupp").fill("Unga vuxna 19–29 år")
    page.get_by_label("Mål", exact=True).fill("Hälften i arbete eller studier efter ett år.")
    page.get_by_label("Startdatum").fill("2027-01-01")
    page.get_by_label("Slutdatum").fill("2028-12-31")
    page.get_by_label("Kungälvs kommun").check()
    page.get_by_label("Försäkringskassan").check()
    page.get_by_label("Insatsägare").select_option("Kungälvs kommun")
    page.get_by_label("2027 (tkr)").fill("500")
    page.get_by_label("2028 (tkr)").fill("450")
    page.get_by_label("Uppföljningsplan").fill("Uppföljning Finsam; delår och helår.")
    page.get_by_role("button", name="Skicka idén").click()
    expect(page.get_by_role("status")).to_have_text("Idén är inlämnad.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    assert_accessible(page)
    idea_url = page.url.split("?")[0]
    _log_out(page)

    _as(page, live_server, Role.SEKRETERARE, idea_url.removeprefix(live_server))
    assert_accessible(page)
    page.get_by_role("button", name="Registrera ansökan (ger diarienummer)").click()
    expect(page.get_by_role("status")).to_contain_text("Klart")
    ref = page.url.removeprefix(f"{live_server}/arenden/").split("?")[0]
    assert re.fullmatch(r"\d{4}/\d{3}-\d{2}", ref), ref
    expect(page.get_by_role("heading", level=1)).to_contain_text(ref)
    assert_accessible(page)
    _log_out(page)

    _as(page, live_server, Role.FORBUNDSCHEF, case_url(ref))
    page.get_by_role("button", name="Lägg på beredning").click()
    expect(page.get_by_role("status")).to_have_text("Klart: ”Lägg på beredning”.")
    expect(page.locator(".case-status")).to_contain_text("Under beredning")
    assert_accessible(page)
    assert cases.get_case(demo_app, ref=ref, forbund="akst").state == "under_beredning"
    # The lifecycle picture marks the new state, and fits a phone's width.
    picture = page.get_by_role("img", name=re.compile("^Livscykeln som bild"))
    expect(picture.locator(".lc-state--current")).to_have_attribute("data-state", "under_beredning")
    page.set_viewport_size({"width": 360, "height": 800})
    box = picture.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert_accessible(page)


@pytest.fixture
def second_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    yield context
    context.close()


def test_two_browsers_changing_the_same_case_get_a_conflict(
    live_server: str, page: Page, second_context: BrowserContext, demo_app: App
) -> None:
    ref = next(
        c.ref
        for c in cases.list_cases(
            demo_app, forbund="akst", filters=cases.CaseFilter(text="IPS")
        ).items
    )
    _as(page, live_server, Role.FORBUNDSCHEF, case_url(ref))
    other = second_context.new_page()
    _as(other, live_server, Role.SEKRETERARE, case_url(ref))
    # The sekreterare asks for komplettering while the förbundschef still has the page open.
    form = other.locator("form", has=other.get_by_role("button", name="Begär komplettering"))
    form.get_by_label("Motivering (obligatorisk)").fill("Budgeten för 2028 saknar underlag.")
    form.get_by_role("button", name="Begär komplettering").click()
    expect(other.get_by_role("status")).to_contain_text("Klart")
    version = cases.get_case(demo_app, ref=ref, forbund="akst").version

    page.get_by_role("button", name="Lägg på beredning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Någon annan har ändrat ärendet")
    expect(page.get_by_role("alert")).to_contain_text("Ingenting av det du skickade har sparats")
    assert_accessible(page)
    after = cases.get_case(demo_app, ref=ref, forbund="akst")
    assert after.state == "komplettering" and after.version == version
    page.get_by_role("link", name="Ladda om ärendet och se ändringen").click()
    expect(page.locator(".case-status")).to_contain_text("Komplettering")
    assert_accessible(page)


def _focused(page: Page) -> str:
    return str(
        page.evaluate(
            "document.activeElement.id || "
            "document.activeElement.tagName + ':' + document.activeElement.textContent.trim()"
        )
    )


def _outline(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.activeElement).outlineStyle"))


def test_the_idea_form_by_keyboard_only(live_server: str, page: Page, demo_app: App) -> None:
    _as(page, live_server, Role.HANDLAGGARE, "/ideer/ny")
    typed = {
        "idea-title": "Tangentbordets idé",
        "idea-malgrupp": "Personer 18–64 år",
        "idea-budget-2027": "300",
    }
    selected = {"idea-owner_party": "K", "idea-inriktning": "s"}  # typeahead
    wanted_parties = {"Kungälvs kommun", "Arbetsförmedlingen"}
    seen: set[str] = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if focused in seen:
            continue
        seen.add(focused)
        if focused.startswith("idea-"):
            assert _outline(page) != "none", focused  # focus is visible on every field
        if focused in typed:
            page.keyboard.type(typed[focused])
        elif focused in selected:
            page.keyboard.type(selected[focused])
        elif focused.startswith("idea-parties-"):
            label = page.evaluate(
                "document.querySelector(`label[for='${document.activeElement.id}']`).textContent"
            )
            if label in wanted_parties:
                page.keyboard.press("Space")
        elif focused == "BUTTON:Skicka idén":
            assert _outline(page) != "none"
            page.keyboard.press("Enter")
            break
    else:
        pytest.fail(f"the send button was never reached by Tab; focused: {sorted(seen)}")
    expect(page.get_by_role("status")).to_have_text("Idén är inlämnad.")
    assert_accessible(page)
    ref = page.url.removeprefix(f"{live_server}/arenden/").split("?")[0]
    view = cases.get_case(demo_app, ref=ref, forbund="akst")
    assert view.title == "Tangentbordets idé" and view.inriktning == "struktur"
    assert sorted(view.parties) == sorted(wanted_parties) and view.owner_party == "Kungälvs kommun"
    assert view.budget_requested == {"2027": 300}


def test_a_refused_idea_is_said_accessibly_beside_the_field(live_server: str, page: Page) -> None:
    _as(page, live_server, Role.HANDLAGGARE, "/ideer/ny")
    page.get_by_label("Titel (obligatoriskt)").fill("En part för lite")
    page.get_by_label("Ale kommun").check()
    page.get_by_label("Tjörns kommun").check()
    page.get_by_label("Syfte").fill("Stöd till 19121212-1212")
    page.get_by_role("button", name="Skicka idén").click()
    expect(page.get_by_role("alert")).to_contain_text("Idén kunde inte skickas")
    expect(page.locator("#idea-parties-fel")).to_contain_text("minst två parter")
    expect(page.locator("#idea-syfte-fel")).to_contain_text("personnummer")
    expect(page.get_by_label("Titel (obligatoriskt)")).to_have_value("En part för lite")
    assert_accessible(page)
