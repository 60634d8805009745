"""The money and the follow-up of insatser: the förbund's yearly frame, the granted budget
lines, the avtal with its report plan, reports, payments, Uppföljning Finsam and the
follow-up questions after an implemented insats.

Amounts are whole tkr (thousand SEK), as in every budget a förbund adopts. Participant figures
are aggregate counts by gender only: the system never holds data about individuals.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime, json_dict

_frame_version = Column("version", Integer, nullable=False)
_line_version = Column("version", Integer, nullable=False)
_agreement_version = Column("version", Integer, nullable=False)
_report_version = Column("version", Integer, nullable=False)


class BudgetFrame(SQLModel, table=True):
    """The förbund's financial frame for one year (medelstilldelning from the parties)."""

    __tablename__ = "budget_frame"
    __table_args__ = (UniqueConstraint("forbund_id", "year"),)
    __mapper_args__ = {"version_id_col": _frame_version}

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    year: int
    total_tkr: int
    # Surplus carried in from the previous year; None = the previous frame's computed result.
    surplus_in_tkr: int | None = None
    adopted_on: date
    adopted_paragraph: str | None = Field(default=None, max_length=40)
    version: int = Field(default=1, sa_column=_frame_version)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class FrameContribution(SQLModel, table=True):
    """One party's (or the state's) share of a frame, computed from the FINSAM split."""

    __tablename__ = "frame_contribution"

    id: int | None = Field(default=None, primary_key=True)
    frame_id: int = Field(foreign_key="budget_frame.id", index=True)
    # stat (FK/AF together), region or kommun.
    share: str = Field(max_length=20)
    party_id: int | None = Field(default=None, foreign_key="party.id")
    label: str = Field(max_length=200)
    amount_tkr: int
    # Set when a revised frame replaced this split; kept until the dokumenthanteringsplan
    # lets it go (workflow/services/archive/gallring.py).
    superseded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class FrameItem(SQLModel, table=True):
    """A cost line of the frame that is not a granted insats: motiverande insatser, the room
    kept for new insatser, evaluation, administration (tjänsteman, styrelse, revision ...)."""

    __tablename__ = "frame_item"
    __table_args__ = (UniqueConstraint("frame_id", "section", "group_label", "label"),)

    id: int | None = Field(default=None, primary_key=True)
    frame_id: int = Field(foreign_key="budget_frame.id", index=True)
    # insatser | reserv | utvardering | administration
    section: str = Field(max_length=20)
    group_label: str = Field(default="", max_length=100)
    label: str = Field(max_length=200)
    amount_tkr: int
    # individ | struktur for activity lines (the national 80/20 pattern); None for administration.
    inriktning: str | None = Field(default=None, max_length=20)
    position: int = 0


