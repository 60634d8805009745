"""Organs, their meetings, the beredning record, the agenda and the protocol with its §§.

The board decides; the beredningsgrupp only recommends (domain.md §0). A recommendation is its
own record beside the case's state; a decision lives on a § of a protocol and is final only
when the protocol is justerat.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, UniqueConstraint
from sqlalchemy.ext.mutable import MutableList
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime, json_dict


def json_list() -> Any:
    """A JSON array column whose in-place changes are tracked."""
    return MutableList.as_mutable(JSON())


class OrganKind(StrEnum):
    STYRELSE = "styrelse"
    PRESIDIUM = "presidium"
    BEREDNINGSGRUPP = "beredningsgrupp"
    LLG = "llg"
    LSG = "lsg"
    UTVECKLINGSGRUPP = "utvecklingsgrupp"
    STYRGRUPP = "styrgrupp"


ORGAN_NAMES = {
    OrganKind.STYRELSE: "Styrelsen",
    OrganKind.PRESIDIUM: "Presidiet",
    OrganKind.BEREDNINGSGRUPP: "Beredningsgruppen",
    OrganKind.LLG: "Lokal ledningsgrupp",
    OrganKind.LSG: "Lokal samverkansgrupp",
    OrganKind.UTVECKLINGSGRUPP: "Utvecklingsgruppen",
    OrganKind.STYRGRUPP: "Styrgruppen",
}


class MemberRole(StrEnum):
    ORDFORANDE = "ordforande"
    VICE_ORDFORANDE = "vice_ordforande"
    LEDAMOT = "ledamot"
    ERSATTARE = "ersattare"
    SEKRETERARE = "sekreterare"
    ADJUNGERAD = "adjungerad"


class Presence(StrEnum):
    """How someone took part in a meeting, as the protocol's attendance lists them."""

    BESLUTANDE = "beslutande"
    TJANSTGORANDE_ERSATTARE = "tjanstgorande_ersattare"
    ERSATTARE = "ersattare"
    OVRIG = "ovrig"
    FRANVARANDE = "franvarande"


class DecisionKind(StrEnum):
    BIFALL = "bifall"
    DELVIS_BIFALL = "delvis_bifall"
    AVSLAG = "avslag"
    ATERREMISS = "aterremiss"
    BORDLAGGNING = "bordlaggning"
    LAGGA_TILL_HANDLINGARNA = "lagga_till_handlingarna"
    # A procedural resolution (agenda approved, justerare chosen): its att-satser say it all.
    BESLUT = "beslut"
    # The item left the agenda undecided: its case had moved on (withdrawn, with the reason).
    UTGAR = "utgar"


DECISION_LABELS = {
    DecisionKind.BIFALL: "Bifall",
    DecisionKind.DELVIS_BIFALL: "Delvis bifall",
    DecisionKind.AVSLAG: "Avslag",
    DecisionKind.ATERREMISS: "Återremiss",
    DecisionKind.BORDLAGGNING: "Bordläggning",
    DecisionKind.LAGGA_TILL_HANDLINGARNA: "Läggs till handlingarna",
    DecisionKind.BESLUT: "Beslut",
    DecisionKind.UTGAR: "Utgår",
}


class ProtocolStatus(StrEnum):
    UTKAST = "utkast"
    FOR_JUSTERING = "for_justering"
    JUSTERAT = "justerat"
    ANSLAGET = "anslaget"


PROTOCOL_LABELS = {
    ProtocolStatus.UTKAST: "Utkast",
    ProtocolStatus.FOR_JUSTERING: "För justering",
    ProtocolStatus.JUSTERAT: "Justerat",
    ProtocolStatus.ANSLAGET: "Anslaget",
}


class SignerRole(StrEnum):
    ORDFORANDE = "ordforande"
    JUSTERARE = "justerare"


SIGNER_LABELS = {SignerRole.ORDFORANDE: "ordförande", SignerRole.JUSTERARE: "justerare"}


