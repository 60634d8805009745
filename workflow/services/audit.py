"""The tamper-evident audit trail: one hash chain per förbund.

Each event's hash covers its content and the previous event's hash; `verify` recomputes the
chain and names the first event that does not match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from workflow.clock import as_utc
from workflow.models import AuditChain, AuditEvent, Forbund
from workflow.services.organisation import Actor

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

GENESIS = "0" * 64


def _digest(event: AuditEvent) -> str:
    content = {
        "forbund_id": event.forbund_id,
        "seq": event.seq,
        "subject_kind": event.subject_kind,
        "subject_id": event.subject_id,
        "subject_ref": event.subject_ref,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "trigger": event.trigger,
        "actor_id": event.actor_id,
        "actor_email": event.actor_email,
        "at": as_utc(event.at).isoformat(timespec="microseconds"),
        "comment": event.comment,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def lock_chain(session: Session, forbund_id: int) -> AuditChain:
    """Take the förbund's chain head for this transaction (a row lock on PostgreSQL).

    Every state change of a förbund passes here first, so appends never fork the chain and
    a diarienummer sequence is never read by two registrations at once.
    """
    key = ("audit_chain_locked", forbund_id)
    locked: AuditChain | None = session.info.get(key)
    # Each Session here is one transaction (Database.transaction), so this never outlives it.
    if locked is not None:  # already taken in this transaction
        return locked
    head = session.exec(
        select(AuditChain).where(AuditChain.forbund_id == forbund_id).with_for_update()
    ).first()
    if head is None:
        head = AuditChain(forbund_id=forbund_id, seq=0, head_hash=GENESIS)
        session.add(head)
        session.flush()
    session.info[key] = head
    return head


def append(
    session: Session,
    head: AuditChain,
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
) -> AuditEvent:
    """Append one event; `actor` is the person who acted, or the name of a system process
    (the scheduler, the sender) when no person did."""
    actor_id, actor_email = (
        (None, actor) if isinstance(actor, str) else (actor.person.id, actor.email)
    )
    event = AuditEvent(
        forbund_id=head.forbund_id,
        seq=head.seq + 1,
        subject_kind=subject_kind,
        subject_id=subject_id,
        subject_ref=subject_ref,
        from_state=from_state,
        to_state=to_state,
        trigger=trigger,
        actor_id=actor_id,
        actor_email=actor_email,
        at=as_utc(at),
        comment=comment,
        data=json.loads(json.dumps(data or {}, default=str)),
        prev_hash=head.head_hash,
        hash="",
    )
    event.hash = _digest(event)
    head.seq = event.seq
    head.head_hash = event.hash
    session.add(event)
    session.add(head)
    return event


@dataclass(frozen=True)
class ChainReport:
    forbund: str
    events: int
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_all(app: App) -> list[ChainReport]:
    """Every förbund's chain, recomputed in one read."""
    with app.db.reading() as session:
        return verify(session)


def verify(session: Session) -> list[ChainReport]:
    """Recompute every förbund's chain; report the first broken link of each."""
    reports = []
    for forbund in session.exec(select(Forbund).order_by(col(Forbund.id))):
        reports.append(_verify_one(session, forbund))
    return reports


def _verify_one(session: Session, forbund: Forbund) -> ChainReport:
    previous = GENESIS
    count = 0
    events = session.exec(
        select(AuditEvent).where(AuditEvent.forbund_id == forbund.id).order_by(col(AuditEvent.seq))
    )
    for count, event in enumerate(events, start=1):
        if event.seq != count:
            return ChainReport(forbund.slug, count, event.seq, f"händelse {count} saknas")
        if event.prev_hash != previous:
            return ChainReport(
                forbund.slug, count, event.seq, "länken till föregående händelse är bruten"
            )
        if _digest(event) != event.hash:
            return ChainReport(
                forbund.slug, count, event.seq, "innehållet har ändrats efter att det skrevs"
            )
        previous = event.hash
    head = session.get(AuditChain, forbund.id)
    if head is not None and (head.seq != count or head.head_hash != previous):
        return ChainReport(forbund.slug, count, count + 1, f"händelser efter nr {count} saknas")
    return ChainReport(forbund.slug, count)
