"""The diarium: every registered case and its documents, searchable, and its public face.

A case enters the diarium when it is registered (it gets its dnr: the event `registrera`).
Its documents are the application (in, from the insatsägare), the avtal (out, to it) and the
reports it has handed in (in). `list_diarium` is the kansli's register (förbundschef and
administrators, action watch_forbund, and its registrator, action keep_diarium): dnr, date,
direction, counterpart and a short subject per case and document, with the secrecy marking of
an entry (services/cases/secrecy.py), filtered in SQL and paged on the dnr. `public_diarium`
needs no login and shows only what is public: dnr, date and subject, the subject of a secret
entry masked ("Sekretess enligt 21 kap. 1 § OSL") and never searched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from workflow.clock import local_date
from workflow.errors import NotFound
from workflow.models import Agreement, AuditEvent, DiariumSecrecy, Forbund, Insats, Party, Report
from workflow.services.cases.rights import WATCH
from workflow.services.cases.secrecy import KEEP, masked
from workflow.services.cases.text_search import like_pattern
from workflow.services.funding.report_plan import KIND_LABELS as REPORT_KIND_LABELS
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import Keyset, Page, bytewise, check_limit

if TYPE_CHECKING:
    from workflow.app import App

_I = Insats.__table__  # type: ignore[attr-defined]
_E = AuditEvent.__table__  # type: ignore[attr-defined]
_P = Party.__table__  # type: ignore[attr-defined]
_S = DiariumSecrecy.__table__  # type: ignore[attr-defined]

SUBJECT_LENGTH = 80
REGISTERED = "registrera"
# Newest dnr first: the year leads the pattern ({YYYY}/{NNN}-{DD}).
DIARIUM_ORDER = Keyset("diarium", (bytewise(_I.c.dnr),), descending=True)

DIRECTION_LABELS = {"in": "inkommen", "ut": "utgående", "upprattad": "upprättad"}


def short(text: str, length: int = SUBJECT_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


@dataclass(frozen=True)
class DocumentEntry:
    on: date | None
    direction: str
    counterpart: str
    subject: str

    @property
    def direction_label(self) -> str:
        return DIRECTION_LABELS.get(self.direction, self.direction)


@dataclass(frozen=True)
class DiariumEntry:
    dnr: str
    ref: str
    registered_on: date | None
    direction: str
    counterpart: str
    subject: str
    documents: list[DocumentEntry] = field(default_factory=list)
    secrecy: str | None = None  # the OSL paragraph when the subject is secret

    @property
    def secrecy_label(self) -> str | None:
        return masked(self.secrecy) if self.secrecy else None

    @property
    def direction_label(self) -> str:
        return DIRECTION_LABELS.get(self.direction, self.direction)


@dataclass(frozen=True)
class PublicEntry:
    dnr: str
    registered_on: date | None
    subject: str


def _registered_at() -> Any:
    return (
        select(func.min(_E.c.at))
        .where(
            _E.c.forbund_id == _I.c.forbund_id,
            _E.c.subject_kind == "insats",
            _E.c.subject_id == _I.c.id,
            _E.c.trigger == REGISTERED,
        )
        .scalar_subquery()
    )


def may_keep(app: App, viewer: Any) -> bool:
    """Whether the person keeps the diarium (marks secrecy): action keep_diarium."""
    return bool(set(getattr(viewer, "roles", ())) & app.actions[KEEP].roles)


def require_register(app: App, viewer: Any) -> None:
    """The kansli's diarium is read by those who watch the förbund and by its registrator."""
    if not may_keep(app, viewer):
        app.actions.require_role(viewer, WATCH)


def _secrecy() -> Any:
    return select(_S.c.paragraph).where(_S.c.insats_id == _I.c.id).scalar_subquery()


def _search(text: str | None, counterpart: bool) -> ColumnElement[bool] | None:
    if not text or not text.strip():
        return None
    pattern = like_pattern(text.strip().lower())
    owner = select(_P.c.name).where(_P.c.id == _I.c.owner_party_id).scalar_subquery()
    title = func.lower(_I.c.title).like(pattern, escape="\\")
    found = [func.lower(_I.c.dnr).like(pattern, escape="\\")]
    if counterpart:
        found.append(title)
        found.append(func.lower(owner).like(pattern, escape="\\"))
    else:
        # The public diarium does not show, so does not search, the counterpart, nor the
        # subject of a secret entry (a search must not tell what a masked subject says).
        secret = select(_S.c.id).where(_S.c.insats_id == _I.c.id).exists()
        found.append(and_(title, ~secret))
    return or_(*found)


