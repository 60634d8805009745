"""Reminders: plan them from due dates, and let the sweep claim the due ones into the outbox.

`plan` (re)computes the reminder rows of one förbund from the rules and the sources of due
dates. It is idempotent: a row exists once per rule step, dated thing and due date; a changed
date cancels the old pending row and plans a new one. Other services call `replan` inside their
own transaction when they change a date, for the things they changed (`Subjects`: a case and
its reports, a meeting and its protocol, a document). Listing reminders only reads
(`list_reminders`): it never plans.

`sweep` is what the scheduler runs every few minutes. Per förbund:
  1. if this is the day's first sweep (local time), or the definitions it plans from changed
     since the last whole plan (`plan_key`: the rules and templates, the send hour ...), it
     plans the whole förbund (`plan_whole`: every open insats and owed report, a batch at a
     time, each batch in a transaction of its own; ReminderPlan records it). Not every few
     minutes: at 100 000 insatser a whole plan is seconds of CPU;
then, in one transaction per batch of due rows, it
  2. takes the förbund's audit-chain lock (serialises with every other change),
  3. plans again the subjects of the due rows it is about to claim, so that a reminder whose
     date changed behind the services' back since the day's plan is not sent as it was,
  4. claims those due pending rows with one conditional UPDATE ... RETURNING (on PostgreSQL
     over FOR UPDATE SKIP LOCKED), so two schedulers never claim the same row,
  5. writes one outbox message per recipient and one audit event per reminder; a recipient
     who chose a digest or the start page for the rule (preferences.py) gets no message of
     their own: the reminder is held for them (digests.py),
  6. writes the digests whose moment has come (one message per person and digest).
A reminder due while nothing ran is still pending and is claimed, once, by the next sweep.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnClause, ColumnElement, false, literal_column, or_, update
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import as_utc, local, local_date
from workflow.errors import BadInput, NotFound
from workflow.models import (
    AuditEvent,
    Forbund,
    ForbundRef,
    Person,
    PersonRole,
    Reminder,
    ReminderPlan,
)
from workflow.models.funding import Report
from workflow.reminder_rules import (
    RESPONSIBLE,
    Notifications,
    Rule,
    Step,
    reminder_context,
    subject_link,
)
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.paging import Keyset, Page, check_limit
from workflow.services.reminders.due_dates import SOURCES, DueItem, Subjects, Window, owners
from workflow.vocabulary import recipient_label

if TYPE_CHECKING:  # the writes import the audit chain; listing reminders has no use for it
    from workflow.services.cases import audit

log = logging.getLogger("finsam.reminders")

SUBJECT = "reminder"
SYSTEM_ACTOR = "scheduler@finsam"
PENDING: ColumnClause[str] = literal_column(
    "'pending'"
)  # a literal, so SQLite can use the partial index

Key = tuple[str, str, str, int, date]  # rule, step, subject kind, subject id, due date


@dataclass(frozen=True)
class Planned:
    rule: Rule
    step: Step
    item: DueItem
    send_on: date
    send_at: datetime

    @property
    def key(self) -> Key:
        return (
            self.rule.id,
            self.step.key,
            self.item.subject_kind,
            self.item.subject_id,
            self.item.due_on,
        )


@dataclass
class PlanResult:
    created: int = 0
    cancelled: int = 0
    moved: int = 0
    planned: dict[Key, Planned] = field(default_factory=dict)


@dataclass
class SweepResult:
    planned: int = 0
    cancelled: int = 0
    claimed: int = 0
    messages: int = 0
    digests: int = 0


def _notifications(app: App) -> Notifications:
    if app.notifications is None:  # App built by hand without definitions
        raise BadInput("påminnelsereglerna är inte inlästa; starta via App.create")
    return app.notifications


def send_moment(day: date, app: App) -> datetime:
    """The instant a reminder of `day` goes out: the configured local hour, whatever DST says."""
    zone = app.settings.zone
    return datetime.combine(day, time(app.settings.mail.send_hour), zone).astimezone(UTC)


def desired(
    session: Session,
    app: App,
    forbund: ForbundRef,
    today: date,
    only: Subjects | None = None,
) -> dict[Key, Planned]:
    """Every reminder the rules ask for now, whatever its date (of these subjects only, when
    given)."""
    # Imported here, not at the top: the working days need the holiday calendars (`holidays`),
    # which only planning reads; listing reminders must not pay for them.
    from workflow.services.reminders.working_days import reminder_day

    wanted: dict[Key, Planned] = {}
    # Rules often share a source (kallelse and justering: the meetings); ask each source once.
    collected: dict[tuple[str, tuple[int, int] | None], list[DueItem]] = {}
    # The day and moment each step gives a due date: thousands of insatser share a handful of
    # due dates (reports fall due on the same days), so each is worked out once.
    moments: dict[tuple[str, str, date], tuple[date, datetime]] = {}
    for rule in _notifications(app).rules.values():
        source = SOURCES[rule.source]
        if source.collect is None or (only is not None and not only.covers(rule.source)):
            continue
        window = Window(
            today=today, lifecycles=app.lifecycles, yearly_due=rule.yearly_due, only=only
        )
        cache_key = (rule.source, rule.yearly_due)
        if cache_key not in collected:
            collected[cache_key] = list(source.collect(session, forbund, window))
        for item in collected[cache_key]:
            for step in rule.steps:
                moment = moments.get((rule.id, step.key, item.due_on))
                if moment is None:
                    send_on = reminder_day(step.planned_on(item.due_on), item.due_on)
                    moment = moments[rule.id, step.key, item.due_on] = (
                        send_on,
                        send_moment(send_on, app),
                    )
                planned = Planned(rule, step, item, *moment)
                wanted[planned.key] = planned
    return wanted


def _cancel(session: Session, head: audit.ChainHead, row: Reminder, now: datetime) -> None:
    """A pending reminder no longer wanted (its due date, rule or subject went away)."""
    row.status = "cancelled"
    row.updated_at = now
    session.add(row)
    _audit(
        session,
        head,
        row,
        from_state="pending",
        to_state="cancelled",
        trigger="avplanera",
        now=now,
    )


def _audit(
    session: Session,
    head: audit.ChainHead,
    row: Reminder,
    *,
    from_state: str | None,
    to_state: str,
    trigger: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    from workflow.services.cases import audit

    audit.append(
        session,
        head,
        subject_kind=SUBJECT,
        subject_id=row.id,  # type: ignore[arg-type]
        subject_ref=f"{row.rule}/{row.step} {row.subject_ref}"[:60],
        from_state=from_state,
        to_state=to_state,
        trigger=trigger,
        actor=SYSTEM_ACTOR,
        at=now,
        data={"due_on": row.due_on, "send_on": row.send_on, **(data or {})},
    )


def _rows_of(only: Subjects, forbund_id: int | None = None) -> ColumnElement[bool]:
    """The reminder rows about these subjects (a case's include its reports'; the förbund's
    own, of the förbund `forbund_id`)."""
    parts: list[ColumnElement[bool]] = []
    if only.insats_ids:
        ids = sorted(only.insats_ids)
        reports = select(Report.id).where(col(Report.insats_id).in_(ids))
        parts.append((col(Reminder.subject_kind) == "insats") & col(Reminder.subject_id).in_(ids))
        parts.append(
            (col(Reminder.subject_kind) == "report") & col(Reminder.subject_id).in_(reports)
        )
    if only.meeting_ids:
        parts.append(
            (col(Reminder.subject_kind) == "meeting")
            & col(Reminder.subject_id).in_(sorted(only.meeting_ids))
        )
    if only.document_ids:
        parts.append(
            (col(Reminder.subject_kind) == "styrdokument")
            & col(Reminder.subject_id).in_(sorted(only.document_ids))
        )
    if only.forbund:
        parts.append(
            (col(Reminder.subject_kind) == "forbund") & (col(Reminder.subject_id) == forbund_id)
        )
    return or_(*parts) if parts else false()


def plan(
    session: Session,
    app: App,
    forbund: ForbundRef,
    now: datetime,
    only: Subjects | None = None,
) -> PlanResult:
    """Bring the förbund's reminder rows in line with its due dates (call inside a transaction);
    with `only`, the rows of those subjects alone (what a change touched).

    New reminders whose day passed more than `catch_up_days` ago are not planned (a new install
    does not mail about 2014); rows already planned stay pending however late they are.
    """
    from workflow.services.cases import audit

    head = audit.lock_chain(session, forbund.id)  # type: ignore[arg-type]
    today = local_date(now, app.settings.zone)
    wanted = desired(session, app, forbund, today, only)
    earliest = today - timedelta(days=app.settings.mail.catch_up_days)
    result = PlanResult(planned=wanted)
    query = select(Reminder).where(
        (col(Reminder.status) == PENDING) | (col(Reminder.send_on) >= earliest),
    )
    if only is None:
        query = query.where(Reminder.forbund_id == forbund.id)
    else:
        # The rows of these subjects, found by subject (ix_reminder_subject): a subject's rows
        # are all of its förbund. Given the förbund too, SQLite (which has no statistics here)
        # walks every reminder of the förbund instead, for each change and each batch of a
        # whole plan.
        query = query.where(_rows_of(only, forbund.id))
    existing = session.exec(query).all()
    seen: set[Key] = set()
    for row in existing:
        key: Key = (row.rule, row.step, row.subject_kind, row.subject_id, row.due_on)
        seen.add(key)
        if row.status != "pending":
            continue
        target = wanted.get(key)
        if target is None:
            _cancel(session, head, row, now)
            result.cancelled += 1
        elif row.send_at != target.send_at:
            # The hour or the calendar changed: same reminder, new moment.
            row.send_on, row.send_at, row.updated_at = target.send_on, target.send_at, now
            session.add(row)
            result.moved += 1
    for key, target in wanted.items():
        if key in seen or target.send_on < earliest:
            continue
        row = Reminder(
            forbund_id=forbund.id,  # type: ignore[arg-type]
            rule=target.rule.id,
            step=target.step.key,
            source=target.rule.source,
            subject_kind=target.item.subject_kind,
            subject_id=target.item.subject_id,
            subject_ref=target.item.ref[:80],
            due_on=target.item.due_on,
            send_on=target.send_on,
            send_at=target.send_at,
            status="pending",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        _audit(session, head, row, from_state=None, to_state="pending", trigger="planera", now=now)
        result.created += 1
    session.flush()
    return result


def plan_key(app: App) -> str:
    """What a whole plan follows from besides the data: the rules and templates as loaded,
    the send hour, the zone, how far back new reminders are planned, and the states the
    sources look at. When any of them changes, the next sweep plans the whole förbund."""
    insats = app.lifecycles.insats.lifecycle
    parts = [
        _notifications(app).fingerprint,
        str(app.settings.mail.send_hour),
        str(app.settings.zone),
        str(app.settings.mail.catch_up_days),
        *(",".join(sorted(insats.tagged(tag))) for tag in ("reporting", "closed")),
        ",".join(sorted(app.lifecycles["styrdokument"].lifecycle.tagged("in_force"))),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


# Insatser planned per transaction in a whole plan. Each transaction holds the förbund's
# audit-chain lock, which every change of the förbund waits for: a batch holds it for a tenth
# of a second, where the whole förbund at 100 000 insatser held it for seconds, and a batch's
# due dates are all the plan keeps in memory.
WHOLE_PLAN_BATCH = 1000
# A whole plan started this long ago and not finished (its process stopped) is started again.
WHOLE_PLAN_STALLED = timedelta(hours=1)


def _whole_plan_due(row: ReminderPlan | None, key: str, today: date, now: datetime) -> bool:
    """Whether the förbund has had no whole plan `today`, had it from other definitions than
    `key` (plan_key), or has one that stopped halfway."""
    return (
        row is None
        or row.planned_on != today
        or row.plan_key != key
        or (row.finished_at is None and as_utc(row.started_at) < now - WHOLE_PLAN_STALLED)
    )


def _start_whole_plan(app: App, forbund_id: int, now: datetime, *, force: bool) -> bool:
    """Take today's whole plan of the förbund (unless it is done or under way, when `force`
    is not given): recorded as started, under the chain lock, so that of several schedulers
    ticking at once one plans and the others see it taken."""
    from workflow.services.cases import audit

    key, today = plan_key(app), local_date(now, app.settings.zone)
    if not force:
        with app.db.reading() as session:  # most sweeps: no write, no lock
            if not _whole_plan_due(session.get(ReminderPlan, forbund_id), key, today, now):
                return False
    with app.db.transaction() as session:
        audit.lock_chain(session, forbund_id)
        row = session.get(ReminderPlan, forbund_id, populate_existing=True)
        if not force and not _whole_plan_due(row, key, today, now):  # another took it meanwhile
            return False
        if row is not None and row.plan_key not in ("", key):
            # Seen once after a deployment or an edit of notifications/; at every sweep, two
            # schedulers run with different definitions and replan the förbund in turn.
            log.info(
                "påminnelsernas regler eller inställningar har ändrats: hela förbundet planeras"
            )
        row = row or ReminderPlan(
            forbund_id=forbund_id, planned_on=date.min, plan_key="", started_at=now
        )
        row.planned_on = today
        row.plan_key = key
        row.started_at, row.finished_at = now, None
        session.add(row)
    return True


def plan_whole(app: App, forbund_id: int, now: datetime) -> PlanResult:
    """Plan the whole förbund: with more than WHOLE_PLAN_BATCH insatser, its own dated things
    (meetings, styrdokument, the yearly rules) in one transaction, then its insatser (with
    their reports) a batch at a time, each in a transaction of its own; a smaller förbund in
    one. The end is recorded in ReminderPlan. A change made between two batches replans what
    it changed itself, so nothing is lost between them."""
    from workflow.models import Insats, PolicyDocument
    from workflow.models.meetings import Meeting  # only planning reads the meeting tables

    total = PlanResult()
    with app.db.transaction() as session:
        forbund = session.get(Forbund, forbund_id)
        assert forbund is not None
        if not session.exec(
            select(col(Insats.id))
            .where(Insats.forbund_id == forbund_id)
            .offset(WHOLE_PLAN_BATCH)
            .limit(1)
        ).first():
            # A batch or less (most förbund): in one transaction, as one plan.
            _count(total, plan(session, app, forbund, now))
            _finish_whole_plan(session, app, forbund_id)
            return total
        meetings = select(col(Meeting.id)).where(Meeting.forbund_id == forbund_id)
        documents = select(col(PolicyDocument.id)).where(PolicyDocument.forbund_id == forbund_id)
        own = Subjects(
            meeting_ids=frozenset(i for i in session.exec(meetings) if i is not None),
            document_ids=frozenset(i for i in session.exec(documents) if i is not None),
            forbund=True,
        )
        _count(total, plan(session, app, forbund, now, own))
    after = 0
    while True:
        with app.db.transaction() as session:
            forbund = session.get(Forbund, forbund_id)
            assert forbund is not None
            ids = session.exec(
                select(col(Insats.id))
                .where(Insats.forbund_id == forbund_id, col(Insats.id) > after)
                .order_by(col(Insats.id))
                .limit(WHOLE_PLAN_BATCH)
            ).all()
            if ids:
                batch = Subjects(insats_ids=frozenset(ids))  # type: ignore[arg-type]
                _count(total, plan(session, app, forbund, now, batch))
                after = ids[-1]  # type: ignore[assignment]
            if len(ids) < WHOLE_PLAN_BATCH:
                _finish_whole_plan(session, app, forbund_id)
                return total
            session.expunge_all()  # the batch's reminders are done with


def _finish_whole_plan(session: Session, app: App, forbund_id: int) -> None:
    row = session.get(ReminderPlan, forbund_id)
    if row is not None:
        row.finished_at = app.clock()
        session.add(row)


def _count(total: PlanResult, part: PlanResult) -> None:
    """Add a part's counts to the whole (not its planned reminders: the memory of a batch)."""
    total.created += part.created
    total.cancelled += part.cancelled
    total.moved += part.moved


