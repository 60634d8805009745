"""The tamper-evident audit trail: one hash chain per förbund.

Each event's hash covers its content and the previous event's hash; `verify` recomputes the
chain and names the first event that does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from workflow.channel import current_channel
from workflow.clock import as_utc
from workflow.models import AuditChain, AuditEvent, Forbund
from workflow.services.organisation.people import Actor

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

GENESIS = "0" * 64

# The fields each hash covers, in the event's own names.
_HASHED = (
    "forbund_id",
    "seq",
    "subject_kind",
    "subject_id",
    "subject_ref",
    "from_state",
    "to_state",
    "trigger",
    "actor_id",
    "actor_email",
    "at",
    "comment",
    "data",
    "prev_hash",
)


def _digest(fields: Mapping[str, Any]) -> str:
    content = {name: fields[name] for name in _HASHED}
    # The channel came later (migration 0011): hashed only when known, so the chains written
    # before it still verify.
    if fields.get("channel") is not None:
        content["channel"] = fields["channel"]
    content["at"] = as_utc(content["at"]).isoformat(timespec="microseconds")
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# Every change of every case passes through these, so they are written once as Core statements:
# the ORM's unit of work would cost several times the SQL itself (bench/lifecycle.py).
_CHAIN = AuditChain.__table__  # type: ignore[attr-defined]
_READ_HEAD = (
    select(_CHAIN.c.seq, _CHAIN.c.head_hash)
    .where(_CHAIN.c.forbund_id == bindparam("forbund_id"))
    .with_for_update()
)
_NEW_HEAD = insert(_CHAIN)
_ADD_EVENT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


@dataclass
class ChainHead:
    """A förbund's newest event, locked by the transaction that read it."""

    forbund_id: int
    seq: int
    head_hash: str


def lock_chain(session: Session, forbund_id: int) -> ChainHead:
    """Take the förbund's chain head for this transaction (a row lock on PostgreSQL).

    Every state change of a förbund passes here first, so appends never fork the chain and
    a diarienummer sequence is never read by two registrations at once.
    """
    held: ChainHead | None = session.info.get(_held_key(forbund_id))
    if held is not None:  # already taken in this transaction
        return held
    connection = session.connection()
    row = connection.execute(_READ_HEAD, {"forbund_id": forbund_id}).first()
    if row is None:
        connection.execute(_NEW_HEAD, {"forbund_id": forbund_id, "seq": 0, "head_hash": GENESIS})
        return hold_chain(session, forbund_id, 0, GENESIS)
    return hold_chain(session, forbund_id, row.seq, row.head_hash)


def hold_chain(session: Session, forbund_id: int, seq: int, head_hash: str) -> ChainHead:
    """The chain head as read, with its lock, by this transaction (lock_chain, or a query of
    the caller's own that locks the audit_chain row)."""
    key = _held_key(forbund_id)
    held: ChainHead | None = session.info.get(key)
    if held is None:
        # Each Session here is one transaction (Database.transaction): this never outlives it.
        held = session.info[key] = ChainHead(forbund_id, seq, head_hash)
    return held


def _held_key(forbund_id: int) -> tuple[str, int]:
    return ("audit_chain_held", forbund_id)


