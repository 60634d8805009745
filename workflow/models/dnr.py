"""The diarienummer counter, apart from the insats: only registration writes it, and a command
that reads cases does not build its table (workflow/models/__init__.py, start-up)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class DnrSequence(SQLModel, table=True):
    """The last ärende number given per förbund and year."""

    __tablename__ = "dnr_sequence"

    forbund_id: int = Field(foreign_key="forbund.id", primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0
