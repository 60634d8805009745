"""What the diarium holds beyond the cases themselves: the secrecy marking of an entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime


class DiariumSecrecy(SQLModel, table=True):
    """A registered case whose subject is secret (offentlighets- och sekretesslagen 2009:400).

    The entry stays in the public diarium (dnr and date), but its subject is masked there with
    the paragraph that applies ("Sekretess enligt 21 kap. 1 § OSL"). One row per case; lifting
    the secrecy removes it. Both are audit events (services/cases/secrecy.py)."""

    __tablename__ = "diarium_secrecy"

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    insats_id: int = Field(foreign_key="insats.id", unique=True)
    # As people cite it: "21 kap. 1 § OSL".
    paragraph: str = Field(max_length=60)
    marked_by_id: int | None = Field(default=None, foreign_key="person.id")
    marked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