def _rows(
    session: Any,
    forbund_id: int,
    search: str | None,
    year: int | None,
    after: str | None,
    limit: int,
    *,
    counterpart: bool = True,
) -> tuple[list[Any], str | None]:
    query = select(
        _I.c.id,
        _I.c.dnr,
        _I.c.number,
        _I.c.title,
        _I.c.owner_party_id,
        _registered_at().label("registered_at"),
        _secrecy().label("secrecy"),
    ).where(_I.c.forbund_id == forbund_id, _I.c.dnr.is_not(None))
    condition = _search(search, counterpart)
    if condition is not None:
        query = query.where(condition)
    if year is not None:
        query = query.where(_I.c.dnr.like(f"{year}/%"))
    rows = session.connection().execute(DIARIUM_ORDER.page(query, after, limit)).all()
    page = DIARIUM_ORDER.cut(rows, limit, lambda r: (r.dnr,))
    return list(page.items), page.next_after


def list_diarium(
    app: App,
    viewer: Any,
    *,
    forbund: str,
    search: str | None = None,
    year: int | None = None,
    after: str | None = None,
    limit: int = 25,
) -> Page[DiariumEntry]:
    """One page of the förbund's diarium, newest dnr first, with each case's documents."""
    require_register(app, viewer)
    check_limit(limit, 200)
    zone = app.settings.zone
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        rows, next_after = _rows(session, organisation.id, search, year, after, limit)
        ids = [r.id for r in rows]
        party_ids = {r.owner_party_id for r in rows if r.owner_party_id}
        parties: dict[int, str] = {}
        if party_ids:
            found = session.connection().execute(
                select(_P.c.id, _P.c.name).where(_P.c.id.in_(sorted(party_ids)))
            )
            parties = {party_id: name for party_id, name in found}
        documents: dict[int, list[DocumentEntry]] = {i: [] for i in ids}
        if ids:
            for agreement in session.connection().execute(
                select(Agreement.insats_id, Agreement.created_at, Agreement.status)
                .where(Agreement.insats_id.in_(ids))  # type: ignore[attr-defined]
                .order_by(Agreement.created_at)  # type: ignore[arg-type]
            ):
                owner = documents[agreement.insats_id]
                owner.append(
                    DocumentEntry(
                        local_date(agreement.created_at, zone),
                        "ut",
                        "",
                        "Avtal" + (" (ersatt)" if agreement.status == "ersatt" else ""),
                    )
                )
            for report in session.connection().execute(
                select(Report.insats_id, Report.kind, Report.submitted_on, Report.period_end)
                .where(
                    Report.insats_id.in_(ids),  # type: ignore[attr-defined]
                    Report.submitted_on.is_not(None),  # type: ignore[union-attr]
                )
                .order_by(Report.submitted_on)  # type: ignore[arg-type]
            ):
                label = REPORT_KIND_LABELS.get(report.kind, report.kind).capitalize()
                documents[report.insats_id].append(
                    DocumentEntry(
                        report.submitted_on,
                        "in",
                        "",
                        f"{label} för perioden till {report.period_end.isoformat()}",
                    )
                )
        entries = []
        for r in rows:
            counterpart = parties.get(r.owner_party_id, "")
            registered = local_date(r.registered_at, zone) if r.registered_at else None
            docs = [DocumentEntry(registered, "in", counterpart, "Ansökan")] + [
                DocumentEntry(d.on, d.direction, counterpart, d.subject)
                for d in sorted(documents[r.id], key=lambda d: d.on or date.min)
            ]
            entries.append(
                DiariumEntry(
                    dnr=r.dnr,
                    ref=r.dnr,
                    registered_on=registered,
                    direction="in",
                    counterpart=counterpart,
                    subject=short(r.title),
                    documents=docs,
                    secrecy=r.secrecy,
                )
            )
        return Page(entries, next_after)


@dataclass(frozen=True)
class PublicForbund:
    slug: str
    name: str


def public_forbund(app: App, slug: str) -> PublicForbund:
    """The förbund of a public diarium page, by its slug (not found otherwise)."""
    with app.db.reading() as session:
        row = session.execute(select(Forbund).where(Forbund.slug == slug)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"inget förbund med adressen {slug!r}")
        organisation = row
        return PublicForbund(organisation.slug, row.name if row else organisation.slug)


def public_diarium(
    app: App,
    *,
    forbund: str,
    search: str | None = None,
    after: str | None = None,
    limit: int = 25,
) -> Page[PublicEntry]:
    """The public diarium: dnr, date of registration and subject (masked when secret), and
    nothing else."""
    check_limit(limit, 200)
    zone = app.settings.zone
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        rows, next_after = _rows(
            session, organisation.id, search, None, after, limit, counterpart=False
        )
        return Page(
            [
                PublicEntry(
                    r.dnr,
                    local_date(r.registered_at, zone) if r.registered_at else None,
                    masked(r.secrecy) if r.secrecy else short(r.title),
                )
                for r in rows
            ],
            next_after,
        )