class Organ(SQLModel, table=True):
    """A body that meets: the styrelse decides, the others prepare or recommend."""

    __table_args__ = (UniqueConstraint("forbund_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    kind: str = Field(max_length=30)
    name: str = Field(max_length=200)


class OrganMember(SQLModel, table=True):
    """A person's uppdrag in an organ: their role, the party they represent, their mandate."""

    __tablename__ = "organ_member"

    organ_id: int = Field(foreign_key="organ.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    role: str = Field(max_length=30)
    # The party the member represents there (None: the person's own party, if any).
    party_id: int | None = Field(default=None, foreign_key="party.id")
    # Ersättare are called in this order (1, 2, ...); None for other roles.
    position: int | None = None
    mandate_from: date | None = None
    mandate_to: date | None = None


_meeting_version = Column("version", Integer, nullable=False)


class Meeting(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("organ_id", "starts_at"),
        Index("ix_meeting_forbund_number", "forbund_id", "number", unique=True),
    )
    __mapper_args__ = {"version_id_col": _meeting_version}

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    # The förbund's own count of its meetings: how people name one ("möte 9").
    number: int | None = None
    organ_id: int = Field(foreign_key="organ.id", index=True)
    # UTC; reminders derive the kallelse's due time from it.
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    place: str = Field(max_length=200)
    kind: str = Field(default="ordinarie", max_length=20)
    # Set by whoever sends the kallelse (the reminders); None until then.
    kallelse_sent_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    version: int = Field(default=1, sa_column=_meeting_version)


class Attendance(SQLModel, table=True):
    """Who was there and in what capacity; others present need not be people of the förbund."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    name: str = Field(max_length=200)
    presence: str = Field(max_length=30)
    # "ordförande", "Försäkringskassan", "förbundschef" ...
    capacity: str | None = Field(default=None, max_length=200)
    position: int = 0


class Recommendation(SQLModel, table=True):
    """The beredningsgrupp's outcome for one case: never the decision itself."""

    __tablename__ = "recommendation"

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    insats_id: int = Field(foreign_key="insats.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    outcome: str = Field(max_length=30)
    motivation: str
    conditions: str | None = None
    # What the applicant must supply (komplettera).
    missing_items: list[str] = Field(
        default_factory=list, sa_column=Column(json_list(), nullable=False)
    )
    unanimous: bool = True
    dissent: str | None = None
    recorded_by_id: int = Field(foreign_key="person.id")
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class BeredningNote(SQLModel, table=True):
    """A member's note on a case under beredning."""

    __tablename__ = "beredning_note"

    id: int | None = Field(default=None, primary_key=True)
    insats_id: int = Field(foreign_key="insats.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    author_id: int = Field(foreign_key="person.id")
    text: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AgendaItem(SQLModel, table=True):
    """One item of a meeting's dagordning: a standard item or a case for decision."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "section", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    # 0 opening items, 1 matters for decision, 2 information and reports, 3 closing items.
    section: int = 1
    position: int = 0
    # A standard item's key (oppnande, dagordning, ...) or "arende".
    kind: str = Field(max_length=30)
    title: str = Field(max_length=300)
    insats_id: int | None = Field(default=None, foreign_key="insats.id", index=True)
    # Förslag till beslut: "Styrelsen beslutar att ..." from the förbundschef.
    proposal: str | None = None
    # The item at an earlier meeting whose § bordlade it.
    deferred_from_id: int | None = Field(default=None, foreign_key="agenda_item.id")
    # A closing item's proposed outcome for its insats: implementerad, ej_implementerad, avbruten.
    outcome: str | None = Field(default=None, max_length=30)


_protocol_version = Column("version", Integer, nullable=False)


class Protocol(SQLModel, table=True):
    __mapper_args__ = {"version_id_col": _protocol_version}

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    meeting_id: int = Field(foreign_key="meeting.id", unique=True)
    status: str = Field(max_length=20)
    secretary_id: int = Field(foreign_key="person.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_for_justering_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    justerat_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    posted_on: date | None = None
    taken_down_on: date | None = None
    storage_place: str | None = Field(default=None, max_length=200)
    version: int = Field(default=1, sa_column=_protocol_version)


class ProtocolSigner(SQLModel, table=True):
    """Ordförande and justerare: each approval is recorded with its time."""

    __tablename__ = "protocol_signer"

    protocol_id: int = Field(foreign_key="protocol.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    role: str = Field(max_length=20)
    signed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


_paragraph_version = Column("version", Integer, nullable=False)


class Paragraph(SQLModel, table=True):
    """A § of a protocol: numbered through the calendar year per organ, with its decision."""

    __table_args__ = (UniqueConstraint("organ_id", "year", "number"),)
    __mapper_args__ = {"version_id_col": _paragraph_version}

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: int = Field(foreign_key="protocol.id", index=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    agenda_item_id: int = Field(foreign_key="agenda_item.id", unique=True)
    organ_id: int = Field(foreign_key="organ.id")
    year: int
    number: int
    title: str = Field(max_length=300)
    insats_id: int | None = Field(default=None, foreign_key="insats.id", index=True)
    decision: str | None = Field(default=None, max_length=30)
    att_satser: list[str] = Field(
        default_factory=list, sa_column=Column(json_list(), nullable=False)
    )
    # Granted tkr per year, e.g. {"2013": 1500, "2014": 750}.
    granted: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(json_dict(), nullable=False)
    )
    conditions: str | None = None
    # [{"name": ..., "person_id": ..., "text": ...}]
    reservations: list[Any] = Field(
        default_factory=list, sa_column=Column(json_list(), nullable=False)
    )
    # [{"name": ..., "person_id": ...}] — they took no part in the §.
    jav: list[Any] = Field(default_factory=list, sa_column=Column(json_list(), nullable=False))
    # What must be done (återremiss) or other words of the secretary.
    motivation: str | None = None
    decided_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    # What a closing § decided for its insats: implementerad, ej_implementerad or avbruten.
    outcome: str | None = Field(default=None, max_length=30)
    version: int = Field(default=1, sa_column=_paragraph_version)


class ParagraphSequence(SQLModel, table=True):
    """The §§ an organ used in a calendar year before the förbund used this system: the year's
    numbering continues after `last` (services/board/paragraphs.py)."""

    __tablename__ = "paragraph_sequence"

    organ_id: int = Field(foreign_key="organ.id", primary_key=True)
    year: int = Field(primary_key=True)
    last: int = 0
