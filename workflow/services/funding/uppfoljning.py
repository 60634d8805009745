"""Uppföljning Finsam (Försäkringskassan's national follow-up, which replaced SUS): there is no
public API, so the förbund keeps the external reference and the last registration date per
insats here, and exports a CSV that mirrors the fields Uppföljning Finsam asks for
(domain.md §3): insats data, budget and utfall per calendar year, and participant counts by
gender as aggregate numbers only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from itertools import chain, groupby
from operator import itemgetter
from typing import Any, TextIO

from sqlmodel import Session, select

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput
from workflow.models import BudgetLine, ForbundRef, Insats, Report, UppfoljningRecord
from workflow.services.cases import case_ref, find_case
from workflow.services.cases.change import begin_change
from workflow.services.funding.support import parse_year, record
from workflow.services.organisation.forbund import resolve_forbund
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


def _counts(
    session: Session, forbund: ForbundRef, year: int | None
) -> dict[tuple[int, int], Counts]:
    """Participants per (insats, year), in one query: the approved report whose period ends
    last in that year (a helårsrapport covers the delår before it, so counts are never added
    up across reports). Plain rows of the columns used, no ORM objects."""
    query = select(
        _REPORT.c.insats_id,
        _REPORT.c.period_end,
        _REPORT.c.participants_women,
        _REPORT.c.participants_men,
        _REPORT.c.participants_other,
    ).where(_REPORT.c.forbund_id == forbund.id, _REPORT.c.status == "godkand")
    if year is not None:
        query = query.where(
            _REPORT.c.period_end >= date(year, 1, 1), _REPORT.c.period_end <= date(year, 12, 31)
        )
    found: dict[tuple[int, int], Counts] = {}
    ordered = query.order_by(_REPORT.c.period_end.desc(), _REPORT.c.id.desc())
    for insats_id, period_end, women, men, other in session.exec(ordered):
        found.setdefault((insats_id, period_end.year), (women, men, other))
    return found


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _insatser(
    app: App, *, year: Any = None, forbund: str | None = None
) -> Iterator[tuple[list[Any], list[list[Any]]]]:
    """Each insats with budget lines, in dnr order: its own columns of the export (COLUMNS
    before "År") and, per line in year order, the line's columns ("År" on). Two queries
    whatever the number of lines, streamed from the database a batch at a time (plain rows,
    no ORM objects); an insats's columns are built once however many years it has."""
    wanted = None if year is None else parse_year(year)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        counts = _counts(session, organisation, wanted)
        query = (
            select(
                _LINE.c.insats_id,
                _LINE.c.year,
                _LINE.c.granted_tkr,
                _LINE.c.utfall_tkr,
                _CASE.c.dnr,
                _CASE.c.number,
                _CASE.c.title,
                _CASE.c.syfte,
                _CASE.c.start_date,
                _CASE.c.end_date,
                _CASE.c.inriktning,
                _CASE.c.malgrupp,
                _RECORD.c.insats_id,
                _RECORD.c.external_ref,
                _RECORD.c.last_registered_on,
                _RECORD.c.preciserad_inriktning,
                _RECORD.c.uppfoljningsmetod,
                _RECORD.c.esf,
            )
            .select_from(_LINE)
            .join(_CASE, _CASE.c.id == _LINE.c.insats_id)
            .outerjoin(_RECORD, _RECORD.c.insats_id == _CASE.c.id)
            .where(_LINE.c.forbund_id == organisation.id)
        )
        if wanted is not None:
            query = query.where(_LINE.c.year == wanted)
        ordered = query.order_by(_CASE.c.dnr, _LINE.c.year).execution_options(
            stream_results=True, yield_per=BATCH
        )
        name = organisation.name
        nothing: Counts = (None, None, None)
        # The lines of one insats come together (dnr order); should they not (ideas have no
        # dnr), the insats's columns are only built once more.
        for insats_id, group in groupby(session.exec(ordered), key=itemgetter(0)):
            rows = list(group)
            (
                _id,
                _year,
                _granted,
                _utfall,
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
            ) = rows[0]
            head = [
                name,
                dnr or f"ide-{number or insats_id}",  # case_ref without the ORM object
                external_ref if recorded is not None else "",
                registered_on.isoformat() if registered_on else "",
                title,
                syfte or "",
                start.isoformat() if start else "",
                end.isoformat() if end else "",
                INRIKTNING.get(inriktning, inriktning),
                precise or "",
                malgrupp or "",
                method or "",
                "Ja" if recorded is not None and esf else "Nej",
            ]
            lines = []
            for row in rows:
                line_year = row[1]
                women, men, other = counts.get((insats_id, line_year), nothing)
                lines.append(
                    [line_year, row[2], _blank(row[3]), _blank(women), _blank(men), _blank(other)]
                )
            yield head, lines


