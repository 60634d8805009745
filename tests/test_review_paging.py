"""The förbundschef's table of reports (/granskning/rapporter, /api/v1/review/reports) a page
at a time: every filter is part of the query, so paging through gives each report once, in
order (due date, dnr bytewise, report), with nothing lost or repeated and every page but the
last full; the groups follow the clock; the text is found as written (`%` and `_` too)."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import Any

import pytest
from sqlmodel import select

from tests.api_support import ApiClientFactory
from tests.funding_world import CHEF, PROJEKTAGARE
from tests.support import TravelClock, build_world
from tests.test_read_paths import statements
from tests.web_support import ClientFactory
from workflow.app import App
from workflow.clock import STOCKHOLM
from workflow.errors import BadInput
from workflow.models import Agreement, Insats, Person, Report
from workflow.services.funding import reports
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import MAX_LIMIT
from workflow.vocabulary import Role
from workflow.web.routes import review as review_routes

TODAY = date(2028, 3, 1)
# Titles with LIKE's wildcards in them, each beside one the wildcard would also match.
TITLES = [
    "Stöd 100% för unga",
    "Stöd 1000 för unga",
    "Arbete_steg för steg",
    "Arbete i steg",
    "Återgång i arbete",
    "Insats utan tecken",
]
# (kind, due date, status) of each insats's reports: owed ones on both sides of TODAY,
# several reports due on the same day (so that a page ends inside a day), every status.
PLAN = [
    ("delar", date(2027, 8, 31), "godkand"),
    ("helar", date(2028, 1, 31), "vantar"),
    ("helar", date(2028, 1, 31), "komplettering"),
    ("lages", date(2028, 3, 1), "vantar"),
    ("lages", date(2028, 3, 10), "vantar"),
    ("delar", date(2028, 3, 10), "komplettering"),
    ("delar", date(2028, 8, 31), "inkommen"),
    ("slut", date(2029, 2, 28), "ersatt"),
]


def _table_world(app: App, clock: TravelClock, insatser: int = 7) -> None:
    """A förbund whose insatser have reports of every kind, status and group. Straight into
    the tables; the dnr run opposite to the ids, so an order by id would show."""
    build_world(app, clock)
    now = clock()
    with app.db.transaction() as session:
        forbund = resolve_forbund(session, "test")
        owner = session.exec(select(Person).where(Person.email == PROJEKTAGARE)).one()
        for n in range(insatser):
            case = Insats(
                forbund_id=forbund.id,  # type: ignore[arg-type]
                number=n + 1,
                dnr=f"2026/{insatser - n:03d}",
                title=TITLES[n % len(TITLES)],
                inriktning="individ",
                start_date=date(2027, 1, 1),
                end_date=date(2029, 12, 31),
                state="pagaende",
                state_since=now,
                project_owner_id=owner.id if n % 2 == 0 else None,
                budget_requested={"2027": 100},
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            session.flush()
            agreement = Agreement(
                forbund_id=forbund.id,  # type: ignore[arg-type]
                insats_id=case.id,  # type: ignore[arg-type]
                decision_paragraph=f"§ {n + 1}",
                start_date=date(2027, 1, 1),
                end_date=date(2029, 12, 31),
                amounts={"2027": 100},
                payment_terms="Helårsvis",
                status="undertecknat",
                created_at=now,
            )
            session.add(agreement)
            session.flush()
            for kind, due, status in PLAN[n % 3 :]:
                session.add(
                    Report(
                        forbund_id=forbund.id,  # type: ignore[arg-type]
                        insats_id=case.id,  # type: ignore[arg-type]
                        agreement_id=agreement.id,  # type: ignore[arg-type]
                        kind=kind,
                        period_start=date(2027, 1, 1),
                        period_end=due,
                        due_on=due,
                        status=status,
                        updated_at=now,
                    )
                )
    clock.set(datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0, tzinfo=STOCKHOLM))


def _old_filter(
    app: App,
    groups: tuple[str, ...] = (),
    kind: str | None = None,
    year: int | None = None,
    text: str | None = None,
) -> list[tuple[int, str]]:
    """What the table gave before it paged: every report read, then filtered in Python
    (its group by the clock, its kind, the year it is due, the text in the dnr or title)."""
    wanted = groups or reports.OPEN_GROUPS
    needle = (text or "").strip().lower()
    found = [
        r
        for r in reports.list_reports(app, forbund="test")
        if r.group in wanted
        and (kind is None or r.kind == kind)
        and (year is None or r.due_on.year == year)
        and (not needle or needle in r.ref.lower() or needle in r.title.lower())
    ]
    found.sort(key=lambda r: (r.due_on, r.ref, r.id))  # str order is code point order
    return [(r.id, r.group) for r in found]


def _paged(app: App, limit: int, **filters: Any) -> list[tuple[int, str]]:
    """Every page of the table, in turn, from `next_after` to `next_after`."""
    seen: list[tuple[int, str]] = []
    after: str | None = None
    while True:
        page = reports.table(
            app, viewer_email=CHEF, forbund="test", after=after, limit=limit, **filters
        )
        assert len(page.items) <= limit
        seen += [(r.id, r.group) for r in page.items]
        if page.next_after is None:
            return seen
        # A page is full whenever another follows: nothing is filtered out after the fetch.
        assert len(page.items) == limit
        after = page.next_after


FILTERS: list[dict[str, Any]] = [
    {},
    {"groups": ("forsenad",)},
    {"groups": ("kommande",)},
    {"groups": ("komplettering",)},
    {"groups": ("inkommen",)},
    {"groups": ("godkand",)},
    {"groups": ("ersatt",)},
    {"kind": "delar"},
    {"year": 2028},
    {"year": "2029", "groups": ("ersatt",)},
    {"groups": ("forsenad",), "kind": "helar", "year": 2028},
    {"text": "100%"},
    {"text": "e_s"},
    {"text": "  ÅTERGÅNG "},
    {"text": "2026/00"},
    {"text": "ingenting sådant"},
]


@pytest.mark.parametrize("limit", [1, 3, 500])
def test_paging_through_the_table_gives_every_report_once_in_order(
    app: App, clock: TravelClock, limit: int
) -> None:
    _table_world(app, clock)
    for filters in FILTERS:
        old: dict[str, Any] = {k: (int(v) if k == "year" else v) for k, v in filters.items()}
        assert _paged(app, limit, **filters) == _old_filter(app, **old), filters
    everything = _paged(app, limit, groups=tuple(reports.GROUPS))
    assert len(everything) == len(set(everything)) == len(reports.list_reports(app, forbund="test"))


def every_row(app: App, **filters: Any) -> list[reports.ReportView]:
    """Every row of the table with these filters (as `table`'s keyword arguments, with
    viewer_email and forbund), page after page of the service."""
    rows: list[reports.ReportView] = []
    after = None
    while True:
        page = reports.table(app, after=after, limit=MAX_LIMIT, **filters)
        rows += page.items
        if page.next_after is None:
            return rows
        after = page.next_after


def test_the_files_have_every_row_of_the_filter_read_a_batch_at_a_time(
    app: App, clock: TravelClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _table_world(app, clock)
    monkeypatch.setattr(reports, "_EXPORT_BATCH", 2)
    for filters in ({}, {"groups": ("forsenad",)}, {"kind": "delar", "text": "steg"}):
        rows = every_row(app, viewer_email=CHEF, forbund="test", **filters)
        assert len(rows) > 2 and [(r.id, r.group) for r in rows] == _old_filter(app, **filters)
        exported = reports.table_export(app, viewer_email=CHEF, forbund="test", **filters)
        assert [row[0] for row in exported] == [r.ref for r in rows]


def test_the_wildcards_in_a_text_are_found_as_written(app: App, clock: TravelClock) -> None:
    _table_world(app, clock)
    percent = reports.table(app, viewer_email=CHEF, forbund="test", text="100%").items
    assert percent and {r.title for r in percent} == {"Stöd 100% för unga"}
    underscore = reports.table(app, viewer_email=CHEF, forbund="test", text="e_s").items
    assert underscore and {r.title for r in underscore} == {"Arbete_steg för steg"}
    folded = reports.table(app, viewer_email=CHEF, forbund="test", text="ÅTERGÅNG").items
    assert folded and {r.title for r in folded} == {"Återgång i arbete"}


def test_a_report_moves_from_kommande_to_forsenad_when_its_day_has_passed(
    app: App, clock: TravelClock
) -> None:
    _table_world(app, clock)

    def due_on(group: str) -> set[date]:
        page = reports.table(app, viewer_email=CHEF, forbund="test", groups=(group,), limit=500)
        assert page.next_after is None
        return {r.due_on for r in page.items}

    # Due today is not late; due on the 10th is late from the 11th.
    assert due_on("kommande") == {date(2028, 3, 1), date(2028, 3, 10)}
    assert date(2028, 3, 1) not in due_on("forsenad")
    clock.set(date(2028, 3, 11))
    assert due_on("kommande") == set()
    assert {date(2028, 3, 1), date(2028, 3, 10)} <= due_on("forsenad")
    assert date(2028, 3, 10) not in due_on("komplettering")
    assert _paged(app, 2, groups=("forsenad",)) == _old_filter(app, groups=("forsenad",))


def test_the_page_has_the_project_owners_in_one_query(app: App, clock: TravelClock) -> None:
    _table_world(app, clock)
    reports.table(app, viewer_email=CHEF, forbund="test", limit=500)
    with statements(app) as seen:
        page = reports.table(app, viewer_email=CHEF, forbund="test", limit=500)
    people = [s for s in seen if re.search(r"FROM person\s+WHERE person.id IN", s)]
    assert len(people) == 1
    owned = [r for r in page.items if r.project_owner is not None]
    assert owned and {r.project_owner for r in owned} == {PROJEKTAGARE}
    assert len(seen) <= 4


def test_a_bad_cursor_or_page_size_is_refused_in_one_line(app: App, clock: TravelClock) -> None:
    _table_world(app, clock)
    first = reports.table(app, viewer_email=CHEF, forbund="test", limit=2)
    assert first.next_after is not None
    for cursor in ("inte-en-markör", first.next_after[:-3] + "x!", "e30"):
        with pytest.raises(BadInput) as refused:
            reports.table(app, viewer_email=CHEF, forbund="test", after=cursor)
        assert "ogiltig sidmarkör" in str(refused.value) and "\n" not in str(refused.value)
    for limit in (0, 501):
        with pytest.raises(BadInput, match="ogiltig sidstorlek"):
            reports.table(app, viewer_email=CHEF, forbund="test", limit=limit)


# -- The page and the API (the demo förbund) ------------------------------------------------


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-report="(\d+)">', html)]


def _link(html: str, text: str) -> str | None:
    found = re.search(r'<a href="([^"]+)"[^>]*>' + text + "</a>", html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_page_goes_on_with_the_filters_to_the_next_page_and_back(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review_routes, "PAGE_SIZE", 2)
    chef = client_as(Role.FORBUNDSCHEF)
    whole = every_row(demo_app, viewer_email="chef@akst.example", forbund="akst")
    assert len(whole) > 4
    seen: list[int] = []
    path: str | None = "/granskning/rapporter?typ=&text="
    pages = 0
    while path is not None:
        page = chef.get(path)
        assert page.status_code == 200
        ids = _ids(page.text)
        assert 1 <= len(ids) <= 2
        seen += ids
        pages += 1
        path = _link(page.text, "Nästa sida")
        if pages > 1:
            assert _link(page.text, "Första sidan") == "/granskning/rapporter"
        else:
            assert _link(page.text, "Första sidan") is None
    assert seen == [r.id for r in whole]

    # The filters go with the cursor, and "Första sidan" keeps them.
    late = [
        r.id
        for r in every_row(
            demo_app, viewer_email="chef@akst.example", forbund="akst", groups=("forsenad",)
        )
    ]
    first = chef.get("/granskning/rapporter?grupp=forsenad").text
    following = _link(first, "Nästa sida")
    if len(late) > 2:
        assert following is not None and "grupp=forsenad" in following and "efter=" in following
        second = chef.get(following).text
        assert _ids(first) + _ids(second) == late[:4]
        assert _link(second, "Första sidan") == "/granskning/rapporter?grupp=forsenad"
    else:
        assert following is None and _ids(first) == late


def test_a_bad_cursor_on_the_page_is_a_swedish_sentence(client_as: ClientFactory) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    bad = chef.get("/granskning/rapporter?grupp=forsenad&efter=trasig")
    assert bad.status_code == 400
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", bad.text)))
    assert "Ogiltig sidmarkör 'trasig'; börja om från första sidan." in text
    assert "--after" not in text
    # Someone who may not see the table is refused that first, whatever the cursor.
    assert client_as(Role.PROJEKTAGARE).get("/granskning/rapporter?efter=x").status_code == 403


def test_the_api_pages_with_next_after(api_as: ApiClientFactory, demo_app: App) -> None:
    chef = api_as(Role.FORBUNDSCHEF)
    whole = every_row(demo_app, viewer_email="chef@akst.example", forbund="akst")
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        answer = chef.get("/api/v1/review/reports", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        if body["next_after"] is None:
            break
        params["after"] = body["next_after"]
    assert seen == [r.id for r in whole] and len(seen) > 2

    bad = chef.get("/api/v1/review/reports", params={"after": "trasig"})
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "ogiltig sidmarkör" in bad.text
    # A page size out of bounds is refused as the other lists refuse it (problem+json 400).
    for limit in (0, 501):
        assert chef.get("/api/v1/review/reports", params={"limit": limit}).status_code == 400
    default = chef.get("/api/v1/review/reports").json()
    assert len(default["items"]) == min(len(whole), reports.TABLE_LIMIT)
