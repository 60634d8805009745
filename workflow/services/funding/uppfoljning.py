"""Uppföljning Finsam (Försäkringskassan's national follow-up, which replaced SUS): there is no
public API, so the förbund keeps the external reference and the last registration date per
insats here, and exports a CSV that mirrors the fields Uppföljning Finsam asks for
(domain.md §3): insats data, budget and utfall per calendar year, and participant counts by
gender as aggregate numbers only."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from itertools import chain
from typing import Any, TextIO

from sqlalchemy import ColumnElement, String, and_, exists, extract, func, literal_column, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import FunctionElement
from sqlmodel import select

from workflow.app import App
from workflow.clock import local_date
from workflow.csv_row import CsvRow
from workflow.errors import BadInput
from workflow.models import BudgetLine, ForbundRef, Insats, Report, UppfoljningRecord
from workflow.services.cases import case_ref, find_case
from workflow.services.cases.change import begin_change
from workflow.services.funding.support import parse_year, record
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import Keyset, bytewise, check_limit
from workflow.text_guard import check_one_line

INRIKTNING = {"individ": "Individinriktad", "struktur": "Strukturövergripande"}
COLUMNS = [
    "Förbund",
    "Diarienummer",
    "Referens i Uppföljning Finsam",
    "Senast registrerad",
    "Insatsens namn",
    "Beskrivning",
    "Startdatum",
    "Slutdatum",
    "Inriktning",
    "Preciserad inriktning",
    "Målgrupp",
    "Uppföljningsmetod",
    "ESF-finansierad",
    "År",
    "Budget (tkr)",
    "Utfall (tkr)",
    "Deltagare kvinnor",
    "Deltagare män",
    "Deltagare övriga",
]


@dataclass
class RecordView:
    ref: str
    external_ref: str | None
    last_registered_on: date | None
    preciserad_inriktning: str | None
    uppfoljningsmetod: str | None
    esf: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def register(
    app: App,
    *,
    ref: str,
    actor_email: str,
    external_ref: str | None = None,
    registered_on: date | None = None,
    preciserad_inriktning: str | None = None,
    uppfoljningsmetod: str | None = None,
    esf: bool | None = None,
    forbund: str | None = None,
) -> RecordView:
    now = app.clock()
    external = check_one_line(external_ref, "referensen", 60) if external_ref else None
    precise = (
        check_one_line(preciserad_inriktning, "preciserad inriktning")
        if preciserad_inriktning
        else None
    )
    method = check_one_line(uppfoljningsmetod, "uppföljningsmetod") if uppfoljningsmetod else None
    if registered_on is not None and registered_on > local_date(now, app.settings.zone):
        raise BadInput(f"registreringsdatumet {registered_on.isoformat()} ligger i framtiden")
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "register_uppfoljning")
        case = find_case(session, organisation, ref)
        row = session.get(UppfoljningRecord, case.id)
        created = row is None
        if row is None:
            row = UppfoljningRecord(
                insats_id=case.id,  # type: ignore[arg-type]
                forbund_id=organisation.id,  # type: ignore[arg-type]
                updated_at=now,
            )
        row.external_ref = external or row.external_ref
        row.last_registered_on = registered_on or row.last_registered_on
        row.preciserad_inriktning = precise or row.preciserad_inriktning
        row.uppfoljningsmetod = method or row.uppfoljningsmetod
        if esf is not None:
            row.esf = esf
        row.updated_at = now
        session.add(row)
        record(
            session,
            head,
            kind="uppfoljning",
            row_id=case.id,  # type: ignore[arg-type]
            ref=case_ref(case),
            from_state=None if created else "registrerad",
            to_state="registrerad",
            trigger="registrera_uppfoljning",
            actor=actor,
            now=now,
            data={"external_ref": row.external_ref, "last_registered_on": row.last_registered_on},
        )
        return _view(case, row)


def _view(case: Insats, row: UppfoljningRecord) -> RecordView:
    return RecordView(
        case_ref(case),
        row.external_ref,
        row.last_registered_on,
        row.preciserad_inriktning,
        row.uppfoljningsmetod,
        row.esf,
    )


Counts = tuple[int | None, int | None, int | None]
_REPORT = Report.__table__  # type: ignore[attr-defined]
_LINE = BudgetLine.__table__  # type: ignore[attr-defined]
_CASE = Insats.__table__  # type: ignore[attr-defined]
_RECORD = UppfoljningRecord.__table__  # type: ignore[attr-defined]
# Rows fetched from the database at a time while exporting (the memory of one batch).
BATCH = 2000
# Rows of the Uppföljning page at a time (the export has them all).
PAGE_LIMIT = 100


class iso_date(FunctionElement[str]):
    """A date column as its ISO text (YYYY-MM-DD), which is what the export writes: SQLite
    stores dates as that text already, so no date object is made and formatted again per row
    (a third of the export's CPU at 100 000 cases); PostgreSQL formats it with to_char, which
    does not depend on the server's DateStyle."""

    type = String()
    inherit_cache = True
    name = "iso_date"


@compiles(iso_date)
def _iso_date_default(element: iso_date, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(iso_date, "postgresql")
def _iso_date_postgresql(element: iso_date, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


# An insats's own columns of the export (COLUMNS before "År"), read once per insats.
_HEAD = (
    _CASE.c.id,
    _CASE.c.dnr,
    _CASE.c.number,
    _CASE.c.title,
    _CASE.c.syfte,
    iso_date(_CASE.c.start_date),
    iso_date(_CASE.c.end_date),
    _CASE.c.inriktning,
    _CASE.c.malgrupp,
    _RECORD.c.insats_id,
    _RECORD.c.external_ref,
    iso_date(_RECORD.c.last_registered_on),
    _RECORD.c.preciserad_inriktning,
    _RECORD.c.uppfoljningsmetod,
    _RECORD.c.esf,
)
# Every stream of the export and every page of the Uppföljning page comes in this order: an
# insats's budget lines together, insatser by diarienummer (bytewise, as the case list).
_BY_CASE = (bytewise(_CASE.c.dnr), _CASE.c.id)
ROWS_ORDER = Keyset("uppfoljning", (*_BY_CASE, _LINE.c.year))


def _has_line(wanted: int | None) -> ColumnElement[bool]:
    """The insats (_CASE) has a budget line, in the wanted year if one is chosen."""
    line = select(_LINE.c.id).where(_LINE.c.insats_id == _CASE.c.id)
    if wanted is not None:
        line = line.where(_LINE.c.year == wanted)
    return exists(line)


# The approved status as a literal, the same words as the partial index on approved reports
# (models/funding.py ix_report_approved), so that SQLite can use it: a bound parameter it
# cannot compare with the index's condition.
_APPROVED: ColumnElement[str] = literal_column("'godkand'")


def _counts_query(forbund: ForbundRef, wanted: int | None) -> Select[Any]:
    """The approved reports with participant counts, an insats's together and, within it, the
    latest period end first: per (insats, year) the first one is the count (a helårsrapport
    covers the delår before it, so counts are never added up across reports). The reports
    alone, without their insatser: the totals read every approved report, and a join would
    look each one's insats up for nothing (the export joins them for its order)."""
    query = select(
        _REPORT.c.insats_id,
        iso_date(_REPORT.c.period_end),
        _REPORT.c.participants_women,
        _REPORT.c.participants_men,
        _REPORT.c.participants_other,
    ).where(_REPORT.c.forbund_id == forbund.id, _REPORT.c.status == _APPROVED)
    if wanted is not None:
        query = query.where(
            _REPORT.c.period_end >= date(wanted, 1, 1),
            _REPORT.c.period_end <= date(wanted, 12, 31),
        )
    return query


def _per_year(reports: Iterable[Sequence[Any]]) -> dict[int, Counts]:
    """The counts per year of one insats's approved reports, latest period end first."""
    found: dict[int, Counts] = {}
    for _insats, period_end, women, men, other in reports:
        found.setdefault(int(period_end[:4]), (women, men, other))
    return found


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _head_columns(name: str, row: Sequence[Any]) -> list[Any]:
    """The export's columns before "År" from a _HEAD row."""
    (
        insats_id,
        dnr,
        number,
        title,
        syfte,
        start,
        end,
        inriktning,
        malgrupp,
        recorded,
        external_ref,
        registered_on,
        precise,
        method,
        esf,
    ) = row
    return [
        name,
        dnr or f"ide-{number or insats_id}",  # case_ref without the ORM object
        external_ref if recorded is not None else "",
        registered_on or "",
        title,
        syfte or "",
        start or "",
        end or "",
        INRIKTNING.get(inriktning, inriktning),
        precise or "",
        malgrupp or "",
        method or "",
        "Ja" if recorded is not None and esf else "Nej",
    ]


class _Runs:
    """An ordered stream of rows taken an insats at a time: the rows of each insats come
    together and in the heads' order (_BY_CASE), so walking the heads takes them in turn."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self._rows = iter(rows)
        self._next = next(self._rows, None)

    def take(self, insats_id: int) -> list[Sequence[Any]]:
        taken = []
        while self._next is not None and self._next[0] == insats_id:
            taken.append(self._next)
            self._next = next(self._rows, None)
        return taken


Line = tuple[int, int, int | None]  # a budget line: year, granted and utfall (tkr)


def _insatser(
    app: App, *, year: Any = None, forbund: str | None = None
) -> Iterator[tuple[list[Any], list[Line], dict[int, Counts]]]:
    """Each insats with budget lines, in the export's order: its own columns of the export
    (COLUMNS before "År"), its lines in year order, and its participant counts per year.

    Three queries whatever the number of insatser, read side by side a batch at a time in
    one snapshot, all in the same order: the insatser (each read once, not once per line as
    a join would), their budget lines, and their approved reports. Plain rows, no ORM
    objects; the memory of a batch, whatever the size of the export."""
    wanted = None if year is None else parse_year(year)
    with app.db.snapshot() as session:
        organisation = resolve_forbund(session, forbund)
        mine = and_(_CASE.c.forbund_id == organisation.id, _has_line(wanted))
        streamed = {"stream_results": True, "yield_per": BATCH}
        heads = (
            select(*_HEAD)
            .select_from(_CASE.outerjoin(_RECORD, _RECORD.c.insats_id == _CASE.c.id))
            .where(mine)
            .order_by(*_BY_CASE)
            .execution_options(**streamed)
        )
        lines = (
            select(_LINE.c.insats_id, _LINE.c.year, _LINE.c.granted_tkr, _LINE.c.utfall_tkr)
            .join(_CASE, _CASE.c.id == _LINE.c.insats_id)
            .where(_CASE.c.forbund_id == organisation.id)
            .order_by(*_BY_CASE, _LINE.c.year)
            .execution_options(**streamed)
        )
        if wanted is not None:
            lines = lines.where(_LINE.c.year == wanted)
        reports = (
            _counts_query(organisation, wanted)
            .join(_CASE, _CASE.c.id == _REPORT.c.insats_id)
            .where(mine)
            .order_by(*_BY_CASE, _REPORT.c.period_end.desc(), _REPORT.c.id.desc())
            .execution_options(**streamed)
        )
        line_runs = _Runs(session.exec(lines))
        report_runs = _Runs(session.exec(reports))
        name = organisation.name
        for head in session.exec(heads):
            insats_id = head[0]
            yield (
                _head_columns(name, head),
                [line[1:] for line in line_runs.take(insats_id)],  # type: ignore[misc]
                _per_year(report_runs.take(insats_id)),
            )


def iter_rows(app: App, *, year: Any = None, forbund: str | None = None) -> Iterator[list[Any]]:
    """One row per budget line (insats and year) in the export's order, in three queries
    whatever their number, streamed a batch at a time (see _insatser)."""
    nothing: Counts = (None, None, None)
    for head, lines, counts in _insatser(app, year=year, forbund=forbund):
        for line_year, granted, utfall in lines:
            yield [
                *head,
                line_year,
                granted,
                _blank(utfall),
                *map(_blank, counts.get(line_year, nothing)),
            ]


def export_rows(app: App, *, year: Any = None, forbund: str | None = None) -> list[list[Any]]:
    """Every row of the export (iter_rows) in a list: for tests and small förbund only; the
    page reads a page at a time (overview) and the files stream (csv_chunks)."""
    return list(iter_rows(app, year=year, forbund=forbund))


def _csv_batches(
    app: App, *, year: Any = None, forbund: str | None = None
) -> Iterator[tuple[str, int]]:
    """The export as CSV text a batch of rows at a time, header first, each batch with its
    number of rows. Nothing to export is refused (BadInput) before the first batch.

    An insats's own columns are most of a row: they are made CSV once per insats (CsvRow),
    and each line's figures (integers, which need no quoting) are appended to them."""
    insatser = _insatser(app, year=year, forbund=forbund)
    try:
        first = next(insatser, None)
        if first is None:
            raise BadInput(
                "inga beviljade insatser att exportera" + (f" för {year}" if year else "")
            )
        row = CsvRow()
        batch = [row.text(COLUMNS) + "\r\n"]
        rows = 0
        for head, lines, counts in chain([first], insatser):
            prefix = row.text(head)
            for line_year, granted, utfall in lines:
                found = counts.get(line_year)
                if found is None:  # most lines: a year without an approved report
                    batch.append(
                        f"{prefix};{line_year};{granted};{'' if utfall is None else utfall};;;\r\n"
                    )
                    continue
                women, men, other = found
                batch.append(
                    f"{prefix};{line_year};{granted};{'' if utfall is None else utfall};"
                    f"{'' if women is None else women};{'' if men is None else men};"
                    f"{'' if other is None else other}\r\n"
                )
            rows += len(lines)
            if len(batch) >= BATCH:
                yield "".join(batch), rows
                batch.clear()
                rows = 0
        yield "".join(batch), rows
    finally:
        insatser.close()  # ends the read (and its snapshot) at once, also when stopped early


def csv_chunks(app: App, *, year: Any = None, forbund: str | None = None) -> Iterator[str]:
    """The export as CSV text a batch of rows at a time (for a streamed response)."""
    for text, _rows in _csv_batches(app, year=year, forbund=forbund):
        yield text


def write_csv(app: App, out: TextIO, *, year: Any = None, forbund: str | None = None) -> int:
    """Write the export to `out` as it is read, a batch at a time; the number of rows."""
    written = 0
    for text, rows in _csv_batches(app, year=year, forbund=forbund):
        out.write(text)
        written += rows
    return written


def export_csv(app: App, *, year: Any = None, forbund: str | None = None) -> str:
    out = io.StringIO()
    write_csv(app, out, year=year, forbund=forbund)
    return out.getvalue()


@dataclass
class Overview:
    """The Uppföljning Finsam page: a page of the export's rows (COLUMNS) in the export's
    order, where the next page starts, and the aggregate participant counts per year (of
    every row, not only the page's)."""

    columns: list[str]
    rows: list[list[Any]]
    totals: dict[int, dict[str, int]]
    next_after: str | None = None


def overview(
    app: App,
    *,
    viewer_email: str,
    year: Any = None,
    forbund: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> Overview:
    """A page of the export's rows and the totals per year, in a fixed number of queries
    whatever the number of insatser (the page's rows, their reports, the totals)."""
    from workflow.services.funding.support import require_viewer

    limit = check_limit(PAGE_LIMIT if limit is None else limit)
    wanted = None if year in (None, "") else parse_year(year)
    with app.db.snapshot() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
        query = (
            select(*_HEAD, _LINE.c.year, _LINE.c.granted_tkr, _LINE.c.utfall_tkr)
            .select_from(
                _LINE.join(_CASE, _CASE.c.id == _LINE.c.insats_id).outerjoin(
                    _RECORD, _RECORD.c.insats_id == _CASE.c.id
                )
            )
            .where(_CASE.c.forbund_id == organisation.id)
        )
        if wanted is not None:
            query = query.where(_LINE.c.year == wanted)
        found = ROWS_ORDER.cut(
            session.exec(ROWS_ORDER.page(query, after, limit)).all(),
            limit,
            key=lambda row: (row[1], row[0], row[len(_HEAD)]),
        )
        ids = {row[0] for row in found.items}
        reports = _counts_query(organisation, wanted).where(_REPORT.c.insats_id.in_(ids))
        ordered = reports.order_by(_REPORT.c.period_end.desc(), _REPORT.c.id.desc())
        counts: dict[tuple[int, int], Counts] = {}
        for insats_id, period_end, women, men, other in session.exec(ordered) if ids else ():
            counts.setdefault((insats_id, int(period_end[:4])), (women, men, other))
        name = organisation.name
        nothing: Counts = (None, None, None)
        rows = []
        for row in found.items:
            line_year, granted, utfall = row[len(_HEAD) :]
            women, men, other = counts.get((row[0], line_year), nothing)
            rows.append(
                [
                    *_head_columns(name, row[: len(_HEAD)]),
                    line_year,
                    granted,
                    _blank(utfall),
                    _blank(women),
                    _blank(men),
                    _blank(other),
                ]
            )
        totals = _totals(session, organisation, wanted)
    return Overview(list(COLUMNS), rows, totals, found.next_after)


def _totals(
    session: Any, organisation: ForbundRef, wanted: int | None
) -> dict[int, dict[str, int]]:
    """Per year: the insatser with a budget line, and the sums of their participant counts
    (per insats and year the approved report whose period ends last in the year). Two
    aggregate queries; the database does the summing."""
    # A line is its förbund's (forbund_id), so the count needs no insats: a read of the
    # lines' index by förbund and year (ix_budget_line_forbund_year), not of every line.
    lines = (
        select(_LINE.c.year, func.count())
        .where(_LINE.c.forbund_id == organisation.id)
        .group_by(_LINE.c.year)
    )
    if wanted is not None:
        lines = lines.where(_LINE.c.year == wanted)
    totals = {
        int(line_year): {"insatser": count, "kvinnor": 0, "man": 0, "ovriga": 0}
        for line_year, count in session.exec(lines)
    }
    # An insats's approved report counts for its year if the insats's next approved report
    # (by period end, then number) is of a later year or there is none: the last of the year.
    # That order is the approved reports' index (ix_report_approved), so nothing is sorted,
    # where ranking the reports of each insats and year latest first sorted them all.
    report_year = extract("year", _REPORT.c.period_end)
    ranked = (
        _counts_query(organisation, wanted)
        .add_columns(
            report_year.label("year"),
            func.lead(report_year)
            .over(
                partition_by=_REPORT.c.insats_id,
                order_by=(_REPORT.c.period_end, _REPORT.c.id),
            )
            .label("next_year"),
        )
        .subquery()
    )
    has_line = exists(
        select(_LINE.c.id).where(
            _LINE.c.insats_id == ranked.c.insats_id, _LINE.c.year == ranked.c.year
        )
    )
    sums = (
        select(
            ranked.c.year,
            func.coalesce(func.sum(ranked.c.participants_women), 0),
            func.coalesce(func.sum(ranked.c.participants_men), 0),
            func.coalesce(func.sum(ranked.c.participants_other), 0),
        )
        .where(or_(ranked.c.next_year.is_(None), ranked.c.next_year != ranked.c.year), has_line)
        .group_by(ranked.c.year)
    )
    for report_in, women, men, other in session.exec(sums):
        per = totals.get(int(report_in))
        if per is not None:
            per.update(kvinnor=int(women), man=int(men), ovriga=int(other))
    return dict(sorted(totals.items()))