def _due(forbund_id: int, now: datetime, limit: int) -> Any:
    """The förbund's first `limit` pending rows whose moment has come, by moment."""
    return (
        select(Reminder.id)
        .where(
            Reminder.forbund_id == forbund_id,
            col(Reminder.status) == PENDING,
            col(Reminder.send_at) <= now,
        )
        .order_by(col(Reminder.send_at))
        .limit(limit)
    )


def claim_due(
    session: Session,
    *,
    forbund_id: int,
    now: datetime,
    worker: str,
    limit: int,
    among: Sequence[int] | None = None,
) -> list[int]:
    """Mark up to `limit` due pending rows as sent by `worker` (of the rows `among`, if
    given); return the ids this call got.

    One statement: the rows are chosen and flipped together, and a row another worker has
    already flipped no longer matches `status = 'pending'`, so nobody claims a row twice.
    """
    due = _due(forbund_id, now, limit)
    if among is not None:
        due = due.where(col(Reminder.id).in_(among))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # A materialised CTE is evaluated once; PostgreSQL may rescan an IN (subquery ... LIMIT)
    # per row and so claim more than `limit`.
    picked = due.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    statement = (
        update(Reminder)
        .where(col(Reminder.id).in_(select(picked.c.id)), col(Reminder.status) == PENDING)
        .values(status="sent", claimed_by=worker, updated_at=now)
        .returning(col(Reminder.id))
    )
    return [i for i in session.connection().execute(statement).scalars() if i is not None]


