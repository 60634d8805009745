"""Förbund, their parties and their people. Several förbund share a database, fully apart."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from workflow.errors import BadInput, NotFound
from workflow.models import Forbund, Party, Person, PersonRole
from workflow.text_guard import check_one_line
from workflow.vocabulary import PartyKind, Role, parse_choice

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App


def check_dnr_pattern(pattern: str) -> str:
    """A pattern may use {year} and {seq} (with format specs such as {seq:03d}), and needs {seq}."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
        unknown = fields - {"year", "seq"}
        if unknown:
            raise BadInput(
                f"diarienummermönstret {pattern!r} har okända fält {sorted(unknown)}; "
                "använd {year} och {seq}"
            )
        if "seq" not in fields:
            raise BadInput(f"diarienummermönstret {pattern!r} saknar {{seq}}")
        pattern.format(year=2000, seq=1)
    except (ValueError, IndexError) as exc:
        raise BadInput(f"ogiltigt diarienummermönster {pattern!r}: {exc}") from None
    return pattern


def create_forbund(
    session: Session,
    *,
    slug: str,
    name: str,
    dnr_pattern: str,
    now: datetime,
    orgnr: str | None = None,
) -> Forbund:
    if session.exec(select(Forbund).where(Forbund.slug == slug)).first() is not None:
        raise BadInput(f"förbundet {slug!r} finns redan")
    forbund = Forbund(
        slug=check_one_line(slug, "förbundets kortnamn", 40),
        name=check_one_line(name, "förbundets namn"),
        orgnr=orgnr,
        dnr_pattern=check_dnr_pattern(dnr_pattern),
        created_at=now,
    )
    session.add(forbund)
    session.flush()
    return forbund


def resolve_forbund(session: Session, slug: str | None) -> Forbund:
    """The förbund named, or the only one there is."""
    if slug:
        forbund = session.exec(select(Forbund).where(Forbund.slug == slug)).first()
        if forbund is None:
            known = ", ".join(f.slug for f in session.exec(select(Forbund))) or "inga"
            raise NotFound(f"inget förbund {slug!r}; kända förbund: {known}")
        return forbund
    all_forbund = list(session.exec(select(Forbund).order_by(col(Forbund.id)).limit(2)))
    if not all_forbund:
        raise NotFound("databasen har inget förbund; kör 'finsam demo' för demodata")
    if len(all_forbund) > 1:
        known = ", ".join(f.slug for f in session.exec(select(Forbund)))
        raise BadInput(f"flera förbund finns ({known}); välj ett med --forbund")
    return all_forbund[0]


def add_party(session: Session, forbund: Forbund, *, kind: str, name: str) -> Party:
    party = Party(
        forbund_id=forbund.id,  # type: ignore[arg-type]
        kind=parse_choice(PartyKind, kind, "partstyp").value,
        name=check_one_line(name, "partens namn"),
    )
    session.add(party)
    session.flush()
    return party


def add_person(
    session: Session,
    forbund: Forbund,
    *,
    name: str,
    email: str,
    roles: list[str],
    party: Party | None = None,
) -> Person:
    email = email.strip().lower()
    if "@" not in email or any(c in email for c in " \r\n"):
        raise BadInput(f"{email!r} är ingen e-postadress")
    person = Person(
        forbund_id=forbund.id,  # type: ignore[arg-type]
        name=check_one_line(name, "namnet"),
        email=email,
        party_id=party.id if party else None,
    )
    session.add(person)
    session.flush()
    for role in roles:
        session.add(PersonRole(person_id=person.id, role=parse_choice(Role, role, "roll").value))  # type: ignore[arg-type]
    session.flush()
    return person


@dataclass(frozen=True)
class Actor:
    person: Person
    roles: frozenset[str]

    @property
    def email(self) -> str:
        return self.person.email


def find_actor(session: Session, forbund: Forbund, email: str) -> Actor:
    # One round trip for the person and their roles: this runs on every state change.
    rows = session.exec(
        select(Person, PersonRole.role)
        .outerjoin(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(Person.forbund_id == forbund.id, Person.email == email.strip().lower())
    ).all()
    if not rows:
        raise NotFound(
            f"ingen person med e-post {email!r} i förbundet {forbund.slug}; se 'finsam people list'"
        )
    return Actor(rows[0][0], frozenset(role for _, role in rows if role is not None))


def list_people(session: Session, forbund: Forbund) -> list[Actor]:
    people = session.exec(
        select(Person).where(Person.forbund_id == forbund.id).order_by(col(Person.name))
    ).all()
    roles: dict[int, set[str]] = {}
    for person_id, role in session.exec(
        select(PersonRole.person_id, PersonRole.role)
        .join(Person)
        .where(Person.forbund_id == forbund.id)
    ):
        roles.setdefault(person_id, set()).add(role)
    return [Actor(p, frozenset(roles.get(p.id, set()))) for p in people]  # type: ignore[arg-type]


def list_parties(session: Session, forbund: Forbund) -> list[Party]:
    return list(
        session.exec(select(Party).where(Party.forbund_id == forbund.id).order_by(col(Party.id)))
    )


def people(app: App, forbund: str | None = None) -> list[Actor]:
    """The förbund's people with their roles, for listing."""
    with app.db.reading() as session:
        return list_people(session, resolve_forbund(session, forbund))
