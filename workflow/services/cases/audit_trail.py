"""Reading a förbund's audit trail, and checking its chain on demand with progress.

`list_events` pages the trail newest first (keyset on the chain's seq), filtered by case,
person, kind of thing and date. `start_check` opens a check of the chain: a small trail is
checked at once, a large one by a background thread that moves the check's row
(AuditVerification) after each batch, so a page can show how far it has come. Only the
förbundschef and administrators of the förbund read either (action watch_forbund).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, union_all, update
from sqlalchemy.exc import SQLAlchemyError

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
    "diarium": "diarium",
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
            # The case's own events, its diarium entry's and those of its avtal and reports,
            # found by subject (a few dozen) and then read by id and sorted. Asked as one
            # condition on the förbund's events instead, the databases walk the whole chain
            # newest first looking for them (about 290 ms a page at 590 000 events). The
            # förbund is compared as `forbund_id + 0` so that SQLite does not take the chain's
            # (forbund_id, seq) index for that walk.
            own = _EVENT.alias("own")
            reports = select(Report.id).where(Report.insats_id == case.id)
            agreements = select(Agreement.id).where(Agreement.insats_id == case.id)
            ids = union_all(
                select(own.c.id).where(own.c.subject_kind == "insats", own.c.subject_id == case.id),
                select(own.c.id).where(
                    own.c.subject_kind == "diarium", own.c.subject_id == case.id
                ),
                select(own.c.id).where(
                    own.c.subject_kind == "report", own.c.subject_id.in_(reports)
                ),
                select(own.c.id).where(
                    own.c.subject_kind == "agreement", own.c.subject_id.in_(agreements)
                ),
            )
            query = select(_EVENT).where(
                _EVENT.c.forbund_id + 0 == organisation.id, _EVENT.c.id.in_(ids)
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
        # From kind to kind in the index led by (forbund_id, subject_kind): the first kind,
        # then the least kind after it, until there is none; one index seek a kind instead of
        # reading every event (a recursive CTE both databases run the same way).
        here = _EVENT.c.forbund_id == organisation.id
        first = select(func.min(_EVENT.c.subject_kind).label("kind")).where(here)
        kinds = first.cte("kinds", recursive=True)
        following = (
            select(func.min(_EVENT.c.subject_kind))
            .where(here, _EVENT.c.subject_kind > kinds.c.kind)
            .scalar_subquery()
        )
        kinds = kinds.union_all(select(following).where(kinds.c.kind.is_not(None)))
        found = session.connection().execute(select(kinds.c.kind).where(kinds.c.kind.is_not(None)))
        return sorted(found.scalars())


# -- checking the chain ----------------------------------------------------------------------
#
# A check runs in a thread of one web process, and several web processes share the database.
# If that process stops (a deploy, a crash), nothing finishes the check's row. So a running
# check holds a lease decided by heartbeats, as the outbox's senders do
# (services/reminders/workers.py), never by comparing wall clocks:
#   1. The row names its owner, this process's token (host:pid:random), and its `beats`
#      counter moves with each batch of progress and from a heartbeat thread every lease / 4
#      seconds (timed by time.monotonic()).
#   2. Whoever reads a running check (its page, the trail's page, a new start) treats the owner
#      as gone when the owner is this process but no longer runs the check, or ran on this host
#      under a pid that no longer exists, or when this process watched `beats` stand still for
#      web.audit_check_lease_seconds on its own monotonic clock (kept in memory across views).
#   3. Taking over is fenced: the row becomes "interrupted" only by an UPDATE that still sees
#      the owner and the beats observed; the owner's own writes are conditional on still being
#      the running owner, so a stalled thread that wakes up stops without overwriting.
# A new start after an interruption starts a fresh check; a start while a live check of the
# förbund runs answers with that check instead of reading the chain twice at once.

STOPPED = "Kontrollen avbröts eftersom webbservern som körde den slutade svara"


@dataclass(frozen=True)
class CheckView:
    id: int
    status: str  # running | ok | broken | error | interrupted
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


_HOST = socket.gethostname()[:60]
_TOKENS: dict[int, str] = {}  # pid -> this process's token (a forked process gets its own)
_LIVE: set[int] = set()  # the checks this process is running now
# check id -> (owner, beats, monotonic time this process first saw that count)
_OBSERVED: dict[int, tuple[str | None, int, float]] = {}
_LOCK = threading.Lock()
_monotonic = monotonic  # tests move it instead of sleeping


def owner_token() -> str:
    """This process as the owner of the checks it runs: host:pid:random."""
    pid = os.getpid()
    with _LOCK:
        if pid not in _TOKENS:
            _TOKENS[pid] = f"{_HOST}:{pid}:{secrets.token_hex(6)}"
        return _TOKENS[pid]


def _owner_gone(app: App, check_id: int, owner: str | None, beats: int) -> bool:
    """Step 2 above: whether the owner of this running check has stopped."""
    from workflow.services.reminders.workers import pid_alive

    if owner == owner_token():
        return check_id not in _LIVE
    host, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if owner and host == _HOST and pid.isdigit() and not pid_alive(int(pid)):
        return True
    now = _monotonic()
    with _LOCK:
        seen = _OBSERVED.get(check_id)
        if seen is None or seen[:2] != (owner, beats):
            _OBSERVED[check_id] = (owner, beats, now)
            return False
        return now - seen[2] >= app.settings.web.audit_check_lease_seconds


def _settle(app: App, rows: list[Any]) -> bool:
    """Mark interrupted the running checks among `rows` whose owner has stopped (step 3);
    whether any was."""
    gone = [r for r in rows if r.status == "running" and _owner_gone(app, r.id, r.owner, r.beats)]
    if not gone:
        return False
    with app.db.transaction() as session:
        for row in gone:
            owner = _CHECK.c.owner.is_(None) if row.owner is None else _CHECK.c.owner == row.owner
            taken = session.connection().execute(
                update(_CHECK)
                .where(
                    _CHECK.c.id == row.id,
                    _CHECK.c.status == "running",
                    _CHECK.c.beats == row.beats,
                    owner,
                )
                .values(status="interrupted", problem=STOPPED, finished_at=app.clock())
            )
            if taken.rowcount == 1:
                log.warning("kontroll %s av loggen avbruten: %s svarar inte", row.id, row.owner)
            with _LOCK:
                _OBSERVED.pop(row.id, None)
    return True


def get_check(app: App, viewer: Any, *, forbund: str, check_id: int) -> CheckView:
    """One check of the förbund's chain; another förbund's is not found (whoever asks). A
    running check whose process has stopped is marked interrupted first."""
    for _ in range(2):
        with app.db.reading() as session:
            organisation = resolve_forbund(session, forbund)
            row = session.get(AuditVerification, check_id)
            if row is None or row.forbund_id != organisation.id:
                raise NotFound(f"ingen kontroll nr {check_id} av loggen i {organisation.slug}")
            person = session.get(Person, row.requested_by_id) if row.requested_by_id else None
            found = _check_view(app, row, person.name if person else None)
            snapshot = [_Row(row.id, row.status, row.owner, row.beats)]
        if not _settle(app, snapshot):
            break
    require_watch(app, viewer)
    return found


@dataclass(frozen=True)
class _Row:
    id: int
    status: str
    owner: str | None
    beats: int


def _running(app: App, forbund_id: int) -> list[_Row]:
    with app.db.reading() as session:
        rows = session.connection().execute(
            select(_CHECK.c.id, _CHECK.c.status, _CHECK.c.owner, _CHECK.c.beats).where(
                _CHECK.c.forbund_id == forbund_id, _CHECK.c.status == "running"
            )
        )
        return [_Row(r.id, r.status, r.owner, r.beats) for r in rows]


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
    says). Checks whose process stopped are marked interrupted first; while a live check of
    the förbund runs, its number is the answer."""
    require_watch(app, viewer)
    with app.db.reading() as session:
        forbund_id = resolve_forbund(session, forbund).id
    running = _running(app, forbund_id)
    _settle(app, running)
    alive = [r.id for r in _running(app, forbund_id)]
    if alive:
        return max(alive)
    now = app.clock()
    owner = owner_token()
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
            owner=owner,
            beats=0,
        )
        session.add(row)
        session.flush()
        check_id = int(row.id)  # type: ignore[arg-type]
        slug = organisation.slug
    with _LOCK:
        _LIVE.add(check_id)
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


