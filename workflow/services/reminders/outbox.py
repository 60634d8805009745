"""The outbox: e-mail written in the same transaction as the change it reports, sent after.

`deliver_due` is the sender. Per round it:
  1. stops at once if the relay is down and not yet due to be tried again (relay.py),
  2. frees the messages of senders known to be gone (workers.py: fenced takeover),
  3. per message, in order of due time and id: takes it with a conditional UPDATE ...
     RETURNING (lease_owner = this sender's token, attempts + 1) and commits,
  4. hands it to the relay outside any transaction, while the heartbeat thread keeps the
     sender's lease alive,
  5. records the outcome if the lease is still ours (mailer.Outcome):
       delivered  -> sent (audited);
       relay_down -> the relay is down (incident), the message is put back untouched and the
                     round stops: however long the outage, no message fails because of it;
       deferred / unknown -> retried later with a growing delay and the same Message-ID;
                     failed only after max_attempts tries and give_up_days of such answers;
       failed     -> failed for good with its cause (audited), and a notice to the
                     förbundschef.
A sender that dies between 3 and 5 holds the message until another sender knows it is gone;
the message is then sent again with the same Message-ID (at most two copies).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

from sqlalchemy import ColumnClause, literal_column, update
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local
from workflow.errors import BadInput
from workflow.models import Forbund, OutboxMessage, Person, PersonRole
from workflow.reminder_rules import Rendered, notice_context
from workflow.services.cases import audit
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import Keyset, Page, check_limit
from workflow.services.reminders import relay
from workflow.services.reminders.mailer import Outcome, build_message, send
from workflow.services.reminders.workers import Worker

OUTBOX_ORDER = Keyset("outbox", (OutboxMessage.__table__.c.id,))  # type: ignore[attr-defined]

SUBJECT = "outbox"

# A one-time key in a link (a password link's ?nyckel=...) is the recipient's alone: whoever
# reads the outbox, on a page or with `finsam outbox show`, must not be able to use it. It is
# shown cut, and once the message has gone out it is cut in the stored copy too (a failed one
# keeps it until then, so that sending it again still works).
_SECRET_KEY = re.compile(r"(nyckel=)[A-Za-z0-9_\-]{8,}")
SECRET_SHOWN = "(dold)"


def without_secrets(text: str) -> str:
    """A message's text as a reader of the outbox may see it."""
    return _SECRET_KEY.sub(lambda found: found.group(1) + SECRET_SHOWN, text)


SENDER_ACTOR = "sender@finsam"
PENDING: ColumnClause[str] = literal_column("'pending'")

# Why a message failed for good; `finsam outbox retry --cause` takes these names.
FAILURE_CAUSES = {
    "recipient": "mottagaren nekades (5xx)",
    "sender": "avsändaren nekades (5xx)",
    "content": "meddelandet nekades (5xx)",
    "unbuildable": "meddelandet kan inte skapas",
    "expired": "tillfälliga fel i för lång tid",
}


def _domain(app: App) -> str:
    return app.settings.mail.from_address.rpartition("@")[2] or "finsam.local"