class BudgetLine(SQLModel, table=True):
    """What the board granted one insats for one year, and what came of it."""

    __tablename__ = "budget_line"
    __table_args__ = (
        UniqueConstraint("insats_id", "year"),
        # The sums and counts per year of the budget page and the Uppföljning page
        # (services/funding/budget.py _line_sums, uppfoljning.py _totals): read from the
        # index alone, not from every line of the förbund (0030_funding_read_indexes).
        Index(
            "ix_budget_line_forbund_year",
            "forbund_id",
            "year",
            "insats_id",
            "granted_tkr",
            "reserve_drawn_tkr",
            "utfall_tkr",
            "prognos_tkr",
        ),
    )
    __mapper_args__ = {"version_id_col": _line_version}

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    insats_id: int = Field(foreign_key="insats.id", index=True)
    year: int
    granted_tkr: int
    # The part of the grant taken from the frame's "utrymme för nya insatser".
    reserve_drawn_tkr: int = 0
    utfall_tkr: int | None = None
    prognos_tkr: int | None = None
    decision_paragraph: str | None = Field(default=None, max_length=40)
    decided_on: date
    version: int = Field(default=1, sa_column=_line_version)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Agreement(SQLModel, table=True):
    """The avtal for a granted insats; a later avtal (after an ändring) supersedes it."""

    # The avtal still missing a signature, for the Avtal page (services/funding/agreements.py,
    # which names the status as a literal so that SQLite can use the partial index): a
    # handful at a time, found without walking every open insats by dnr
    # (0029_unsigned_agreement_index).
    __table_args__ = (
        Index(
            "ix_agreement_unsigned",
            "forbund_id",
            "insats_id",
            sqlite_where=text("status = 'utkast'"),
            postgresql_where=text("status = 'utkast'"),
        ),
    )
    __mapper_args__ = {"version_id_col": _agreement_version}

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    insats_id: int = Field(foreign_key="insats.id", index=True)
    decision_paragraph: str = Field(max_length=40)
    start_date: date
    end_date: date
    # tkr per calendar year, e.g. {"2013": 1500, "2014": 750}.
    amounts: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(json_dict(), nullable=False)
    )
    payment_terms: str
    early_termination: str | None = None
    forbund_signed_on: date | None = None
    owner_signed_on: date | None = None
    # utkast | undertecknat | ersatt
    status: str = Field(default="utkast", max_length=20)
    version: int = Field(default=1, sa_column=_agreement_version)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Report(SQLModel, table=True):
    """A report the project owner owes under an avtal (läges, delår, helår, slut)."""

    # The reports still owed by due date, for `reports overdue` (services/funding/reports.py,
    # which names the statuses as literals so that SQLite can use the partial index): a page
    # starts at the first due instead of sorting every report (0025_scale_read_indexes). Partial,
    # as the reminders' due index: on all reports it would draw the participant counts'
    # query (approved reports) off the index on status.
    __table_args__ = (
        Index(
            "ix_report_owed_due_on",
            "forbund_id",
            "due_on",
            sqlite_where=text("status IN ('vantar', 'komplettering')"),
            postgresql_where=text("status IN ('vantar', 'komplettering')"),
        ),
        # The participant counts of the Uppföljning page (services/funding/uppfoljning.py,
        # which names the status as a literal for SQLite): the approved reports of each
        # insats by period end, counts included, read from the index alone. The status is a
        # column as well because SQLite 3.40 does not count the WHERE's column as held by a
        # partial index (0030_funding_read_indexes).
        Index(
            "ix_report_approved",
            "forbund_id",
            "insats_id",
            "period_end",
            "id",
            "participants_women",
            "participants_men",
            "participants_other",
            "status",
            sqlite_where=text("status = 'godkand'"),
            postgresql_where=text("status = 'godkand'"),
        ),
        # The review table (REPORT_ORDER: due date, dnr, number): a page reads the reports by
        # due date, its filters tested in the index, and sorts only the days it reaches by
        # the insats's dnr (0030_funding_read_indexes).
        Index("ix_report_forbund_due", "forbund_id", "due_on", "status", "kind", "insats_id"),
    )
    __mapper_args__ = {"version_id_col": _report_version}

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    insats_id: int = Field(foreign_key="insats.id", index=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    kind: str = Field(max_length=20)
    period_start: date
    period_end: date
    due_on: date = Field(index=True)
    # vantar | inkommen | komplettering | godkand | ersatt
    status: str = Field(default="vantar", max_length=20, index=True)
    submitted_on: date | None = None
    progress: str | None = None
    utfall_tkr: int | None = None
    deviations: str | None = None
    participants_women: int | None = None
    participants_men: int | None = None
    participants_other: int | None = None
    reviewed_on: date | None = None
    review_comment: str | None = None
    # The project owner's draft was last saved then (the values are in the columns above
    # while the report is still owed); and what they wrote back when sent.
    draft_saved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    owner_comment: str | None = None
    # The board took note of it (lägga till handlingarna), for a slutrapport.
    noted_paragraph: str | None = Field(default=None, max_length=40)
    noted_on: date | None = None
    version: int = Field(default=1, sa_column=_report_version)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Payment(SQLModel, table=True):
    """A payment to the insatsägare; held while the previous report awaits approval."""

    # The Utbetalningar page: a förbund's payments newest first, a page at a time
    # (services/funding/payments.py PAYMENT_ORDER, 0027_payment_list_index).
    __table_args__ = (Index("ix_payment_forbund_requested", "forbund_id", "requested_on", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    insats_id: int = Field(foreign_key="insats.id", index=True)
    agreement_id: int = Field(foreign_key="agreement.id", index=True)
    year: int
    amount_tkr: int
    requested_on: date
    # vilande (held) | utbetald
    status: str = Field(max_length=20)
    # The report whose approval it waits for.
    waits_for_report_id: int | None = Field(default=None, foreign_key="report.id")
    paid_on: date | None = None


class UppfoljningRecord(SQLModel, table=True):
    """The insats as registered in Uppföljning Finsam (FK); fields fixed at creation there."""

    __tablename__ = "uppfoljning_record"

    insats_id: int = Field(foreign_key="insats.id", primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    external_ref: str | None = Field(default=None, max_length=60)
    last_registered_on: date | None = None
    preciserad_inriktning: str | None = Field(default=None, max_length=200)
    uppfoljningsmetod: str | None = Field(default=None, max_length=200)
    esf: bool = False
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class FollowUpQuestion(SQLModel, table=True):
    """A question to ask after an implemented insats (is it still in ordinary operation?)."""

    __tablename__ = "follow_up_question"
    __table_args__ = (UniqueConstraint("insats_id", "months_after"),)

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    insats_id: int = Field(foreign_key="insats.id", index=True)
    months_after: int
    due_on: date = Field(index=True)
    question: str
    answered_on: date | None = None
    answer: str | None = None
