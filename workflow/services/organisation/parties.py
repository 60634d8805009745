"""A förbund's parties (members): Försäkringskassan, Arbetsförmedlingen, regions, kommuner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from workflow.models import ForbundRef, Party
from workflow.text_guard import check_one_line
from workflow.vocabulary import PartyKind, parse_choice

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    pass


def add_party(session: Session, forbund: ForbundRef, *, kind: str, name: str) -> Party:
    party = Party(
        forbund_id=forbund.id,  # type: ignore[arg-type]
        kind=parse_choice(PartyKind, kind, "partstyp").value,
        name=check_one_line(name, "partens namn"),
    )
    session.add(party)
    session.flush()
    return party


def list_parties(session: Session, forbund: ForbundRef) -> list[Party]:
    return list(
        session.exec(select(Party).where(Party.forbund_id == forbund.id).order_by(col(Party.id)))
    )