def _people_by_role(session: Session, forbund: ForbundRef) -> dict[str, list[Person]]:
    found: dict[str, list[Person]] = {}
    rows = session.exec(
        select(PersonRole.role, Person)
        .join(Person, col(Person.id) == col(PersonRole.person_id))
        # A deactivated person has left: no more reminders to them.
        .where(Person.forbund_id == forbund.id, col(Person.deactivated_at).is_(None))
        .order_by(col(Person.email))
    )
    for role, person in rows:
        found.setdefault(role, []).append(person)
    return found


def recipients(
    session: Session,
    forbund: ForbundRef,
    step: Step,
    item: DueItem,
    by_role: dict[str, list[Person]],
) -> list[Person]:
    chosen: dict[str, Person] = {}
    for who in step.to:
        if who == RESPONSIBLE:
            person = session.get(Person, item.owner_id) if item.owner_id else None
            people = (
                [person]
                if person is not None
                and person.forbund_id == forbund.id
                and person.deactivated_at is None
                else []
            )
        else:
            people = by_role.get(who, [])
        for person in people:
            chosen.setdefault(person.email, person)
    return list(chosen.values())


def _write_messages(
    session: Session,
    app: App,
    forbund: ForbundRef,
    head: audit.ChainHead,
    ids: Sequence[int],
    planned: dict[Key, Planned],
    now: datetime,
) -> int:
    # Imported here, not at the top: only the sweep writes messages; the outbox (with the
    # mailer and its SMTP library), the digests and Jinja2 are no part of listing reminders.
    from jinja2 import TemplateError

    from workflow.services.reminders import digests, outbox, preferences

    notifications = _notifications(app)
    today = local_date(now, app.settings.zone)
    by_role = _people_by_role(session, forbund)
    chosen = preferences.choices_in(session, forbund.id) if ids else {}  # type: ignore[arg-type]
    rows = session.exec(
        select(Reminder).where(col(Reminder.id).in_(ids)).execution_options(populate_existing=True)
    ).all()
    written = 0
    for row in sorted(rows, key=lambda r: (r.send_at, r.id or 0)):
        target = planned.get((row.rule, row.step, row.subject_kind, row.subject_id, row.due_on))
        if target is None:
            # The rule was removed from rules.yaml after the row was planned.
            _cancel(session, head, row, now)
            continue
        people = recipients(session, forbund, target.step, target.item, by_role)
        message_ids: list[str] = []
        held: dict[str, str] = {}
        failed: list[str] = []
        for person in people:
            # At once, unless they chose a digest or the start page for this rule (and the
            # rule is not compulsory): services/reminders/preferences.py
            delivery = preferences.delivery_of(notifications, chosen, person.id, row.rule)  # type: ignore[arg-type]
            context = reminder_context(
                rule=target.rule,
                step=target.step,
                item=target.item,
                today=today,
                forbund_name=forbund.name,
                recipient_name=person.name,
                link=subject_link(app.settings.web.public_url, row.subject_kind, row.subject_id),
            )
            try:
                rendered = notifications.templates.render(target.step.template, context)
                body = (
                    notifications.templates.render_body(target.step.template, context)
                    if delivery != preferences.IMMEDIATE
                    else ""
                )
            except TemplateError as exc:
                # Logged and skipped: one bad item must not hold back the förbund's other mail.
                log.warning("påminnelse %s kunde inte skrivas: %s", row.id, exc)
                failed.append(f"{person.email}: {exc}")
                continue
            if delivery != preferences.IMMEDIATE:
                digests.hold(
                    session,
                    app,
                    forbund=forbund,
                    person=person,
                    reminder=row,
                    delivery=delivery,
                    subject=rendered.subject,
                    body=body,
                    now=now,
                )
                held[person.email] = delivery
                continue
            message = outbox.queue(
                session,
                app,
                forbund_id=forbund.id,  # type: ignore[arg-type]
                kind="reminder",
                to_address=person.email,
                to_name=person.name,
                rendered=rendered,
                now=now,
                reminder_id=row.id,
            )
            message_ids.append(message.message_id)
        if not message_ids and not held:
            row.status = "skipped"  # nobody to write to, or nothing could be written
            session.add(row)
        _audit(
            session,
            head,
            row,
            from_state="pending",
            to_state=row.status,
            trigger="skicka",
            now=now,
            data={
                "to": [p.email for p in people],
                "message_ids": message_ids,
                "errors": failed,
                # Who gets it in a digest or on the start page instead (their choice).
                **({"held": held} if held else {}),
            },
        )
        written += len(message_ids)
    session.flush()
    return written


