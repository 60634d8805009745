"""The roles a person acts in, apart from the person: a command that only shows names and
e-mail addresses does not build this table (workflow/models/__init__.py, start-up)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class PersonRole(SQLModel, table=True):
    __tablename__ = "person_role"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    role: str = Field(primary_key=True, max_length=40)
