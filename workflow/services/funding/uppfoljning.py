"""Uppföljning Finsam (Försäkringskassan's national follow-up, which replaced SUS): there is no
public API, so the förbund keeps the external reference and the last registration date per
insats here, and exports a CSV that mirrors the fields Uppföljning Finsam asks for
(domain.md §3): insats data, budget and utfall per calendar year, and participant counts by
gender as aggregate numbers only."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

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


def _counts(
    session: Session, forbund: ForbundRef, year: int | None
) -> dict[tuple[int, int], Counts]:
    """Participants per (insats, year), in one query: the approved report whose period ends
    last in that year (a helårsrapport covers the delår before it, so counts are never added
    up across reports)."""
    query = select(Report).where(Report.forbund_id == forbund.id, Report.status == "godkand")
    if year is not None:
        query = query.where(
            col(Report.period_end) >= date(year, 1, 1),
            col(Report.period_end) <= date(year, 12, 31),
        )
    found: dict[tuple[int, int], Counts] = {}
    ordered = query.order_by(col(Report.period_end).desc(), col(Report.id).desc())
    for report in session.exec(ordered):
        found.setdefault(
            (report.insats_id, report.period_end.year),
            (report.participants_women, report.participants_men, report.participants_other),
        )
    return found


def export_rows(app: App, *, year: Any = None, forbund: str | None = None) -> list[list[Any]]:
    """One row per budget line (insats and year), in three queries whatever their number."""
    wanted = None if year is None else parse_year(year)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = (
            select(BudgetLine, Insats, UppfoljningRecord)
            .join(Insats, col(Insats.id) == col(BudgetLine.insats_id))
            .outerjoin(UppfoljningRecord, col(UppfoljningRecord.insats_id) == col(Insats.id))
            .where(BudgetLine.forbund_id == organisation.id)
        )
        if wanted is not None:
            query = query.where(BudgetLine.year == wanted)
        counts = _counts(session, organisation, wanted)
        rows: list[list[Any]] = []
        ordered = query.order_by(col(Insats.dnr), col(BudgetLine.year))
        for line, case, uf in session.exec(ordered).all():
            women, men, other = counts.get((case.id, line.year), (None, None, None))  # type: ignore[arg-type]
            rows.append(
                [
                    organisation.name,
                    case_ref(case),
                    uf.external_ref if uf else "",
                    uf.last_registered_on.isoformat() if uf and uf.last_registered_on else "",
                    case.title,
                    case.syfte or "",
                    case.start_date.isoformat() if case.start_date else "",
                    case.end_date.isoformat() if case.end_date else "",
                    INRIKTNING.get(case.inriktning, case.inriktning),
                    (uf.preciserad_inriktning if uf else None) or "",
                    case.malgrupp or "",
                    (uf.uppfoljningsmetod if uf else None) or "",
                    "Ja" if uf and uf.esf else "Nej",
                    line.year,
                    line.granted_tkr,
                    "" if line.utfall_tkr is None else line.utfall_tkr,
                    "" if women is None else women,
                    "" if men is None else men,
                    "" if other is None else other,
                ]
            )
        return rows


def export_csv(app: App, *, year: Any = None, forbund: str | None = None) -> str:
    rows = export_rows(app, year=year, forbund=forbund)
    if not rows:
        raise BadInput("inga beviljade insatser att exportera" + (f" för {year}" if year else ""))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
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
