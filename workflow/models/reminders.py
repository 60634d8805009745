"""Reminders, the e-mail outbox and the register of governing documents (styrdokument).

Due work lives as rows: a `Reminder` is one planned e-mail of one rule step about one dated
thing; the sweep claims it and writes `OutboxMessage` rows in the same transaction; the sender
delivers the outbox. Nothing is kept in the scheduler's memory.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime, json_dict

# Optimistic locking: SQLAlchemy needs the column object itself, not its name.
_policy_version = Column("version", Integer, nullable=False)


class PolicyDocument(SQLModel, table=True):
    """A governing document (förbundsordning, policy, verksamhetsplan ...) and its renewal."""

    __tablename__ = "policy_document"
    __table_args__ = (UniqueConstraint("forbund_id", "title"),)
    __mapper_args__ = {"version_id_col": _policy_version}

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    kind: str = Field(max_length=30)
    title: str = Field(max_length=200)
    dnr: str | None = Field(default=None, max_length=40)
    # The styrdokument lifecycle (states/styrdokument.yaml).
    state: str = Field(max_length=40)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_on: date | None = None
    # None: the document is valid until changed (no renewal reminders).
    renewal_years: int | None = None
    # The last day the document must be renewed by.
    renew_by: date | None = None
    owner_id: int | None = Field(default=None, foreign_key="person.id")
    version: int = Field(default=1, sa_column=_policy_version)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Reminder(SQLModel, table=True):
    """One planned reminder: rule step x dated thing x due date.

    The natural key makes recomputation idempotent: the same due date never yields a second
    row, and a changed date yields a new row while the old one is cancelled.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint(
            "forbund_id",
            "rule",
            "step",
            "subject_kind",
            "subject_id",
            "due_on",
            name="uq_reminder_key",
        ),
        # The sweep asks only for unsent rows that are due; keep that index small.
        Index(
            "ix_reminder_due_pending",
            "forbund_id",
            "send_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_reminder_subject", "subject_kind", "subject_id"),
        # `reminders list` pages by day and moment (migration 0010); led by the day so that
        # the sweep's claim on send_at keeps to ix_reminder_due_pending.
        Index("ix_reminder_list", "forbund_id", "send_on", "send_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id")
    rule: str = Field(max_length=60)
    step: str = Field(max_length=60)
    source: str = Field(max_length=40)
    subject_kind: str = Field(max_length=30)
    subject_id: int
    subject_ref: str = Field(max_length=80)
    due_on: date
    # The working day it goes out, and the moment (UTC) the sweep may claim it.
    send_on: date
    send_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # pending -> sent | cancelled
    status: str = Field(default="pending", max_length=20)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    claimed_by: str | None = Field(default=None, max_length=80)


class ReminderPlan(SQLModel, table=True):
    """When the förbund's reminders were last planned as a whole, and from what.

    A whole plan reads every open insats and owed report (about 6 s of CPU at 100 000
    insatser), so the sweep does one a local day, and at once when what plans changed (the
    rules and templates, the send hour, the calendar: `plan_key`); between, each sweep plans
    the reminders it is about to send, and the services replan what they change."""

    __tablename__ = "reminder_plan"

    forbund_id: int = Field(foreign_key="forbund.id", primary_key=True)
    # The local day (Europe/Stockholm) the last whole plan was made, and from what
    # (planner.plan_key).
    planned_on: date
    plan_key: str = Field(max_length=64)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # None while it is under way, or when its process stopped before the end.
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class OutboxMessage(SQLModel, table=True):
    """One e-mail to one recipient, delivered after commit by the sender."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int | None = Field(default=None, foreign_key="forbund.id", index=True)
    reminder_id: int | None = Field(default=None, foreign_key="reminder.id", index=True)
    # reminder, notice (to the förbundschef about a failure), test
    kind: str = Field(default="reminder", max_length=20)
    # Fixed when the row is written, so every retry is recognisably the same message.
    message_id: str = Field(max_length=200, unique=True)
    to_address: str = Field(max_length=254)
    to_name: str | None = Field(default=None, max_length=200)
    subject: str = Field(max_length=400)
    text_body: str
    html_body: str
    # pending -> sent | failed
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The token of the sender holding the message (scheduler_process.token). The lease lasts
    # as long as that sender lives (workflow/services/reminders/workers.py); lease_until is
    # only what the claim expected, shown to people, never trusted.
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    lease_owner: str | None = Field(default=None, max_length=80)
    last_error: str | None = Field(default=None, max_length=500)
    # Why a failed message failed (outbox.FAILURE_CAUSES): `finsam outbox retry --cause`.
    failure_cause: str | None = Field(default=None, max_length=20)
    # The first temporary (4xx or unknown) answer about this message; it fails only after
    # such answers went on for mail.give_up_days.
    deferred_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    extra: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(json_dict(), nullable=False)
    )
