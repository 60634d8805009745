"""Reading a förbund's audit trail, and checking its chain on demand with progress.

`list_events` pages the trail newest first (keyset on the chain's seq), filtered by case,
person, kind of thing and date. `start_check` opens a check of the chain: a small trail is
checked at once, a large one by a background thread that moves the check's row
(AuditVerification) after each batch, so a page can show how far it has come. Only the
förbundschef and administrators of the förbund read either (action watch_forbund).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update

from workflow.clock import as_utc, local
from workflow.errors import BadInput, NotFound
from workflow.models import (
    Agreement,
    AuditChain,
    AuditEvent,
    AuditVerification,
    Forbund,
    Person,
    Report,
)
from workflow.services.cases import audit
from workflow.services.cases.records import case_ref, find_case
from workflow.services.cases.rights import require_watch
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import Keyset, Page, check_limit

if TYPE_CHECKING:
    from workflow.app import App

log = logging.getLogger("finsam.audit")

_EVENT = AuditEvent.__table__  # type: ignore[attr-defined]
_CHECK = AuditVerification.__table__  # type: ignore[attr-defined]
# Newest first, on the chain's own order (unique per förbund: the index of (forbund_id, seq)).
EVENT_ORDER = Keyset("audit", (_EVENT.c.seq,), descending=True)

# A trail of at most this many events is checked while the person waits; a larger one in the
# background (tests lower it to see the background path).
INLINE_LIMIT = 20000

# What an event is about, as people filter the trail.
KIND_LABELS = {
    "insats": "ärende",
    "report": "rapport",
    "agreement": "avtal",
    "meeting": "möte",
    "protocol": "protokoll",
    "styrdokument": "styrdokument",
    "reminder": "påminnelse",
    "outbox": "e-post",
    "person": "person",
    "party": "part",
    "organ": "organ",
    "forbund": "förbund",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


@dataclass(frozen=True)
class EventRow:
    seq: int
    at: datetime
    subject_kind: str
    subject_ref: str | None
    from_state: str | None
    to_state: str
    trigger: str
    actor: str
    channel: str | None
    comment: str | None


@dataclass(frozen=True)
class TrailFilter:
    case: str | None = None  # a case's dnr or idea number
    actor_email: str | None = None
    kind: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive


def list_events(
    app: App,
    viewer: Any,
    *,
    forbund: str,
    filters: TrailFilter = TrailFilter(),
    after: str | None = None,
    limit: int = 50,
) -> Page[EventRow]:
    """One page of the förbund's trail, newest first; only reads."""
    require_watch(app, viewer)
    check_limit(limit)
    zone = app.settings.zone
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = select(_EVENT).where(_EVENT.c.forbund_id == organisation.id)
        if filters.case:
            case = find_case(session, organisation, filters.case)
            # The case's own events and those of its avtal and reports.
            reports = select(Report.id).where(Report.insats_id == case.id)
            agreements = select(Agreement.id).where(Agreement.insats_id == case.id)
            query = query.where(
                or_(
                    (_EVENT.c.subject_kind == "insats") & (_EVENT.c.subject_id == case.id),
                    (_EVENT.c.subject_kind == "report") & _EVENT.c.subject_id.in_(reports),
                    (_EVENT.c.subject_kind == "agreement") & _EVENT.c.subject_id.in_(agreements),
                )
            )
        if filters.actor_email:
            query = query.where(_EVENT.c.actor_email == filters.actor_email.strip().lower())
        if filters.kind:
            query = query.where(_EVENT.c.subject_kind == filters.kind)
        if filters.since:
            start = datetime.combine(filters.since, time(0), zone)
            query = query.where(_EVENT.c.at >= as_utc(start))
        if filters.until:
            end = datetime.combine(filters.until + timedelta(days=1), time(0), zone)
            query = query.where(_EVENT.c.at < as_utc(end))
        if filters.since and filters.until and filters.until < filters.since:
            raise BadInput("slutdatumet ligger före startdatumet; byt plats på dem")
        rows = session.connection().execute(EVENT_ORDER.page(query, after, limit)).all()
        page = EVENT_ORDER.cut(rows, limit, lambda r: (r.seq,))
        return Page(
            [
                EventRow(
                    seq=r.seq,
                    at=local(r.at, zone),
                    subject_kind=r.subject_kind,
                    subject_ref=r.subject_ref,
                    from_state=r.from_state,
                    to_state=r.to_state,
                    trigger=r.trigger,
                    actor=r.actor_email,
                    channel=r.channel,
                    comment=r.comment,
                )
                for r in page.items
            ],
            page.next_after,
        )


def case_title(app: App, viewer: Any, *, forbund: str, ref: str) -> tuple[str, str]:
    """A case's reference and title, for the heading of its trail (404 if not in the förbund,
    before the person's roles are looked at: another förbund's case is never told apart)."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        case = find_case(session, organisation, ref)
        found = case_ref(case), case.title
    require_watch(app, viewer)
    return found


def event_kinds(app: App, viewer: Any, *, forbund: str) -> list[str]:
    """The kinds of things the förbund's trail holds events about, for the filter."""
    require_watch(app, viewer)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return list(
            session.connection()
            .execute(
                select(_EVENT.c.subject_kind)
                .where(_EVENT.c.forbund_id == organisation.id)
                .group_by(_EVENT.c.subject_kind)
                .order_by(_EVENT.c.subject_kind)
            )
            .scalars()
        )


