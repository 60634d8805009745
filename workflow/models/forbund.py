"""The förbund, its parties and its people. Every row belongs to exactly one förbund."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime


class Forbund(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=40)
    name: str = Field(max_length=200)
    orgnr: str | None = Field(default=None, max_length=20)
    dnr_pattern: str = Field(max_length=60)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ForbundRef(Protocol):
    """What the services need of a förbund: which one it is, and its diarienummer pattern.

    Both a Forbund and a ForbundRow are one.
    """

    @property
    def id(self) -> int | None: ...

    @property
    def slug(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def dnr_pattern(self) -> str: ...


@dataclass(frozen=True)
class ForbundRow:
    """A förbund read with SQLAlchemy Core, as every service call resolves it (no ORM load)."""

    id: int
    slug: str
    name: str
    dnr_pattern: str


class Party(SQLModel, table=True):
    """A member: Försäkringskassan, Arbetsförmedlingen, a region or a kommun."""

    __table_args__ = (UniqueConstraint("forbund_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    kind: str = Field(max_length=30)
    name: str = Field(max_length=200)


class Person(SQLModel, table=True):
    """Someone who works in the process (never a participant of an insats)."""

    __table_args__ = (UniqueConstraint("forbund_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    party_id: int | None = Field(default=None, foreign_key="party.id")
    # Set when the person may no longer act (left the förbund); the row stays for the history.
    deactivated_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
