"""A case's rows: how people name it, finding it, reading it with its parties, writing its parties.

The fire path reads with prebuilt SQLAlchemy Core statements (see fire.py for why).
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, insert
from sqlmodel import Session, select

from workflow.case_fields import PartyRef
from workflow.errors import NotFound
from workflow.models import (
    Case,
    CaseRow,
    ForbundRef,
    Insats,
    InsatsParty,
    Party,
)

SUBJECT = "insats"


CREATE_TRIGGER = "skapa"


def case_ref(case: Case) -> str:
    """How people name a case: its diarienummer, or ide-N (the förbund's own number) before
    registration."""
    return case.dnr or f"ide-{case.number or case.id}"


INSATS_TABLE = Insats.__table__  # type: ignore[attr-defined]


_INSATS_PARTY = InsatsParty.__table__  # type: ignore[attr-defined]


_PARTY = Party.__table__  # type: ignore[attr-defined]


CASE_COLUMNS: tuple[str, ...] = tuple(column.key for column in INSATS_TABLE.columns)


# The case with its parties: one row per party (one with empty party columns if none).
_CASE_AND_PARTIES = (
    select(
        INSATS_TABLE,
        _PARTY.c.id.label("party_id"),
        _PARTY.c.kind.label("party_kind"),
        _PARTY.c.name.label("party_name"),
    )
    .select_from(
        INSATS_TABLE.outerjoin(
            _INSATS_PARTY, _INSATS_PARTY.c.insats_id == INSATS_TABLE.c.id
        ).outerjoin(_PARTY, _PARTY.c.id == _INSATS_PARTY.c.party_id)
    )
    .order_by(_PARTY.c.id)
)


_CASE_BY_DNR = _CASE_AND_PARTIES.where(
    INSATS_TABLE.c.forbund_id == bindparam("forbund_id"), INSATS_TABLE.c.dnr == bindparam("dnr")
)


_CASE_BY_NUMBER = _CASE_AND_PARTIES.where(
    INSATS_TABLE.c.forbund_id == bindparam("forbund_id"),
    INSATS_TABLE.c.number == bindparam("number"),
)


# Before numbers were per förbund an idea was ide-<row id>: such a reference still finds its
# case when no case of the förbund has that number (migration 0007).
_CASE_BY_OLD_NUMBER = _CASE_AND_PARTIES.where(
    INSATS_TABLE.c.forbund_id == bindparam("forbund_id"),
    INSATS_TABLE.c.id == bindparam("id"),
)


_PARTIES_OF_CASE = (
    select(_PARTY.c.id, _PARTY.c.kind, _PARTY.c.name)
    .select_from(_PARTY.join(_INSATS_PARTY, _INSATS_PARTY.c.party_id == _PARTY.c.id))
    .where(_INSATS_PARTY.c.insats_id == bindparam("insats_id"))
    .order_by(_PARTY.c.id)
)


_DROP_PARTIES = delete(_INSATS_PARTY).where(_INSATS_PARTY.c.insats_id == bindparam("b_insats_id"))


_ADD_PARTY = insert(_INSATS_PARTY)


def _idea_number(ref: str) -> int | None:
    """The id in an idea's name (ide-12, idé-12 or 12), for a case without a diarienummer."""
    number = ref.lower().removeprefix("idé-").removeprefix("ide-")
    return int(number) if number.isdigit() else None


def no_case(forbund: ForbundRef, ref: str) -> NotFound:
    """A case that is not there, or not there for this person: the words are the same."""
    return NotFound(f"inget ärende {ref!r} i förbundet {forbund.slug}; se 'finsam cases list'")


def find_case(session: Session, forbund: ForbundRef, ref: str) -> Insats:
    """The case as an ORM object, for services that change more than the case."""
    ref = ref.strip()
    query = select(Insats).where(Insats.forbund_id == forbund.id)
    case = session.exec(query.where(Insats.dnr == ref)).first()
    number = _idea_number(ref)
    if case is None and number is not None:
        case = session.exec(query.where(Insats.number == number)).first()
        if case is None:
            case = session.exec(query.where(Insats.id == number)).first()
    if case is None:
        raise no_case(forbund, ref)
    return case


def read_case(session: Session, forbund: ForbundRef, ref: str) -> tuple[CaseRow, list[PartyRef]]:
    """The case as a plain row, with its parties, for a change of the case alone (`fire`)."""
    ref = ref.strip()
    connection = session.connection()
    rows = connection.execute(_CASE_BY_DNR, {"forbund_id": forbund.id, "dnr": ref}).all()
    number = _idea_number(ref)
    if not rows and number is not None:
        rows = connection.execute(
            _CASE_BY_NUMBER, {"forbund_id": forbund.id, "number": number}
        ).all()
        if not rows:
            rows = connection.execute(
                _CASE_BY_OLD_NUMBER, {"forbund_id": forbund.id, "id": number}
            ).all()
    if not rows:
        raise no_case(forbund, ref)
    columns = rows[0]._mapping
    case = CaseRow(**{name: columns[name] for name in CASE_COLUMNS})
    parties = [
        PartyRef(row.party_id, row.party_kind, row.party_name)
        for row in rows
        if row.party_id is not None
    ]
    return case, parties


def parties_of(session: Session, case_id: int | None) -> list[PartyRef]:
    if case_id is None:
        return []
    rows = session.connection().execute(_PARTIES_OF_CASE, {"insats_id": case_id})
    return [PartyRef(row.id, row.kind, row.name) for row in rows]


def save_parties(session: Session, case: Case, parties: list[PartyRef]) -> None:
    connection = session.connection()
    connection.execute(_DROP_PARTIES, {"b_insats_id": case.id})
    if parties:
        connection.execute(
            _ADD_PARTY, [{"insats_id": case.id, "party_id": party.id} for party in parties]
        )