def sweep(app: App, *, worker: str, batch: int = 500) -> SweepResult:
    """Plan, claim and queue every förbund's due reminders (steps in the module doc)."""
    from workflow.services.cases import audit
    from workflow.services.reminders import digests  # only the sweep writes digests

    now = app.clock()
    result = SweepResult()
    with app.db.reading() as session:
        forbund_ids = list(session.exec(select(Forbund.id).order_by(col(Forbund.id))))
    for forbund_id in forbund_ids:
        assert forbund_id is not None
        if _start_whole_plan(app, forbund_id, now, force=False):
            whole = plan_whole(app, forbund_id, now)
            result.planned += whole.created
            result.cancelled += whole.cancelled
        while True:
            with app.db.transaction() as session:
                forbund = session.get(Forbund, forbund_id)
                assert forbund is not None
                head = audit.lock_chain(session, forbund_id)
                # What is about to go out is planned again first, so that a reminder whose
                # date, rule or template changed since the last plan goes out as it is now.
                ids, subjects = _due_subjects(session, forbund_id, now, batch)
                planned = plan(session, app, forbund, now, subjects)
                result.planned += planned.created
                result.cancelled += planned.cancelled
                ids = claim_due(
                    session, forbund_id=forbund_id, now=now, worker=worker, limit=batch, among=ids
                )
                result.claimed += len(ids)
                result.messages += _write_messages(
                    session, app, forbund, head, ids, planned.planned, now
                )
                # Done when fewer than a batch were due, unless planning them made new ones
                # that are due (a due date moved forward): those go out in the next round.
                done = len(ids) < batch and not planned.created
                if done:
                    # The digests whose moment has come, those held just now included.
                    result.digests += digests.flush(session, app, forbund, now)
            if done:
                break
    return result


