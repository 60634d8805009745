"""The insats: the case the lifecycle drives."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime, json_dict

# Optimistic locking: SQLAlchemy needs the column object itself, not its name.
_version_column = Column("version", Integer, nullable=False)


def _created_at(context: Any) -> Any:
    """A new case entered its first state when it was created (an insert that names no
    state_since: a test's or a benchmark's own rows)."""
    return context.get_current_parameters()["created_at"]


# What a list of cases may filter on besides the förbund and the text (CaseFilter), in the
# list indexes after the dnr. The text search (dnr and title, anywhere in them) is not: a
# substring is not a range of any index.
LIST_FILTER_COLUMNS = (
    "state",
    "inriktning",
    "start_date",
    "end_date",
    "owner_party_id",
    "project_owner_id",
    "submitted_by_id",
)


class Insats(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("forbund_id", "dnr"),
        Index("ix_insats_forbund_number", "forbund_id", "number", unique=True),
        # The start pages ("Att göra", services/cases/todo.py): cases of a förbund in the states
        # where a person has a step, and a person's own insatser and ideas (0014_start_pages).
        Index("ix_insats_forbund_state", "forbund_id", "state", "id"),
        # "Att göra" lists each state's cases by how long they have waited in it, longest
        # first, reading only the rows it shows (0023_state_since).
        Index("ix_insats_forbund_state_since", "forbund_id", "state", "state_since", "id"),
        # The case list (services/cases/views.py) pages by dnr, bytewise on both databases
        # (on PostgreSQL `COLLATE "C"`: the ops slot is where an index column's collation
        # goes). Every column a list filters on follows the dnr, so that a filter is checked in
        # the index and only the rows a page shows are read from the table; the second index
        # is led by the state, so that a state's cases are a range of it (0025_webp95).
        Index(
            "ix_insats_list_dnr",
            "forbund_id",
            "dnr",
            "id",
            *LIST_FILTER_COLUMNS,
            postgresql_ops={"dnr": 'COLLATE "C"'},
        ),
        Index(
            "ix_insats_list_state",
            "forbund_id",
            "state",
            "dnr",
            "id",
            *(c for c in LIST_FILTER_COLUMNS if c != "state"),
            postgresql_ops={"dnr": 'COLLATE "C"'},
        ),
        # A project owner's insatser in dnr order, with their state (the start page's
        # "Dina insatser" and their reports; 0032_owner_insatser_index): led by the person,
        # so that what the page reads is theirs, not the förbund's.
        Index(
            "ix_insats_owner_dnr",
            "project_owner_id",
            "forbund_id",
            "dnr",
            "id",
            "state",
            postgresql_ops={"dnr": 'COLLATE "C"'},
        ),
        Index("ix_insats_submitted_by", "submitted_by_id"),
    )
    __mapper_args__ = {"version_id_col": _version_column}

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    # The förbund's own count of its insatser (an idea is ide-<number>); given at submission.
    number: int | None = None
    # Given at registration (idé -> inkommen); an idea has none yet.
    dnr: str | None = Field(default=None, max_length=40)
    title: str = Field(max_length=200)
    inriktning: str = Field(default="individ", max_length=20)
    malgrupp: str | None = None
    syfte: str | None = None
    mal: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    owner_party_id: int | None = Field(default=None, foreign_key="party.id")
    project_owner_id: int | None = Field(default=None, foreign_key="person.id")
    submitted_by_id: int | None = Field(default=None, foreign_key="person.id")
    # Requested budget in tkr per calendar year, e.g. {"2013": 1500, "2014": 750}.
    budget_requested: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(json_dict(), nullable=False)
    )
    followup_plan: str | None = None
    # The beredningsgrupp's recommendation: shown beside the state, never the decision.
    recommendation: str | None = Field(default=None, max_length=30)
    recommendation_motivation: str | None = None
    decision_paragraph: str | None = Field(default=None, max_length=40)
    agreement_signed_on: date | None = None
    final_report_on: date | None = None
    state: str = Field(max_length=40, index=True)
    # When the case entered its present state: set by the one place that changes the state
    # (services/cases/fire.py), the creation time for a new case.
    state_since: datetime = Field(
        sa_column=Column(UTCDateTime(), nullable=False, default=_created_at)
    )
    version: int = Field(default=1, sa_column=_version_column)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CaseRow(SimpleNamespace):
    """An insats read with SQLAlchemy Core: Insats's attributes, without the ORM's tracking.

    A state change reads and writes its case this way (services/cases/fire.py): the ORM's unit of
    work would cost several times the SQL itself on the system's busiest path.
    """


# What the fire path and the case fields work on: a row from either way of reading.
Case = Insats | CaseRow


class InsatsParty(SQLModel, table=True):
    """A party taking part in an insats (at least two distinct, kommuner counted as one)."""

    __tablename__ = "insats_party"

    insats_id: int = Field(foreign_key="insats.id", primary_key=True)
    party_id: int = Field(foreign_key="party.id", primary_key=True)
