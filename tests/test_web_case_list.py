"""The case list: filters kept in the URL, keyset pages, rights, and CSV/XLSX of the filter."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Locator, Page, expect

from tests import test_web_home
from tests.browser_support import assert_accessible, log_in
from tests.web_support import ClientFactory, WebClient
from workflow.app import App
from workflow.services import cases
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role
from workflow.web.exports import HEADERS

signed_in = test_web_home.signed_in  # the fixture: a session without the argon2 login

_REF = re.compile(r'<tr data-ref="([^"]+)">')
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">Nästa sida</a>')


def _refs(page: str) -> list[str]:
    return [html.unescape(ref) for ref in _REF.findall(page)]


def _service_refs(app: App, forbund: str, **filters: object) -> list[str]:
    chosen = cases.CaseFilter(**filters)  # type: ignore[arg-type]
    return [view.ref for view in cases.iter_cases(app, forbund=forbund, filters=chosen)]


def _walk(client: WebClient, url: str) -> tuple[list[str], list[str]]:
    """Every page of the list from `url`, following "Nästa sida": the refs in order and the
    URLs visited."""
    refs: list[str] = []
    visited = [url]
    while True:
        page = client.get(url)
        assert page.status_code == 200, page.text
        refs += _refs(page.text)
        found = _NEXT.search(page.text)
        if found is None:
            return refs, visited
        url = html.unescape(found.group(1))
        visited.append(url)


def _csv_rows(client: WebClient, url: str) -> list[list[str]]:
    answer = client.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Swedish Excel needs
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))


def _xlsx_rows(client: WebClient, url: str) -> list[list[object]]:
    answer = client.get(url)
    assert answer.status_code == 200
    assert "spreadsheetml" in answer.headers["content-type"]
    book = load_workbook(io.BytesIO(answer.content), read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
    book.close()
    return rows


def test_filters_combine_and_survive_paging(signed_in: ClientFactory, demo_app: App) -> None:
    chef = signed_in(Role.FORBUNDSCHEF)
    start = "/arenden?state=pagaende&inriktning=individ&year=2014&party=Arbetsf%C3%B6rmedlingen"
    refs, visited = _walk(chef, start + "&limit=2")
    expected = _service_refs(
        demo_app,
        "akst",
        state="pagaende",
        inriktning="individ",
        year=2014,
        party="Arbetsförmedlingen",
    )
    assert refs == expected and len(expected) >= 3  # more than one page
    assert len(visited) == (len(expected) + 1) // 2
    for url in visited[1:]:  # each later page keeps the filter and the page size
        params = parse_qs(urlsplit(url).query)
        assert params["state"] == ["pagaende"] and params["year"] == ["2014"]
        assert params["inriktning"] == ["individ"] and params["party"] == ["Arbetsförmedlingen"]
        assert params["limit"] == ["2"] and params["after"]
    # The form shows the filter chosen, and the count is of the whole filter, not the page.
    page = chef.get(visited[-1]).text
    assert '<option value="pagaende" selected>' in page
    assert f"{len(expected)} ärenden</h2>" in page
    first = re.search(r'<a href="([^"]+)">Första sidan</a>', page)
    assert first is not None  # and it keeps the filter and the page size, without a cursor
    params = parse_qs(urlsplit(html.unescape(first.group(1))).query)
    assert params["state"] == ["pagaende"] and params["limit"] == ["2"] and "after" not in params


def test_free_text_finds_dnr_and_title_and_an_empty_field_is_no_filter(
    signed_in: ClientFactory, demo_app: App
) -> None:
    chef = signed_in(Role.FORBUNDSCHEF)
    by_title = _refs(chef.get("/arenden?text=teamet&state=&year=&party=").text)
    assert by_title == _service_refs(demo_app, "akst", text="teamet") and len(by_title) == 2
    assert _refs(chef.get("/arenden?text=2026/00").text) == _service_refs(
        demo_app, "akst", text="2026/00"
    )
    assert _refs(chef.get("/arenden?text=finns+inte+alls").text) == []
    assert "Inga ärenden matchar filtret." in chef.get("/arenden?text=finns+inte+alls").text


def test_a_projektagare_sees_only_their_own_insatser_in_the_list_and_the_exports(
    signed_in: ClientFactory, demo_app: App
) -> None:
    login = demo_login(Role.PROJEKTAGARE)
    owner = signed_in(Role.PROJEKTAGARE)
    theirs = _service_refs(demo_app, "akst", viewer_email=login.email)
    everything = _service_refs(demo_app, "akst")
    assert theirs and len(theirs) < len(everything)
    for view in cases.iter_cases(
        demo_app, forbund="akst", filters=cases.CaseFilter(viewer_email=login.email)
    ):
        assert view.project_owner == login.email
    assert _walk(owner, "/arenden?limit=1")[0] == theirs
    assert [row[0] for row in _csv_rows(owner, "/arenden.csv")[1:]] == theirs
    assert [row[0] for row in _xlsx_rows(owner, "/arenden.xlsx")[1:]] == theirs
    # A filter cannot widen it: another owner's insats stays out.
    other = next(ref for ref in everything if ref not in theirs and ref.startswith("2012/012"))
    assert _refs(owner.get(f"/arenden?text={other}").text) == []
    assert len(_csv_rows(owner, f"/arenden.csv?text={other}")) == 1  # the header only


def test_the_exports_hold_the_filtered_rows_with_swedish_headers(
    signed_in: ClientFactory, demo_app: App
) -> None:
    chef = signed_in(Role.FORBUNDSCHEF)
    query = "state=pagaende&year=2026"
    expected = list(
        cases.iter_cases(
            demo_app, forbund="akst", filters=cases.CaseFilter(state="pagaende", year=2026)
        )
    )
    assert expected
    rows = _csv_rows(chef, f"/arenden.csv?{query}")
    assert rows[0] == HEADERS and rows[0][:3] == ["Diarienummer", "Titel", "Tillstånd"]
    assert [row[:3] for row in rows[1:]] == [[v.ref, v.title, v.state_label] for v in expected]
    sheet = _xlsx_rows(chef, f"/arenden.xlsx?{query}")
    assert sheet[0] == HEADERS
    assert [row[:3] for row in sheet[1:]] == [[v.ref, v.title, v.state_label] for v in expected]
    start = HEADERS.index("Startdatum")
    starts = [row[start] for row in sheet[1:]]
    assert all(isinstance(day, datetime) for day in starts)  # a date cell, not text
    assert [day.date() for day in starts if isinstance(day, datetime)] == [
        v.start for v in expected
    ]
    # The list page links to exactly these.
    page = chef.get(f"/arenden?{query}").text
    assert 'href="/arenden.csv?state=pagaende&amp;year=2026"' in page
    assert 'href="/arenden.xlsx?state=pagaende&amp;year=2026"' in page


def test_a_title_that_looks_like_a_formula_is_exported_as_text(
    signed_in: ClientFactory, demo_app: App
) -> None:
    title = '=HYPERLINK("http://example.invalid";"klicka")'
    cases.submit_idea(
        demo_app,
        actor_email=demo_login(Role.HANDLAGGARE).email,
        values={"title": title, "parties": ["Ale kommun", "Försäkringskassan"]},
        forbund="akst",
    )
    chef = signed_in(Role.FORBUNDSCHEF)
    rows = _csv_rows(chef, "/arenden.csv?text=HYPERLINK")
    assert [row[1] for row in rows[1:]] == ["'" + title]
    answer = chef.get("/arenden.xlsx?text=HYPERLINK")
    book = load_workbook(io.BytesIO(answer.content))
    cell = book.active["B2"]  # type: ignore[index]
    assert cell.value == title and cell.data_type == "s"


# A hand-edited address, each with the words of its page.
_BAD = [
    ("state=nej", "Okänt tillstånd 'nej'; välj ett av tillstånden i listan Tillstånd."),
    ("inriktning=blandad", "Okänd inriktning 'blandad'"),
    ("year=tjugotjugosex", "Ogiltigt år 'tjugotjugosex'; ange ett år med fyra siffror"),
    ("year=99999", "Ogiltigt år 99999"),
    ("party=Fagersta+kommun", "Okänd part 'Fagersta kommun' i förbundet akst; kända:"),
    ("after=inte-en-mark%C3%B6r", "Länken till sidan är ogiltig eller för gammal"),
    ("limit=0", "Ogiltig sidstorlek 0"),
    ("limit=m%C3%A5nga", "Ogiltig sidstorlek 'många'"),
]


def test_an_unknown_filter_value_is_a_swedish_400_page(signed_in: ClientFactory) -> None:
    chef = signed_in(Role.FORBUNDSCHEF)
    for query, words in _BAD:
        page = chef.get(f"/arenden?{query}")
        assert page.status_code == 400, query
        assert words in html.unescape(page.text), query
        assert 'role="alert"' in page.text and 'action="/arenden"' in page.text  # form stays
        if query.startswith(("after", "limit")):
            continue
        for suffix in ("csv", "xlsx"):  # an export checks its filter before the first byte
            export = chef.get(f"/arenden.{suffix}?{query}")
            assert export.status_code == 400 and words in html.unescape(export.text), query


def test_another_forbund_sees_only_its_own_cases_on_every_list(
    signed_in: ClientFactory, demo_app: App
) -> None:
    nv = signed_in(Role.FORBUNDSCHEF, "nv")
    own = _service_refs(demo_app, "nv")
    assert _refs(nv.get("/arenden").text) == own
    assert [row[0] for row in _csv_rows(nv, "/arenden.csv")[1:]] == own
    assert [row[0] for row in _xlsx_rows(nv, "/arenden.xlsx")[1:]] == own
    assert set(test_web_home._waiting(nv.get("/").text)) <= set(own)
    # A dnr of the other förbund finds nothing; its parties are unknown here.
    assert _refs(nv.get("/arenden?text=2012/011").text) == []
    assert nv.get("/arenden?party=Ale+kommun").status_code == 400


def test_the_lists_need_a_login(anonymous: WebClient) -> None:
    for path in ("/", "/arenden?state=inkommen", "/arenden.csv", "/arenden.xlsx"):
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/logga-in")


# -- in a real browser ----------------------------------------------------------------------


def _tab_to(page: Page, target: Locator, presses: int = 40) -> None:
    """Press Tab until `target` has the focus (a keyboard user's way there), visibly."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            break
    expect(target).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


@pytest.mark.browser
def test_filter_and_page_through_the_list_by_keyboard_only(
    live_server: str, page: Page, demo_app: App
) -> None:
    page.goto(f"{live_server}/logga-in?nasta=/arenden%3Flimit%3D2")
    log_in(page, demo_login(Role.FORBUNDSCHEF).email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ärenden")
    assert_accessible(page)
    # Choose the state with the arrow keys in the closed list, the year in its field, Enter.
    state = page.get_by_label("Tillstånd")
    _tab_to(page, state)
    for _ in range(20):
        if state.input_value() == "pagaende":
            break
        page.keyboard.press("ArrowDown")
    expect(state).to_have_value("pagaende")
    year = page.get_by_label("År")
    _tab_to(page, year, presses=5)
    page.keyboard.type("2014")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"state=pagaende.*year=2014.*limit=2"))
    expected = _service_refs(demo_app, "akst", state="pagaende", year=2014)
    expect(page.get_by_role("heading", level=2)).to_have_text(f"{len(expected)} ärenden")
    seen = [row.get_attribute("data-ref") for row in page.locator("tr[data-ref]").all()]
    while True:
        following = page.get_by_role("link", name="Nästa sida")
        if following.count() == 0:
            break
        _tab_to(page, following, presses=60)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        seen += [row.get_attribute("data-ref") for row in page.locator("tr[data-ref]").all()]
    assert seen == expected and len(expected) > 2
    expect(page.get_by_label("År")).to_have_value("2014")  # the filter is still chosen
    assert_accessible(page)


@pytest.mark.browser
def test_the_start_page_and_the_list_are_accessible_for_two_roles(
    live_server: str, browser: Browser
) -> None:
    for role in (Role.FORBUNDSCHEF, Role.PROJEKTAGARE):
        context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
        tab = context.new_page()
        tab.goto(f"{live_server}/logga-in")
        log_in(tab, demo_login(role).email)
        expect(tab.get_by_role("heading", level=1)).to_have_text("Att göra")
        expect(tab.get_by_role("heading", name="Väntar på dig")).to_be_visible()
        assert_accessible(tab)
        tab.get_by_role("link", name="Ärenden", exact=True).click()
        expect(tab.get_by_role("heading", level=1)).to_have_text("Ärenden")
        expect(tab.get_by_role("link", name="Ärenden", exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        assert_accessible(tab)
        context.close()
