"""The running system itself: sender/scheduler processes and the state of the mail relay.

These rows belong to no förbund: one relay and a few scheduler processes serve them all.
Times marked "database clock" are written by the database (CURRENT_TIMESTAMP and kin), never
by a process, so a process whose own clock jumped cannot make itself look fresh or stale.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime


class SchedulerProcess(SQLModel, table=True):
    """One sender process (a `finsam scheduler`, or one `--once` run) under one token."""

    __tablename__ = "scheduler_process"

    # host:pid:random; what an outbox message it holds carries in lease_owner.
    token: str = Field(primary_key=True, max_length=80)
    host: str = Field(max_length=100)
    pid: int
    # scheduler (long-running) or once (a single round: cron, tests)
    kind: str = Field(default="scheduler", max_length=20)
    # The heartbeat: a counter that only the owner moves (fencing compares it), and when.
    beats: int = 0
    fenced: bool = False
    # Database clock, all of them.
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    beat_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    swept_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    stopped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = Field(default=None, max_length=500)


class RelayState(SQLModel, table=True):
    """The one SMTP relay: up, or down since when and why (row id 1)."""

    __tablename__ = "relay_state"

    id: int = Field(default=1, primary_key=True)
    # up | down
    status: str = Field(default="up", max_length=10)
    # refused, greeting, auth, tls, timeout, service (workflow.services.reminders.relay.CAUSES)
    cause: str | None = Field(default=None, max_length=20)
    detail: str | None = Field(default=None, max_length=500)
    incident_id: int | None = None
    failures: int = 0
    # Application clock: when the relay is tried again while it is down.
    next_probe_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    checked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class RelayIncident(SQLModel, table=True):
    """One outage of the relay, from the first failed connection to the first good one."""

    __tablename__ = "relay_incident"

    id: int | None = Field(default=None, primary_key=True)
    cause: str = Field(max_length=20)
    detail: str | None = Field(default=None, max_length=500)
    failures: int = 1
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_failure_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AuditVerification(SQLModel, table=True):
    """One check of a förbund's audit chain asked for on the web, and how far it has come.

    A background thread recomputes the chain (services/cases/audit_trail.py) and moves
    `checked` after each batch, so the page asking shows progress and then the result. While
    it runs, `owner` names its process and `beats` is its heartbeat: a check whose beats stand
    still for the lease, or whose process is gone, is marked interrupted by whoever sees it."""

    __tablename__ = "audit_verification"

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    requested_by_id: int | None = Field(default=None, foreign_key="person.id")
    # running | ok | broken | error | interrupted
    status: str = Field(default="running", max_length=20)
    # host:pid:random of the process running the check; only it moves `beats`.
    owner: str | None = Field(default=None, max_length=120)
    beats: int = 0
    checked: int = 0
    total: int = 0
    broken_at: int | None = None
    problem: str | None = Field(default=None, max_length=500)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