def iter_rows(app: App, *, year: Any = None, forbund: str | None = None) -> Iterator[list[Any]]:
    """One row per budget line (insats and year) in dnr order, in two queries whatever their
    number, streamed from the database a batch at a time (plain rows, no ORM objects)."""
    for head, lines in _insatser(app, year=year, forbund=forbund):
        for line in lines:
            yield head + line


def export_rows(app: App, *, year: Any = None, forbund: str | None = None) -> list[list[Any]]:
    """Every row of the export (iter_rows) in a list, for a page that shows them all."""
    return list(iter_rows(app, year=year, forbund=forbund))


class _Last:
    """A file that keeps only what was last written to it: one row from a csv writer."""

    text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def write_csv(app: App, out: TextIO, *, year: Any = None, forbund: str | None = None) -> int:
    """Write the export to `out` as it is read, a batch of rows at a time; the number of rows.
    Nothing is written when there is nothing to export (BadInput).

    The csv writer handles each character of what it writes, and an insats's own columns are
    most of a row: they are written once per insats, and each of its lines (År on) after
    them. A row's text is the same as if the whole row had been written at once: the writer
    quotes field by field."""
    insatser = _insatser(app, year=year, forbund=forbund)
    first = next(insatser, None)
    if first is None:
        raise BadInput("inga beviljade insatser att exportera" + (f" för {year}" if year else ""))
    last = _Last()
    writer = csv.writer(last, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    batch = [last.text]  # joined and written in one call a batch at a time: few writes
    count = 0
    for head, lines in chain([first], insatser):
        writer.writerow(head)
        prefix = last.text[: -len("\r\n")] + ";"
        for line in lines:
            writer.writerow(line)
            batch.append(prefix + last.text)
        count += len(lines)
        if len(batch) >= BATCH:
            out.write("".join(batch))
            batch.clear()
    out.write("".join(batch))
    return count


def export_csv(app: App, *, year: Any = None, forbund: str | None = None) -> str:
    out = io.StringIO()
    write_csv(app, out, year=year, forbund=forbund)
    return out.getvalue()


@dataclass
class Overview:
    """The Uppföljning Finsam page: the export's rows (COLUMNS) and the aggregate participant
    counts per year."""

    columns: list[str]
    rows: list[list[Any]]
    totals: dict[int, dict[str, int]]


def overview(
    app: App, *, viewer_email: str, year: Any = None, forbund: str | None = None
) -> Overview:
    from workflow.services.funding.support import require_viewer

    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        require_viewer(session, app, organisation, viewer_email)
    rows = export_rows(app, year=year, forbund=forbund)
    year_at = COLUMNS.index("År")
    keys = {"kvinnor": "Deltagare kvinnor", "man": "Deltagare män", "ovriga": "Deltagare övriga"}
    totals: dict[int, dict[str, int]] = {}
    for row in rows:
        per = totals.setdefault(int(row[year_at]), {key: 0 for key in ("insatser", *keys)})
        per["insatser"] += 1
        for key, column in keys.items():
            value = row[COLUMNS.index(column)]
            per[key] += value if isinstance(value, int) else 0
    return Overview(list(COLUMNS), rows, dict(sorted(totals.items())))