class _TakenOver(Exception):
    """Another process marked this check interrupted: stop reading the chain."""


def _save(app: App, check_id: int, **values: Any) -> None:
    """Write the check's row if this process still runs it (step 3); each write is a beat."""
    with app.db.transaction() as session:
        changed = session.execute(
            update(_CHECK)
            .where(
                _CHECK.c.id == check_id,
                _CHECK.c.owner == owner_token(),
                _CHECK.c.status == "running",
            )
            .values(beats=_CHECK.c.beats + 1, **values)
        )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise _TakenOver(check_id)


def _heartbeat(app: App, check_id: int, stop: threading.Event) -> None:
    interval = max(app.settings.web.audit_check_lease_seconds / 4, 0.2)
    while not stop.wait(interval):  # monotonic
        try:
            _save(app, check_id)
        except _TakenOver:
            return
        except SQLAlchemyError as exc:
            log.warning("hjärtslag för kontroll %s misslyckades: %s", check_id, exc)


def run_check(app: App, check_id: int, forbund_id: int, slug: str) -> None:
    """Recompute the förbund's chain in one snapshot, moving the check's row after each batch
    while a heartbeat thread keeps its lease."""

    def progress(_slug: str, checked: int, total: int) -> None:
        _save(app, check_id, checked=checked, total=total)

    stop = threading.Event()
    beating = threading.Thread(
        target=_heartbeat, args=(app, check_id, stop), daemon=True, name=f"audit-beat-{slug}"
    )
    beating.start()
    try:
        try:
            with app.db.reading() as session:
                options = {}
                if app.db.engine.dialect.name == "postgresql":
                    options = {"isolation_level": "REPEATABLE READ"}
                connection = session.connection(execution_options=options)
                report = audit.verify_forbund(connection, forbund_id, slug, progress=progress)
        except _TakenOver:
            log.warning("kontroll %s av loggen togs över av en annan process", check_id)
            return
        except Exception as exc:
            log.exception("kontrollen av loggen %s misslyckades", check_id)
            _finish(
                app,
                check_id,
                status="error",
                problem=f"kontrollen avbröts: {type(exc).__name__}"[:500],
                finished_at=app.clock(),
            )
            return
        _finish(
            app,
            check_id,
            status="ok" if report.ok else "broken",
            checked=report.events,
            broken_at=report.broken_at,
            problem=report.problem,
            finished_at=app.clock(),
        )
    finally:
        stop.set()
        beating.join()
        with _LOCK:
            _LIVE.discard(check_id)


def _finish(app: App, check_id: int, **values: Any) -> None:
    try:
        _save(app, check_id, **values)
    except _TakenOver:
        log.warning("kontroll %s av loggen hade redan avbrutits av en annan process", check_id)


def forbund_name(app: App, slug: str) -> str:
    with app.db.reading() as session:
        name = session.execute(select(Forbund.name).where(Forbund.slug == slug)).scalar_one()
        return str(name)