def _due_subjects(
    session: Session, forbund_id: int, now: datetime, limit: int
) -> tuple[list[int], Subjects]:
    """The due rows the sweep takes next (as `claim_due` would choose them) and what they are
    about, a report's insats for the report."""
    due = _due(forbund_id, now, limit).subquery()
    rows = session.exec(
        select(Reminder.id, Reminder.subject_kind, Reminder.subject_id).where(
            col(Reminder.id).in_(select(due.c.id))
        )
    ).all()
    ids = [row_id for row_id, _kind, _subject in rows if row_id is not None]
    by_kind: dict[str, set[int]] = {}
    for _row_id, kind, subject_id in rows:
        by_kind.setdefault(kind, set()).add(subject_id)
    insatser = set(by_kind.get("insats", ()))
    if by_kind.get("report"):
        insatser.update(
            session.exec(
                select(Report.insats_id).where(col(Report.id).in_(sorted(by_kind["report"])))
            )
        )
    subjects = Subjects(
        insats_ids=frozenset(insatser),
        meeting_ids=frozenset(by_kind.get("meeting", ())),
        document_ids=frozenset(by_kind.get("styrdokument", ())),
        forbund="forbund" in by_kind,
    )
    return ids, subjects


# -- reading -------------------------------------------------------------------------------


