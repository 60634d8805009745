"""Reminders a person chose not to get one by one (services/reminders/preferences.py).

When the sweep writes a reminder's e-mail (planner._write_messages) a person who chose a
digest or the start page gets no message of their own; `hold` keeps the reminder, as it would
have been written to them, in `digest_item`:
  - daily: it goes out in that day's digest, at send_hour;
  - weekly: in the week's digest, on [mail] digest_weekday at send_hour;
  - start_page: never mailed; the start page shows it (`start_page_items`).
`flush`, in the same sweep transaction (under the förbund's audit-chain lock, so two
schedulers never write the same digest), writes one outbox message per person and digest
whose moment has come, holding all of that person's waiting reminders of that kind, and one
audit event for it. A reminder held after its day's digest went out waits for the next one:
a person gets at most one digest of each kind per day or week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import as_utc, local
from workflow.models import ForbundRef, Person, Reminder
from workflow.models.personal import DigestItem
from workflow.reminder_rules import digest_context
from workflow.services.cases import audit
from workflow.services.reminders import outbox
from workflow.services.reminders.preferences import START_PAGE, WEEKLY

SUBJECT = "reminder_digest"
SYSTEM_ACTOR = "scheduler@finsam"
TEMPLATE = "sammanfattning"


def _moment(app: App, day: date) -> datetime:
    return datetime.combine(day, time(app.settings.mail.send_hour), app.settings.zone).astimezone(
        UTC
    )


def first_moment(app: App, delivery: str, after: datetime) -> datetime:
    """The first digest moment of this kind at or after `after`."""
    zone = app.settings.zone
    day = local(as_utc(after), zone).date()
    if delivery == WEEKLY:
        day += timedelta(days=(app.settings.mail.digest_weekday - day.isoweekday()) % 7)
    step = timedelta(days=7 if delivery == WEEKLY else 1)
    moment = _moment(app, day)
    while moment < as_utc(after):
        day += step
        moment = _moment(app, day)
    return moment


def _next_moment(app: App, delivery: str, moment: datetime) -> datetime:
    step = 7 if delivery == WEEKLY else 1
    return _moment(app, local(moment, app.settings.zone).date() + timedelta(days=step))


def deliver_at(
    session: Session, app: App, person_id: int, delivery: str, reminder: Reminder
) -> datetime:
    """When this reminder's digest goes out: the first moment of its kind from the reminder's
    own moment on, unless that digest already went out (then the next one)."""
    moment = first_moment(app, delivery, reminder.send_at)
    while session.exec(
        select(DigestItem.id)
        .where(
            DigestItem.person_id == person_id,
            DigestItem.delivery == delivery,
            DigestItem.status == "sent",
            DigestItem.deliver_at == moment,
        )
        .limit(1)
    ).first():
        moment = _next_moment(app, delivery, moment)
    return moment


def hold(
    session: Session,
    app: App,
    *,
    forbund: ForbundRef,
    person: Person,
    reminder: Reminder,
    delivery: str,
    subject: str,
    body: str,
    now: datetime,
) -> DigestItem:
    """Keep one reminder to one person for their digest or start page (see the module doc)."""
    start_page = delivery == START_PAGE
    item = DigestItem(
        forbund_id=forbund.id,  # type: ignore[arg-type]
        person_id=person.id,  # type: ignore[arg-type]
        reminder_id=reminder.id,  # type: ignore[arg-type]
        rule=reminder.rule,
        delivery=delivery,
        subject_ref=reminder.subject_ref,
        due_on=reminder.due_on,
        subject=subject,
        text_body=body,
        created_at=now,
        deliver_at=None if start_page else deliver_at(session, app, person.id, delivery, reminder),  # type: ignore[arg-type]
        status="shown" if start_page else "pending",
    )
    session.add(item)
    session.flush()
    return item


def flush(session: Session, app: App, forbund: ForbundRef, now: datetime) -> int:
    """Write every digest of the förbund whose moment has come; how many messages."""
    if app.notifications is None:
        return 0
    head = audit.lock_chain(session, forbund.id)  # type: ignore[arg-type]
    due = session.exec(
        select(DigestItem)
        .where(
            DigestItem.forbund_id == forbund.id,
            col(DigestItem.status) == "pending",
            col(DigestItem.deliver_at) <= now,
        )
        .order_by(col(DigestItem.person_id), col(DigestItem.delivery), col(DigestItem.id))
        .execution_options(populate_existing=True)
    ).all()
    groups: dict[tuple[int, str], list[DigestItem]] = {}
    for item in due:
        groups.setdefault((item.person_id, item.delivery), []).append(item)
    rules = app.notifications.rules
    written = 0
    for (person_id, delivery), items in groups.items():
        person = session.get(Person, person_id)
        if person is None or person.deactivated_at is not None:
            for item in items:  # left the förbund: nobody to write to
                item.status = "skipped"
                session.add(item)
            continue
        items.sort(key=lambda i: (i.due_on, i.id or 0))
        context = digest_context(
            forbund_name=forbund.name,
            recipient_name=person.name,
            delivery=delivery,
            items=[
                {
                    "subject": i.subject,
                    "text": i.text_body,
                    "rule_label": rules[i.rule].label if i.rule in rules else i.rule,
                    "ref": i.subject_ref,
                    "due_on": i.due_on,
                }
                for i in items
            ],
        )
        message = outbox.queue(
            session,
            app,
            forbund_id=forbund.id,  # type: ignore[arg-type]
            kind="digest",
            to_address=person.email,
            to_name=person.name,
            rendered=app.notifications.templates.render(TEMPLATE, context),
            now=now,
        )
        # The moment it was written for: later items of this period wait for the next one.
        moment = max(as_utc(i.deliver_at) for i in items if i.deliver_at is not None)
        for item in items:
            item.status = "sent"
            item.deliver_at = moment
            item.outbox_message_id = message.id
            session.add(item)
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=message.id,  # type: ignore[arg-type]
            subject_ref=f"{delivery} {person.email}"[:60],
            from_state=None,
            to_state="sent",
            trigger="sammanfatta",
            actor=SYSTEM_ACTOR,
            at=now,
            data={
                "to": person.email,
                "delivery": delivery,
                "reminder_ids": [i.reminder_id for i in items],
                "message_id": message.message_id,
            },
        )
        written += 1
    session.flush()
    return written


@dataclass(frozen=True)
class HeldReminder:
    subject: str
    text: str
    rule_label: str
    ref: str
    due_on: date
    delivery: str
    created_at: datetime


def start_page_items(
    app: App, *, person_id: int, days: int = 30, limit: int = 20
) -> list[HeldReminder]:
    """The reminders of the last `days` this person chose to see on the start page only
    (and those still waiting for their digest), newest first."""
    since = app.clock() - timedelta(days=days)
    rules = app.notifications.rules if app.notifications else {}
    with app.db.reading() as session:
        rows = session.exec(
            select(DigestItem)
            .where(
                DigestItem.person_id == person_id,
                col(DigestItem.created_at) >= since,
                col(DigestItem.status).in_(("shown", "pending")),
            )
            .order_by(col(DigestItem.created_at).desc(), col(DigestItem.id).desc())
            .limit(limit)
        ).all()
        return [
            HeldReminder(
                subject=r.subject,
                text=r.text_body,
                rule_label=rules[r.rule].label if r.rule in rules else r.rule,
                ref=r.subject_ref,
                due_on=r.due_on,
                delivery=r.delivery,
                created_at=local(r.created_at, app.settings.zone),
            )
            for r in rows
        ]
