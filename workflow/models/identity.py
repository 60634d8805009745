"""Identities at an OpenID provider linked to a person: who an outside login is.

An identity is the provider's issuer and the subject (or HSA-id) it gives the person; never a
personal identity number (domain.md §4). Linked with `finsam people identity`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime


class PersonIdentity(SQLModel, table=True):
    """One provider identity of a person; within a förbund it belongs to one person only."""

    __tablename__ = "person_identity"
    __table_args__ = (UniqueConstraint("forbund_id", "issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
