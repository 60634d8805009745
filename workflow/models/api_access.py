"""The JSON API's own rows: personal API tokens and the Idempotency-Key answers.

Both live in the database, not in a process, so several `finsam serve` processes on one
database behave as one API: a token made through one works on every other, and a repeated
request is answered the same whichever process it reaches.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime


class ApiToken(SQLModel, table=True):
    """A personal API token: its owner, a name they chose, and the SHA-256 of the secret
    (shown once, at creation; never stored)."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=100)
    # SHA-256 (hex) of the whole token; the lookup of every API request.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # The token's first characters, so its owner can tell their tokens apart in a list.
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class IdempotentRequest(SQLModel, table=True):
    """One Idempotency-Key of one person: claimed by the first request (state `pending`),
    then holding that request's answer (`done`) for repeats until it expires."""

    __tablename__ = "api_idempotency"
    __table_args__ = (Index("ix_api_idempotency_expires_at", "expires_at"),)

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=200)
    # SHA-256 of the method, the path and the body: the same key with another request is
    # refused, not answered with the first one's result.
    fingerprint: str = Field(max_length=64)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    state: str = Field(max_length=10)
    status_code: int | None = Field(default=None)
    body: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    # The answer's headers a repeat must carry too (ETag, Location), as JSON.
    headers: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
