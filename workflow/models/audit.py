"""The append-only, hash-chained audit trail of every state change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        UniqueConstraint("forbund_id", "seq"),
        # The log's filters on a kind or an actor, newest first, and the kinds it offers
        # (services/cases/audit_trail.py; migration 0028_audit_trail_indexes).
        Index("ix_audit_event_kind_seq", "forbund_id", "subject_kind", "seq"),
        Index("ix_audit_event_actor_seq", "forbund_id", "actor_email", "seq"),
        # A subject's events (a case's history, the diarium's registration dates); it must
        # match more columns than the kind index above, or SQLite takes that one for them.
        Index("ix_audit_event_subject", "subject_id", "subject_kind", "forbund_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id")
    # Position in the förbund's chain, 1, 2, 3, ...
    seq: int
    subject_kind: str = Field(max_length=30)
    subject_id: int
    # The dnr (or other reference) when the event was written.
    subject_ref: str | None = Field(default=None, max_length=60)
    from_state: str | None = Field(default=None, max_length=40)
    to_state: str = Field(max_length=40)
    trigger: str = Field(max_length=60)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_email: str = Field(max_length=254)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    comment: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON(), nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # web, api, cli or scheduler (workflow/channel.py); None before migration 0011 and where
    # no entry point said.
    channel: str | None = Field(default=None, max_length=10)