# -- checking the chain ----------------------------------------------------------------------


@dataclass(frozen=True)
class CheckView:
    id: int
    status: str  # running | ok | broken | error
    checked: int
    total: int
    broken_at: int | None
    problem: str | None
    started_at: datetime
    finished_at: datetime | None
    requested_by: str | None

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def percent(self) -> int:
        if self.total <= 0:
            return 100 if not self.running else 0
        return min(100, self.checked * 100 // self.total)


def _check_view(app: App, row: Any, requested_by: str | None) -> CheckView:
    zone = app.settings.zone
    return CheckView(
        id=row.id,
        status=row.status,
        checked=row.checked,
        total=row.total,
        broken_at=row.broken_at,
        problem=row.problem,
        started_at=local(row.started_at, zone),
        finished_at=local(row.finished_at, zone) if row.finished_at else None,
        requested_by=requested_by,
    )


def get_check(app: App, viewer: Any, *, forbund: str, check_id: int) -> CheckView:
    """One check of the förbund's chain; another förbund's is not found (whoever asks)."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        row = session.get(AuditVerification, check_id)
        if row is None or row.forbund_id != organisation.id:
            raise NotFound(f"ingen kontroll nr {check_id} av loggen i {organisation.slug}")
        person = session.get(Person, row.requested_by_id) if row.requested_by_id else None
        found = _check_view(app, row, person.name if person else None)
    require_watch(app, viewer)
    return found


def latest_check(app: App, viewer: Any, *, forbund: str) -> CheckView | None:
    require_watch(app, viewer)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        check_id = session.execute(
            select(func.max(_CHECK.c.id)).where(_CHECK.c.forbund_id == organisation.id)
        ).scalar_one()
    if check_id is None:
        return None
    return get_check(app, viewer, forbund=forbund, check_id=int(check_id))


_THREADS: dict[int, threading.Thread] = {}


def start_check(app: App, viewer: Any, *, forbund: str, background: bool | None = None) -> int:
    """Open a check of the förbund's chain; its number. A trail of at most INLINE_LIMIT events
    is checked before this returns, a larger one in a background thread (or as `background`
    says)."""
    require_watch(app, viewer)
    now = app.clock()
    with app.db.transaction() as session:
        organisation = resolve_forbund(session, forbund)
        total = session.execute(
            select(AuditChain.seq).where(AuditChain.forbund_id == organisation.id)
        ).scalar_one_or_none()
        row = AuditVerification(
            forbund_id=organisation.id,
            requested_by_id=getattr(viewer, "person_id", None) or getattr(viewer, "id", None),
            status="running",
            checked=0,
            total=int(total or 0),
            started_at=now,
        )
        session.add(row)
        session.flush()
        check_id = int(row.id)  # type: ignore[arg-type]
        forbund_id, slug = organisation.id, organisation.slug
    if background is None:
        background = (total or 0) > INLINE_LIMIT
    if not background:
        run_check(app, check_id, forbund_id, slug)
        return check_id
    thread = threading.Thread(
        target=run_check, args=(app, check_id, forbund_id, slug), daemon=True, name=f"audit-{slug}"
    )
    _THREADS[check_id] = thread
    thread.start()
    return check_id


def wait_for_check(check_id: int, timeout: float = 30.0) -> None:
    """For tests and shutdown: wait until a background check has finished."""
    thread = _THREADS.get(check_id)
    if thread is not None:
        thread.join(timeout)
        _THREADS.pop(check_id, None)


def _save(app: App, check_id: int, **values: Any) -> None:
    with app.db.transaction() as session:
        session.execute(update(_CHECK).where(_CHECK.c.id == check_id).values(**values))


def run_check(app: App, check_id: int, forbund_id: int, slug: str) -> None:
    """Recompute the förbund's chain in one snapshot, moving the check's row after each batch."""

    def progress(_slug: str, checked: int, total: int) -> None:
        _save(app, check_id, checked=checked, total=total)

    try:
        with app.db.reading() as session:
            options = {}
            if app.db.engine.dialect.name == "postgresql":
                options = {"isolation_level": "REPEATABLE READ"}
            connection = session.connection(execution_options=options)
            report = audit.verify_forbund(connection, forbund_id, slug, progress=progress)
    except Exception as exc:
        log.exception("kontrollen av loggen %s misslyckades", check_id)
        _save(
            app,
            check_id,
            status="error",
            problem=f"kontrollen avbröts: {type(exc).__name__}"[:500],
            finished_at=app.clock(),
        )
        return
    _save(
        app,
        check_id,
        status="ok" if report.ok else "broken",
        checked=report.events,
        broken_at=report.broken_at,
        problem=report.problem,
        finished_at=app.clock(),
    )


def forbund_name(app: App, slug: str) -> str:
    with app.db.reading() as session:
        name = session.execute(select(Forbund.name).where(Forbund.slug == slug)).scalar_one()
        return str(name)
