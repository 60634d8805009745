"""Who may come in through the web: passwords, sessions, the login throttle, password links.

Every secret a browser or an e-mail carries (a session token, a password link) is stored only
as its SHA-256, so a copy of the database lets nobody in. The tables live in the database,
not in a process, so several `finsam serve` processes on one database behave as one site.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime


class PasswordCredential(SQLModel, table=True):
    """A person's local password as an argon2id hash (its parameters are inside the hash)."""

    __tablename__ = "password_credential"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    password_hash: str = Field(max_length=200)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WebSession(SQLModel, table=True):
    """A logged-in browser: ends at logout, after the idle or the absolute timeout, or when
    the person is deactivated."""

    __tablename__ = "web_session"

    # SHA-256 (hex) of the token in the cookie; the token itself is never stored.
    id_hash: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # created_at + the absolute timeout; the idle timeout counts from last_seen_at.
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # How the person logged in: password, link (a password link) or oidc.
    method: str = Field(default="password", max_length=20)


class LoginFailure(SQLModel, table=True):
    """One failed login, counted per account (the e-mail given) and per address."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_account", "account", "at"),
        Index("ix_login_failure_address", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The e-mail as given (lowercased), whether or not such an account exists.
    account: str = Field(max_length=254)
    address: str = Field(max_length=64)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PasswordLink(SQLModel, table=True):
    """A one-time link to set a new password, sent through the outbox."""

    __tablename__ = "password_link"

    token_hash: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