@dataclass
class ReminderView:
    id: int
    rule: str
    rule_label: str
    step: str
    subject_kind: str
    subject_ref: str
    due_on: date
    send_on: date
    send_at: datetime
    status: str
    recipients: list[str]
    # Why it goes out that day: the step ("14 dagar före") of the rule, before the due date.
    when: str = ""


REMINDER_STATUSES = ("pending", "sent", "cancelled", "skipped")

_REMINDER = Reminder.__table__  # type: ignore[attr-defined]
# By day, then moment: the same order as by moment (a reminder's moment is its day at the
# send hour), led by the day so that the index behind it (ix_reminder_list) cannot serve the
# sweep's `send_at <= now`, which must keep using the partial index of pending rows.
REMINDER_ORDER = Keyset("reminders", (_REMINDER.c.send_on, _REMINDER.c.send_at, _REMINDER.c.id))


def _sent_to(session: Session, forbund: ForbundRef, ids: list[int]) -> dict[int, list[str]]:
    """Who each sent (or skipped) reminder went to, as its audit event recorded it."""
    if not ids:
        return {}
    events = session.exec(
        select(AuditEvent.subject_id, AuditEvent.data).where(
            AuditEvent.forbund_id == forbund.id,
            AuditEvent.subject_kind == SUBJECT,
            col(AuditEvent.subject_id).in_(ids),
            AuditEvent.trigger == "skicka",
        )
    )
    return {subject_id: list(data.get("to", [])) for subject_id, data in events}


