"""What each person chooses for themselves: their calendar feed and how reminders reach them.

A `CalendarFeed` is the secret address of a person's ICS feed (services/calendar/feed.py),
stored as its SHA-256 only; renewing it revokes the old row and makes a new one. A
`NotificationPreference` says, per reminder rule, whether the person wants the e-mail at once,
in a daily or weekly digest, or only on the start page. A `DigestItem` is one reminder to one
person that was not mailed on its own: it waits for the digest, or is shown on the start page.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime


class CalendarFeed(SQLModel, table=True):
    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    # SHA-256 (hex) of the secret in the address; the lookup of every feed request.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # The secret's first characters, so the owner can tell an old address from the new one.
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class NotificationPreference(SQLModel, table=True):
    """One person's choice for one rule of notifications/rules.yaml (absent: at once)."""

    __tablename__ = "notification_preference"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    rule: str = Field(primary_key=True, max_length=60)
    # immediate | daily | weekly | start_page
    delivery: str = Field(max_length=20)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DigestItem(SQLModel, table=True):
    """One reminder to one person held back from its own e-mail (their preference)."""

    __tablename__ = "digest_item"
    __table_args__ = (
        # The sweep asks for the items whose digest is due; keep that index small.
        Index(
            "ix_digest_item_due",
            "forbund_id",
            "deliver_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_digest_item_person", "person_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id")
    person_id: int = Field(foreign_key="person.id")
    reminder_id: int = Field(foreign_key="reminder.id", index=True)
    rule: str = Field(max_length=60)
    # daily | weekly | start_page
    delivery: str = Field(max_length=20)
    subject_ref: str = Field(max_length=80)
    due_on: date
    # The reminder as it would have been mailed to this person.
    subject: str = Field(max_length=400)
    text_body: str = Field(sa_column=Column(Text(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # When its digest goes out (None: start page only, never mailed).
    deliver_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # pending -> sent (in a digest) | shown (start page only)
    status: str = Field(default="pending", max_length=20)
    outbox_message_id: int | None = Field(default=None, foreign_key="outbox_message.id")
