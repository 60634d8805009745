"""What a person does with the outbox: look at one message as it was sent, send failed ones again.

`show_message` only reads. `retry` is a change of the förbund: in one transaction it takes the
chain lock, checks the person may (action retry_mail), puts each failed message back in line
with its Message-ID unchanged (a receiver can tell a copy), and appends one audit event per
message naming who asked and why it had failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from workflow.app import App
from workflow.clock import local
from workflow.errors import BadInput, NotFound
from workflow.models import OutboxMessage
from workflow.services.cases import audit
from workflow.services.cases.change import begin_change
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.reminders.mailer import build_message
from workflow.services.reminders.outbox import FAILURE_CAUSES, SUBJECT, without_secrets


@dataclass(frozen=True)
class MessageDetail:
    id: int
    kind: str
    status: str
    # The headers as the relay gets them (From, To, Subject, Date, Message-ID ...).
    headers: list[tuple[str, str]]
    to: str
    subject: str
    text: str
    message_id: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None
    failure_cause: str | None
    failure_text: str | None


def show_message(app: App, *, message_id: int, forbund: str | None = None) -> MessageDetail:
    """One message of the förbund as it is (or was) handed to the relay."""
    zone = app.settings.zone
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        row = session.get(OutboxMessage, message_id)
        if row is None or row.forbund_id != organisation.id:
            raise NotFound(
                f"inget meddelande nr {message_id} i {organisation.slug}; se 'finsam outbox list'"
            )
        try:
            built = build_message(row, app.settings.mail)
            headers = [(name, str(value)) for name, value in built.items()]
        except (ValueError, TypeError):
            headers = [("To", row.to_address), ("Subject", row.subject)]
        return MessageDetail(
            id=message_id,
            kind=row.kind,
            status=row.status,
            headers=[(n, v) for n, v in headers if n not in ("Content-Type", "MIME-Version")],
            to=row.to_address,
            subject=row.subject,
            text=without_secrets(row.text_body),
            message_id=row.message_id,
            attempts=row.attempts,
            created_at=local(row.created_at, zone),
            sent_at=local(row.sent_at, zone) if row.sent_at else None,
            next_attempt_at=local(row.next_attempt_at, zone) if row.status == "pending" else None,
            last_error=row.last_error,
            failure_cause=row.failure_cause,
            failure_text=FAILURE_CAUSES.get(row.failure_cause) if row.failure_cause else None,
        )


@dataclass
class RetryResult:
    ids: list[int] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)


def retry(
    app: App,
    *,
    actor_email: str,
    message_id: int | None = None,
    cause: str | None = None,
    forbund: str | None = None,
) -> RetryResult:
    """Put one failed message (by number) or every failed one of a cause back in line."""
    if (message_id is None) == (cause is None):
        raise BadInput("ange ett meddelandenummer eller --cause, inte båda och inte inget")
    if cause is not None and cause not in FAILURE_CAUSES:
        raise BadInput(f"okänd orsak {cause!r}; välj bland: {', '.join(FAILURE_CAUSES)}")
    now = app.clock()
    result = RetryResult()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "retry_mail")
        query = select(OutboxMessage).where(OutboxMessage.forbund_id == organisation.id)
        if message_id is not None:
            row = session.get(OutboxMessage, message_id, with_for_update=True)
            if row is None or row.forbund_id != organisation.id:
                raise NotFound(
                    f"inget meddelande nr {message_id} i {organisation.slug}; "
                    "se 'finsam outbox list --failed'"
                )
            if row.status != "failed":
                raise BadInput(
                    f"meddelande nr {message_id} har status {row.status}; "
                    "bara misslyckade meddelanden skickas igen"
                )
            rows = [row]
        else:
            rows = list(
                session.exec(
                    query.where(
                        col(OutboxMessage.status) == "failed",
                        OutboxMessage.failure_cause == cause,
                    )
                    .order_by(col(OutboxMessage.id))
                    .with_for_update()
                )
            )
        for row in rows:
            before = {"cause": row.failure_cause, "error": row.last_error}
            row.status = "pending"
            row.failure_cause = None
            row.deferred_since = None
            row.next_attempt_at = now
            row.lease_owner = None
            row.lease_until = None
            session.add(row)
            audit.append(
                session,
                head,
                subject_kind=SUBJECT,
                subject_id=row.id,  # type: ignore[arg-type]
                subject_ref=row.message_id[:60],
                from_state="failed",
                to_state="pending",
                trigger="skicka_igen",
                actor=actor,
                at=now,
                data={"to": row.to_address, "attempts": row.attempts, **before},
            )
            result.ids.append(row.id)  # type: ignore[arg-type]
            result.message_ids.append(row.message_id)
    return result


@dataclass(frozen=True)
class FailedCause:
    cause: str | None
    label: str
    count: int


@dataclass(frozen=True)
class FailedNotice:
    """Failed deliveries of a förbund, per cause: shown on the förbundschef's start page until
    each message is sent again (handled)."""

    count: int
    causes: list[FailedCause]


NOTICE_ROLES = frozenset({"forbundschef", "admin"})


def failed_notice(app: App, *, forbund: str, roles: frozenset[str]) -> FailedNotice | None:
    """What failed for good in the förbund's outbox, for a förbundschef (or administrator);
    None for anyone else, or when nothing waits to be handled."""
    if not roles & NOTICE_ROLES:
        return None
    from sqlalchemy import func

    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        rows = session.exec(
            select(OutboxMessage.failure_cause, func.count())
            .where(
                OutboxMessage.forbund_id == organisation.id,
                col(OutboxMessage.status) == "failed",
            )
            .group_by(col(OutboxMessage.failure_cause))
            .order_by(col(OutboxMessage.failure_cause))
        ).all()
    if not rows:
        return None
    causes = [
        FailedCause(cause, FAILURE_CAUSES.get(cause or "", cause or "okänd orsak"), int(count))
        for cause, count in rows
    ]
    return FailedNotice(sum(c.count for c in causes), causes)