def list_reminders(
    app: App,
    *,
    forbund: str | None = None,
    due_before: date | None = None,
    status: str | None = None,
    rule: str | None = None,
    case_ref: str | None = None,
    person_id: int | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[ReminderView]:
    """One page of the förbund's reminders as planned, by the moment they go out. Only reads:
    the planning is done when a date changes and by the sweep (`plan`, `replan`).

    Recipients: of a pending reminder, who it goes to now; of a sent or skipped one, who it
    went to; a cancelled one goes to nobody."""
    if status is not None and status not in REMINDER_STATUSES:
        raise BadInput(f"okänd status {status!r}; välj pending, sent, cancelled eller skipped")
    check_limit(limit)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = select(Reminder).where(Reminder.forbund_id == organisation.id)
        if due_before is not None:
            query = query.where(col(Reminder.send_on) < due_before)
        if status is not None:
            query = query.where(Reminder.status == status)
        if rule is not None:
            if rule not in _notifications(app).rules:
                raise BadInput(f"okänd påminnelseregel {rule!r}; se 'finsam reminders rules'")
            query = query.where(Reminder.rule == rule)
        if case_ref is not None:
            from workflow.services.cases.records import find_case

            case = find_case(session, organisation, case_ref)
            query = query.where(_rows_of(Subjects(insats_ids=frozenset([case.id]))))  # type: ignore[list-item]
        if person_id is not None:
            person = session.get(Person, person_id)
            if person is None or person.forbund_id != organisation.id:
                raise NotFound(f"ingen person nr {person_id} i {organisation.slug}")
            query = query.where(_addressed_to(session, app, organisation, person_id))
        rows = session.exec(REMINDER_ORDER.page(query, after, limit)).all()
        page = REMINDER_ORDER.cut(rows, limit, lambda r: (r.send_on, as_utc(r.send_at), r.id))
        rules = _notifications(app).rules
        pending = [row for row in page.items if row.status == "pending"]
        by_role = _people_by_role(session, organisation) if pending else {}
        owner_of = owners(session, ((row.subject_kind, row.subject_id) for row in pending))
        sent = _sent_to(
            session,
            organisation,
            [r.id for r in page.items if r.status in ("sent", "skipped")],  # type: ignore[misc]
        )
        views = []
        for row in page.items:
            defined = rules.get(row.rule)
            step = defined.step(row.step) if defined else None
            if row.status == "pending" and step is not None:
                item = DueItem(
                    row.subject_kind,
                    row.subject_id,
                    row.subject_ref,
                    "",
                    row.due_on,
                    owner_of.get((row.subject_kind, row.subject_id)),
                )
                to = [p.email for p in recipients(session, organisation, step, item, by_role)]
            else:
                to = sent.get(row.id, [])  # type: ignore[arg-type]
            views.append(
                ReminderView(
                    id=row.id,  # type: ignore[arg-type]
                    rule=row.rule,
                    rule_label=defined.label if defined else row.rule,
                    step=row.step,
                    subject_kind=row.subject_kind,
                    subject_ref=row.subject_ref,
                    due_on=row.due_on,
                    send_on=row.send_on,
                    send_at=local(row.send_at, app.settings.zone),
                    status=row.status,
                    recipients=to,
                    when=step.when_text if step is not None else "",
                )
            )
        return Page(views, page.next_after)


def _addressed_to(
    session: Session, app: App, forbund: ForbundRef, person_id: int
) -> ColumnElement[bool]:
    """The reminder rows that go to this person: a step naming one of their roles, or a step
    to `ansvarig` about a thing they are responsible for (as `owners` decides)."""
    from sqlalchemy import and_, func

    from workflow.models import Insats, PolicyDocument

    roles = set(
        session.exec(select(PersonRole.role).where(PersonRole.person_id == person_id)).all()
    )
    by_role: list[ColumnElement[bool]] = []
    responsible: list[ColumnElement[bool]] = []
    for rule in _notifications(app).rules.values():
        for step in rule.steps:
            here = and_(col(Reminder.rule) == rule.id, col(Reminder.step) == step.key)
            if roles & set(step.to):
                by_role.append(here)
            elif RESPONSIBLE in step.to:
                responsible.append(here)
    owner = func.coalesce(Insats.project_owner_id, Insats.submitted_by_id)
    own_cases = select(Insats.id).where(Insats.forbund_id == forbund.id, owner == person_id)
    own_reports = select(Report.id).where(col(Report.insats_id).in_(own_cases))
    own_documents = select(PolicyDocument.id).where(PolicyDocument.owner_id == person_id)
    owned = or_(
        (col(Reminder.subject_kind) == "insats") & col(Reminder.subject_id).in_(own_cases),
        (col(Reminder.subject_kind) == "report") & col(Reminder.subject_id).in_(own_reports),
        (col(Reminder.subject_kind) == "styrdokument")
        & col(Reminder.subject_id).in_(own_documents),
    )
    parts = list(by_role)
    if responsible:
        parts.append(and_(or_(*responsible), owned))
    return or_(*parts) if parts else false()


def replan(
    session: Session,
    app: App,
    forbund: ForbundRef,
    now: datetime,
    only: Subjects | None = None,
) -> PlanResult:
    """For other services: call after changing a date, inside the same transaction, naming
    what changed (`only`; None replans the whole förbund)."""
    if only is not None and not only:
        return PlanResult()
    waiting = _deferred.get()
    if waiting is not None:
        waiting.add(forbund.slug)
        return PlanResult()
    return plan(session, app, forbund, now, only)


# The förbund whose planning waits for the end of `planning_deferred` (None: none waits).
_deferred: ContextVar[set[str] | None] = ContextVar("finsam_planning_deferred", default=None)


@contextmanager
def planning_deferred(app: App) -> Iterator[None]:
    """Changes inside plan nothing; at the end each förbund they changed is planned once, at
    the clock of `app`. For replaying history (the demo drives 2012–2014 through the
    services with the clock set back): the reminders of those days were the business of
    those days' sweeps, and today's plan is what follows from the data as it stands now."""
    if _deferred.get() is not None:  # already inside: the outermost plans
        yield
        return
    waiting: set[str] = set()
    token = _deferred.set(waiting)
    try:
        yield
    finally:
        _deferred.reset(token)
    for slug in sorted(waiting):
        plan_forbund(app, forbund=slug)


def dates_may_change(app: App, from_state: str | None, to_state: str) -> bool:
    """Whether a case moving between these states may change its reminders: the sources of
    due dates about a case look at the states of an avtal, a running insats and its reports
    (tags funding_open and reporting), so a step outside them (an idea, a beredning) cannot."""
    lifecycle = app.lifecycles.insats.lifecycle
    dated = set(lifecycle.tagged("funding_open")) | set(lifecycle.tagged("reporting"))
    return from_state in dated or to_state in dated


def replan_insats(session: Session, app: App, forbund: ForbundRef, insats_id: int) -> None:
    """The reminders of one case and its reports, after the case changed (state or dates)."""
    replan(session, app, forbund, app.clock(), Subjects(insats_ids=frozenset([insats_id])))


def replan_meeting(session: Session, app: App, forbund: ForbundRef, meeting_id: int) -> None:
    """The reminders of one meeting and its protocol, after either changed."""
    replan(session, app, forbund, app.clock(), Subjects(meeting_ids=frozenset([meeting_id])))


def replan_document(session: Session, app: App, forbund: ForbundRef, document_id: int) -> None:
    """The reminders of one styrdokument, after it changed (not the förbund's: a whole plan
    reads every open insats)."""
    replan(session, app, forbund, app.clock(), Subjects(document_ids=frozenset([document_id])))


def plan_forbund(app: App, *, forbund: str | None = None) -> PlanResult:
    """Plan the whole förbund now (what the day's first sweep does): after editing rules.yaml, or
    to see a rule's reminders before the next sweep."""
    now = app.clock()
    with app.db.reading() as session:
        forbund_id = resolve_forbund(session, forbund).id
    assert forbund_id is not None
    _start_whole_plan(app, forbund_id, now, force=True)
    return plan_whole(app, forbund_id, now)


def rules_overview(app: App) -> list[dict[str, Any]]:
    out = []
    for rule in _notifications(app).rules.values():
        source = SOURCES[rule.source]
        out.append(
            {
                "id": rule.id,
                "label": rule.label,
                "source": rule.source,
                "source_label": source.label,
                "source_available": source.available,
                # Mailed at once whatever a person chose (preferences.py).
                "compulsory": rule.compulsory,
                "steps": [
                    {
                        "key": s.key,
                        "when": s.when_text,
                        "to": list(s.to),
                        "to_labels": [recipient_label(who) for who in s.to],
                        "template": s.template,
                    }
                    for s in rule.steps
                ],
            }
        )
    return out
