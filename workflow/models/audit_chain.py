"""The head of each förbund's audit chain, apart from the events: appending and verifying use
it, reading a case's history does not (workflow/models/__init__.py, start-up)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class AuditChain(SQLModel, table=True):
    """Head of each förbund's chain; locking this row serialises appends per förbund.

    The database moves it with every inserted event (trigger, migration 0005).
    """

    __tablename__ = "audit_chain"

    forbund_id: int = Field(foreign_key="forbund.id", primary_key=True)
    seq: int = 0
    head_hash: str = Field(default="0" * 64, max_length=64)