def queue(
    session: Session,
    app: App,
    *,
    forbund_id: int,
    kind: str,
    to_address: str,
    to_name: str | None,
    rendered: Rendered,
    now: datetime,
    reminder_id: int | None = None,
) -> OutboxMessage:
    """Write one message to the outbox; it leaves after the caller's transaction commits."""
    message = OutboxMessage(
        forbund_id=forbund_id,
        reminder_id=reminder_id,
        kind=kind,
        message_id=make_msgid(idstring="finsam", domain=_domain(app)),
        to_address=to_address,
        to_name=to_name,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    waiting: bool = False  # the server could not be reached (or none is set); messages wait


def _claim_one(app: App, worker: Worker, now: datetime) -> OutboxMessage | None:
    lease_free = col(OutboxMessage.lease_owner).is_(None)
    pick = (
        select(OutboxMessage.id)
        .where(
            col(OutboxMessage.status) == PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
            lease_free,
        )
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(1)
    )
    with app.db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        # A CTE, evaluated once: as a plain IN (subquery ... LIMIT 1) PostgreSQL may rescan the
        # subquery per row and so lease every due message instead of one.
        picked = pick.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
        statement = (
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id).in_(select(picked.c.id)),
                col(OutboxMessage.status) == PENDING,
                lease_free,
            )
            .values(
                # Shown to people only; the lease lasts while the owner lives (workers.py).
                lease_until=now + timedelta(seconds=app.settings.mail.lease_seconds),
                lease_owner=worker.token,
                attempts=col(OutboxMessage.attempts) + 1,
            )
            .returning(col(OutboxMessage.id))
        )
        claimed = session.connection().execute(statement).scalars().first()
        if claimed is None:
            return None
        return session.get(OutboxMessage, claimed, populate_existing=True)


def _backoff(app: App, attempts: int) -> timedelta:
    mail = app.settings.mail
    return timedelta(
        seconds=min(mail.retry_base_seconds * 2 ** max(attempts - 1, 0), mail.retry_max_seconds)
    )


def _audit(
    session: Session, row: OutboxMessage, to_state: str, trigger: str, now: datetime
) -> None:
    head = audit.lock_chain(session, row.forbund_id)  # type: ignore[arg-type]
    audit.append(
        session,
        head,
        subject_kind=SUBJECT,
        subject_id=row.id,  # type: ignore[arg-type]
        subject_ref=row.message_id[:60],
        from_state="pending",
        to_state=to_state,
        trigger=trigger,
        actor=SENDER_ACTOR,
        at=now,
        data={"to": row.to_address, "attempts": row.attempts, "error": row.last_error},
    )


def _notify_chef(session: Session, app: App, row: OutboxMessage, now: datetime) -> None:
    """Tell the förbundschef a message failed for good (never about a failed notice itself)."""
    if row.kind == "notice" or row.forbund_id is None or app.notifications is None:
        return
    forbund = session.get(Forbund, row.forbund_id)
    chefs = session.exec(
        select(Person)
        .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(Person.forbund_id == row.forbund_id, PersonRole.role == "forbundschef")
    ).all()
    for chef in chefs:
        if chef.email == row.to_address:
            continue
        context = notice_context(
            forbund_name=forbund.name if forbund else "",
            recipient_name=chef.name,
            failed={
                "to": row.to_address,
                "subject": row.subject,
                "error": row.last_error or "",
                "message_id": row.message_id,
            },
        )
        queue(
            session,
            app,
            forbund_id=row.forbund_id,
            kind="notice",
            to_address=chef.email,
            to_name=chef.name,
            rendered=app.notifications.templates.render("leveransfel", context),
            now=now,
        )


def _give_up(app: App, row: OutboxMessage, now: datetime) -> bool:
    mail = app.settings.mail
    since = row.deferred_since or now
    return row.attempts >= mail.max_attempts and now - since >= timedelta(days=mail.give_up_days)


def _fail(
    session: Session, app: App, row: OutboxMessage, cause: str, detail: str, now: datetime
) -> None:
    row.status = "failed"
    row.failure_cause = cause
    row.last_error = detail or FAILURE_CAUSES[cause]
    _audit(session, row, "failed", "misslyckat", now)
    _notify_chef(session, app, row, now)


