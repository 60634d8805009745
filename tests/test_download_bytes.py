"""The case list's and the review table's downloads (/arenden.csv, /arenden.xlsx,
/granskning/rapporter.csv, /granskning/rapporter.xlsx) hold what a person saw in them before
they were read as plain rows: the same CSV bytes and the same XLSX cells (value, type, date
format), with and without a filter, for the förbundschef and for people who see fewer cases,
on the demo and on cases with awkward values (';', '"', line breaks, a leading '=', non-ASCII,
empty fields, an owner party that is not among the parties, seconds and microseconds).

The reference is the files as they were made from the view objects (CaseView, ReportView),
kept here in a few lines: the views are still what the pages show."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select, update

from tests import test_web_home
from tests.test_read_paths import statements
from tests.test_review_paging import every_row
from tests.web_support import ClientFactory, WebClient
from workflow.app import App
from workflow.models import Agreement, Insats, InsatsParty, Party, Person, Report
from workflow.services import cases
from workflow.services.cases import exports as case_exports
from workflow.services.cases.views import CaseView
from workflow.services.demo.logins import demo_login
from workflow.services.funding import reports
from workflow.services.organisation.forbund import resolve_forbund
from workflow.vocabulary import Role
from workflow.web.routes import review

signed_in = test_web_home.signed_in  # the fixture: a session without the argon2 login

# -- the reference: the files as made from the views ----------------------------------------

_CASE_COLUMNS: list[tuple[str, Callable[[CaseView], Any]]] = [
    ("Diarienummer", lambda v: v.ref),
    ("Titel", lambda v: v.title),
    ("Tillstånd", lambda v: v.state_label),
    ("Inriktning", lambda v: v.inriktning_label),
    ("Insatsägare", lambda v: v.owner_party),
    ("Parter", lambda v: ", ".join(v.parties)),
    ("Projektägare", lambda v: v.project_owner),
    ("Startdatum", lambda v: v.start),
    ("Slutdatum", lambda v: v.end),
    ("Sökt budget totalt (tkr)", lambda v: sum(v.budget_requested.values())),
    (
        "Sökt budget per år (tkr)",
        lambda v: "; ".join(f"{y}: {a}" for y, a in v.budget_requested.items()),
    ),
    ("Rekommendation", lambda v: v.recommendation_label),
    ("Beslutsparagraf", lambda v: v.decision_paragraph),
    ("Senast ändrad", lambda v: v.updated_at.replace(tzinfo=None, microsecond=0)),
]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def _csv(headers: list[str], rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_text(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _case_rows(app: App, email: str, **filters: Any) -> list[list[Any]]:
    chosen = cases.CaseFilter(viewer_email=email, **filters)
    return [
        [value(v) for _, value in _CASE_COLUMNS]
        for v in cases.iter_cases(app, forbund="akst", filters=chosen)
    ]


def _review_rows(app: App, email: str, given: dict[str, str]) -> list[list[Any]]:
    # routes/review.py's columns of a ReportView, as they were.
    return [
        [
            r.ref,
            r.title,
            r.kind_label,
            r.period_start,
            r.period_end,
            r.due_on,
            reports.GROUPS.get(r.group, r.status_label),
            r.days_overdue,
            r.submitted_on,
            r.utfall_tkr,
            r.participants_women,
            r.participants_men,
            r.participants_other,
            r.project_owner,
            r.reviewed_on,
            r.review_comment if r.status == "komplettering" else None,
        ]
        for r in every_row(
            app,
            viewer_email=email,
            forbund="akst",
            groups=(given["grupp"],) if "grupp" in given else (),
            kind=given.get("typ"),
            year=given.get("ar"),
            text=given.get("text"),
        )
    ]


def _cells(rows: list[list[Any]]) -> list[list[tuple[Any, str | None]]]:
    """Each cell as a spreadsheet reads it: its value and, for a date, its format."""
    shown = []
    for row in rows:
        cells: list[tuple[Any, str | None]] = []
        for value in row:
            if isinstance(value, datetime):
                cells.append((value, "yyyy-mm-dd hh:mm"))
            elif isinstance(value, date):
                cells.append((datetime(value.year, value.month, value.day), "yyyy-mm-dd"))
            elif isinstance(value, str):
                # A reader of the XML sees its line ends as "\n" (XML 1.0, 2.11).
                text = value.replace("\r\n", "\n").replace("\r", "\n")
                cells.append((text or None, None))
            else:
                cells.append((value, None))
        shown.append(cells)
    return shown


def _sheet(client: WebClient, url: str) -> list[list[tuple[Any, str | None]]]:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    book = load_workbook(io.BytesIO(answer.content))
    rows = []
    for row in book.active.iter_rows(min_row=2):  # type: ignore[union-attr]
        cells: list[tuple[Any, str | None]] = []
        for cell in row:
            if cell.is_date:
                cells.append((cell.value, cell.number_format))
            else:
                # A text that starts with '=' is text, not a formula.
                assert cell.data_type != "f", cell.coordinate
                cells.append((cell.value, None))
        rows.append(cells)
    book.close()
    return rows


def _downloaded(client: WebClient, url: str) -> bytes:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return answer.content


# -- the awkward values ----------------------------------------------------------------------

AWKWARD = [
    '=HYPERLINK("http://example.invalid";"klicka")',
    'Stöd; samverkan och "tillit"',
    "Rad ett\nrad två\r\nrad tre",
    "+46 och -1 och @alla",
    "\tinledande tabb",
    "Ål, ägg & öl – “citat” ✓",
    "vanlig titel",
]


def _awkward_world(app: App) -> None:
    """The demo's cases and reports, and cases straight into the tables with awkward values
    in every text a file shows, some fields left empty."""
    now = datetime(2026, 5, 4, 10, 11, 12, 345678, tzinfo=UTC)
    with app.db.transaction() as session:
        forbund = resolve_forbund(session, "akst")
        parties = session.exec(
            select(Party).where(Party.forbund_id == forbund.id).order_by(Party.id)  # type: ignore[arg-type]
        ).all()
        owner = session.exec(
            select(Person).where(Person.email == demo_login(Role.PROJEKTAGARE).email)
        ).one()
        for n, title in enumerate(AWKWARD):
            case = Insats(
                forbund_id=forbund.id,  # type: ignore[arg-type]
                number=9000 + n,
                dnr=None if n % 3 == 0 else f"2026/{title[:3]};{n}",
                title=title,
                inriktning=("individ", "struktur", "okänd")[n % 3],
                start_date=date(2026, 1, 1) if n % 2 else None,
                end_date=date(2027, 12, 31) if n % 4 == 1 else None,
                state=("idea", "inkommen", "pagaende", "nonsens")[n % 4],
                state_since=now,
                owner_party_id=parties[n % len(parties)].id if n % 2 else None,
                project_owner_id=owner.id if n % 2 == 0 else None,
                budget_requested={"2027": 100 + n, "2026": 7} if n % 3 else {},
                recommendation=(None, "bifall", "okänd rek")[n % 3],
                decision_paragraph=f'§ {n};"x"' if n % 2 else None,
                created_at=now,
                updated_at=now.replace(second=59, microsecond=999999 - n),
            )
            session.add(case)
            session.flush()
            for party in parties[n % 2 :: 2]:
                session.add(InsatsParty(insats_id=case.id, party_id=party.id))  # type: ignore[arg-type]
        # The demo's reported insatser get the awkward titles too, and its completion
        # requests a comment with a line break and a formula.
        reported = sorted(set(session.exec(select(Report.insats_id)).all()))
        for n, insats_id in enumerate(reported):
            session.exec(
                update(Insats)
                .where(Insats.id == insats_id)  # type: ignore[arg-type]
                .values(title=AWKWARD[n % len(AWKWARD)])
            )
        session.exec(update(Report).values(review_comment='=1+1; "mer"\nsiffror', utfall_tkr=None))
        agreement = session.exec(select(Agreement)).first()
        assert agreement is not None


VIEWERS = [Role.FORBUNDSCHEF, Role.PROJEKTAGARE, Role.STYRELSE_LEDAMOT, Role.HANDLAGGARE]
CASE_FILTERS: list[dict[str, Any]] = [
    {},
    {"state": "pagaende"},
    {"text": "stöd"},
    {"year": 2026, "party": "Ale kommun"},
]
REVIEW_FILTERS: list[dict[str, str]] = [{}, {"grupp": "godkand"}, {"grupp": "forsenad"}]


def _query(filters: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return f"?{urlencode(filters)}" if filters else ""


@pytest.mark.parametrize("awkward", [False, True], ids=["demo", "awkward"])
def test_the_case_list_files_are_the_same_as_made_from_the_views(
    signed_in: ClientFactory, demo_app: App, awkward: bool
) -> None:
    if awkward:
        _awkward_world(demo_app)
    headers = [header for header, _ in _CASE_COLUMNS]
    seen: set[int] = set()
    for role in VIEWERS:
        client = signed_in(role)
        email = demo_login(role).email
        for filters in CASE_FILTERS:
            rows = _case_rows(demo_app, email, **filters)
            seen.add(len(rows))
            assert _downloaded(client, f"/arenden.csv{_query(filters)}") == _csv(headers, rows)
            assert _sheet(client, f"/arenden.xlsx{_query(filters)}") == _cells(rows)
    assert len(seen) > 3  # the viewers and filters do see different cases


@pytest.mark.parametrize("awkward", [False, True], ids=["demo", "awkward"])
def test_the_review_table_files_are_the_same_as_made_from_the_views(
    signed_in: ClientFactory, demo_app: App, awkward: bool
) -> None:
    if awkward:
        _awkward_world(demo_app)
    chef = signed_in(Role.FORBUNDSCHEF)
    email = demo_login(Role.FORBUNDSCHEF).email
    for given in REVIEW_FILTERS:
        rows = _review_rows(demo_app, email, given)
        assert rows or given
        path = review.TABLE_PATH
        assert _downloaded(chef, f"{path}.csv{_query(given)}") == _csv(review.HEADERS, rows)
        assert _sheet(chef, f"{path}.xlsx{_query(given)}") == _cells(rows)


def test_a_bad_filter_of_the_review_files_is_a_page_before_the_first_byte(
    signed_in: ClientFactory,
) -> None:
    chef = signed_in(Role.FORBUNDSCHEF)
    for suffix in ("csv", "xlsx"):
        for query, words in (("grupp=kaffe", "okänd grupp"), ("ar=tjugo", "år")):
            refused = chef.get(f"{review.TABLE_PATH}.{suffix}?{query}")
            assert refused.status_code == 400, (suffix, query)
            assert refused.headers["content-type"].startswith("text/html")
            assert words in refused.text.lower()


def test_the_files_read_a_fixed_number_of_queries_whatever_the_number_of_rows(
    demo_app: App,
) -> None:
    chef = demo_login(Role.FORBUNDSCHEF).email
    _awkward_world(demo_app)  # registered cases and ideas, with and without project owners

    def case_queries(filters: cases.CaseFilter, batch: int) -> tuple[int, int]:
        with statements(demo_app) as seen:
            rows = case_exports.iter_rows(demo_app, forbund="akst", filters=filters, batch=batch)
            return len(list(rows)), len(seen)

    # The rights, the filter, the parties and the two ordered reads, and no row to read.
    _, bare = case_queries(cases.CaseFilter(viewer_email=chef, year=1901), 500)
    for batch in (500, 5):
        count, queries = case_queries(cases.CaseFilter(viewer_email=chef), batch)
        # Each batch of the registered cases and of the ideas reads its parties and its
        # project owners in one query each, whatever the number of cases in it.
        assert count > 3 * 5 and queries <= bare + 2 * (-(-count // batch) + 1)

    with statements(demo_app) as empty:
        assert not list(
            reports.table_export(demo_app, viewer_email=chef, forbund="akst", year=2099)
        )
    with statements(demo_app) as seen:
        rows = list(reports.table_export(demo_app, viewer_email=chef, forbund="akst"))
    assert 0 < len(rows) <= 500 and len(seen) == len(empty) + 1  # their project owners