def append(
    session: Session,
    head: ChainHead,
    *,
    subject_kind: str,
    subject_id: int,
    subject_ref: str | None,
    from_state: str | None,
    to_state: str,
    trigger: str,
    actor: Actor | str,
    at: datetime,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one event; `actor` is the person who acted, or the name of a system process
    (the scheduler, the sender) when no person did."""
    actor_id, actor_email = (None, actor) if isinstance(actor, str) else (actor.id, actor.email)
    event: dict[str, Any] = {
        "forbund_id": head.forbund_id,
        "seq": head.seq + 1,
        "subject_kind": subject_kind,
        "subject_id": subject_id,
        "subject_ref": subject_ref,
        "from_state": from_state,
        "to_state": to_state,
        "trigger": trigger,
        "actor_id": actor_id,
        "actor_email": actor_email,
        "at": as_utc(at),
        "comment": comment,
        # Stored as it reads back: dates and other values become their JSON text.
        "data": json.loads(json.dumps(data or {}, default=str)),
        "prev_hash": head.head_hash,
        # Web, API, CLI or scheduler: said once by the entry point (workflow/channel.py).
        "channel": current_channel(),
    }
    event["hash"] = _digest(event)
    # The database moves the chain head to this event as part of the insert (migration 0005).
    session.connection().execute(_ADD_EVENT, event)
    head.seq = event["seq"]
    head.head_hash = event["hash"]


@dataclass(frozen=True)
class ChainReport:
    forbund: str
    events: int
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


# Events are read in batches keyed on seq (keyset: each batch starts after the last one seen),
# so verifying ten years of audit holds one batch in memory, never the chain.
BATCH = 2000
_EVENT = AuditEvent.__table__  # type: ignore[attr-defined]
_FORBUND = Forbund.__table__  # type: ignore[attr-defined]
_EVENTS_AFTER = (
    select(*(_EVENT.c[name] for name in _HASHED), _EVENT.c.channel, _EVENT.c.hash)
    .where(_EVENT.c.forbund_id == bindparam("forbund_id"), _EVENT.c.seq > bindparam("after"))
    .order_by(_EVENT.c.seq)
    .limit(bindparam("batch"))
)
_FORBUNDS = select(_FORBUND.c.id, _FORBUND.c.slug).order_by(_FORBUND.c.id)
_HEAD = select(_CHAIN.c.seq, _CHAIN.c.head_hash).where(
    _CHAIN.c.forbund_id == bindparam("forbund_id")
)

# Told, per batch, how far a chain's check has come: (förbund, events checked, events in it).
Progress = Callable[[str, int, int], None]


def verify_all(app: App, *, progress: Progress | None = None) -> list[ChainReport]:
    """Every förbund's chain, recomputed in one read (one snapshot, however many batches)."""
    with app.db.reading() as session:
        options = {}
        if app.db.engine.dialect.name == "postgresql":
            # SQLite's read transaction is a snapshot already; PostgreSQL's default is not,
            # and a chain appended to between two batches must not look broken.
            options = {"isolation_level": "REPEATABLE READ"}
        return verify(session.connection(execution_options=options), progress=progress)


def verify(
    session: Session | Connection, *, batch: int = BATCH, progress: Progress | None = None
) -> list[ChainReport]:
    """Recompute every förbund's chain; report the first broken link of each."""
    connection = session.connection() if isinstance(session, OrmSession) else session
    return [
        _verify_one(connection, forbund_id, slug, batch, progress)
        for forbund_id, slug in connection.execute(_FORBUNDS).all()
    ]


def verify_forbund(
    connection: Connection,
    forbund_id: int,
    slug: str,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> ChainReport:
    """Recompute one förbund's chain (in the caller's snapshot), telling `progress` per batch."""
    return _verify_one(connection, forbund_id, slug, batch, progress)


def _events(connection: Connection, forbund_id: int, batch: int) -> Iterator[Any]:
    """The förbund's events in seq order, `batch` rows per query."""
    after = 0
    while True:
        rows = connection.execute(
            _EVENTS_AFTER, {"forbund_id": forbund_id, "after": after, "batch": batch}
        ).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def _verify_one(
    connection: Connection, forbund_id: int, slug: str, batch: int, progress: Progress | None
) -> ChainReport:
    head = connection.execute(_HEAD, {"forbund_id": forbund_id}).first()
    total = head.seq if head is not None else 0
    previous = GENESIS
    count = 0
    for count, event in enumerate(_events(connection, forbund_id, batch), start=1):
        if event.seq != count:
            return ChainReport(slug, count, event.seq, f"händelse {count} saknas")
        if event.prev_hash != previous:
            return ChainReport(slug, count, event.seq, "länken till föregående händelse är bruten")
        if _digest(event._mapping) != event.hash:
            return ChainReport(
                slug, count, event.seq, "innehållet har ändrats efter att det skrevs"
            )
        previous = event.hash
        if progress is not None and count % batch == 0:
            progress(slug, count, max(total, count))
    if progress is not None:
        progress(slug, count, max(total, count))
    # The head is read again after the events: it is part of the same snapshot.
    head = connection.execute(_HEAD, {"forbund_id": forbund_id}).first()
    if head is not None and (head.seq != count or head.head_hash != previous):
        return ChainReport(slug, count, count + 1, f"händelser efter nr {count} saknas")
    return ChainReport(slug, count)