def _record(app: App, claimed: OutboxMessage, token: str, outcome: Outcome, now: datetime) -> str:
    with app.db.transaction() as session:
        row = session.get(OutboxMessage, claimed.id, populate_existing=True, with_for_update=True)
        if row is None or row.status != "pending" or row.lease_owner != token:
            return "lost"  # we were taken for gone and another sender took the message over
        row.lease_until = None
        row.lease_owner = None
        if outcome.result == "relay_down":
            # Not this message's attempt, and it keeps its place in line.
            row.attempts -= 1
            relay.mark_down(session, app, outcome.cause or "refused", outcome.detail, now)
            session.add(row)
            return "waiting"
        relay.mark_up(session, now)
        if outcome.result == "delivered":
            row.status = "sent"
            row.sent_at = now
            row.last_error = None
            row.text_body = without_secrets(row.text_body)
            row.html_body = without_secrets(row.html_body)
            _audit(session, row, "sent", "skickat", now)
        elif outcome.result == "failed":
            _fail(session, app, row, outcome.cause or "content", outcome.detail, now)
        else:  # deferred, unknown
            row.last_error = outcome.detail
            row.deferred_since = row.deferred_since or now
            if _give_up(app, row, now):
                _fail(
                    session,
                    app,
                    row,
                    "expired",
                    f"gav upp efter {row.attempts} försök: {outcome.detail}"[:500],
                    now,
                )
            else:
                row.next_attempt_at = now + _backoff(app, row.attempts)
        session.add(row)
        return row.status if row.status != "pending" else "retry"


def deliver_due(
    app: App,
    *,
    worker: Worker,
    stop: threading.Event | None = None,
    limit: int | None = None,
) -> DeliveryResult:
    """Send what is due, one message at a time (steps in the module doc)."""
    result = DeliveryResult()
    if not app.settings.mail.smtp_host:
        result.waiting = True
        return result
    if not relay.probe_due(app, app.clock()):
        result.waiting = True
        return result
    worker.ensure()
    worker.release_dead()
    count = 0
    with worker.beating():
        while stop is None or not stop.is_set():
            if limit is not None and count >= limit:
                break
            row = _claim_one(app, worker, app.clock())
            if row is None:
                break
            count += 1
            token = worker.token
            try:
                message = build_message(row, app.settings.mail)
            except (ValueError, TypeError) as exc:
                # An address or header that cannot be written: no relay will ever take it.
                outcome = Outcome(
                    "failed", f"meddelandet kan inte skapas: {exc}"[:400], "unbuildable"
                )
            else:
                outcome = send(message, app.settings.mail)
            status = _record(app, row, token, outcome, app.clock())
            if status == "sent":
                result.sent += 1
            elif status == "failed":
                result.failed += 1
            elif status == "retry":
                result.retried += 1
            if outcome.result in ("relay_down", "unknown"):
                # Down: wait for the probe. No answer after DATA: the relay is struggling;
                # the rest waits for the next round rather than each timing out in turn.
                result.waiting = outcome.result == "relay_down"
                break
    return result


# -- reading -------------------------------------------------------------------------------


@dataclass
class MessageView:
    id: int
    kind: str
    to: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    message_id: str


OUTBOX_STATUSES = ("pending", "sent", "failed")


def list_messages(
    app: App,
    *,
    forbund: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[MessageView]:
    """One page of the förbund's outbox, oldest first (keyset on the message's number)."""
    if status is not None and status not in OUTBOX_STATUSES:
        raise BadInput(f"okänd status {status!r}; välj pending, sent eller failed")
    check_limit(limit)
    zone = app.settings.zone
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = select(OutboxMessage).where(OutboxMessage.forbund_id == organisation.id)
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        rows = session.exec(OUTBOX_ORDER.page(query, after, limit)).all()
        page = OUTBOX_ORDER.cut(rows, limit, lambda r: (r.id,))
        items = [
            MessageView(
                id=r.id,  # type: ignore[arg-type]
                kind=r.kind,
                to=r.to_address,
                subject=r.subject,
                status=r.status,
                attempts=r.attempts,
                next_attempt_at=local(r.next_attempt_at, zone) if r.status == "pending" else None,
                created_at=local(r.created_at, zone),
                sent_at=local(r.sent_at, zone) if r.sent_at else None,
                last_error=r.last_error,
                message_id=r.message_id,
            )
            for r in page.items
        ]
        return Page(items, page.next_after)
