"""Förbund, their parties and their people. Several förbund share a database, fully apart."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from workflow.errors import BadInput, NotFound
from workflow.models import Forbund, ForbundRef, ForbundRow, Party, Person, PersonRole
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


_FORBUND = Forbund.__table__  # type: ignore[attr-defined]
_FORBUND_COLUMNS = (_FORBUND.c.id, _FORBUND.c.slug, _FORBUND.c.name, _FORBUND.c.dnr_pattern)
# Every service call starts here, so these are prebuilt Core queries and no ORM load.
_FORBUND_BY_SLUG = select(*_FORBUND_COLUMNS).where(_FORBUND.c.slug == bindparam("slug"))
_FIRST_TWO_FORBUND = select(*_FORBUND_COLUMNS).order_by(_FORBUND.c.id).limit(2)
_SLUGS = select(_FORBUND.c.slug).order_by(_FORBUND.c.slug)


def resolve_forbund(session: Session, slug: str | None) -> ForbundRow:
    """The förbund named, or the only one there is."""
    connection = session.connection()
    if slug:
        row = connection.execute(_FORBUND_BY_SLUG, {"slug": slug}).first()
        if row is None:
            known = ", ".join(connection.execute(_SLUGS).scalars()) or "inga"
            raise NotFound(f"inget förbund {slug!r}; kända förbund: {known}")
        return ForbundRow(*row)
    rows = connection.execute(_FIRST_TWO_FORBUND).all()
    if not rows:
        raise NotFound("databasen har inget förbund; kör 'finsam demo' för demodata")
    if len(rows) > 1:
        known = ", ".join(connection.execute(_SLUGS).scalars())
        raise BadInput(f"flera förbund finns ({known}); välj ett med --forbund")
    return ForbundRow(*rows[0])


def add_party(session: Session, forbund: ForbundRef, *, kind: str, name: str) -> Party:
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
    forbund: ForbundRef,
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
    """A person of a förbund as they act: who they are and the roles they hold."""

    id: int
    name: str
    email: str
    roles: frozenset[str]


_PERSON = Person.__table__  # type: ignore[attr-defined]
_PERSON_ROLE = PersonRole.__table__  # type: ignore[attr-defined]
# Every state change starts here, so it is one prebuilt Core query: the person and their roles.
_ACTOR = (
    select(_PERSON.c.id, _PERSON.c.name, _PERSON.c.email, _PERSON_ROLE.c.role)
    .select_from(_PERSON.outerjoin(_PERSON_ROLE, _PERSON_ROLE.c.person_id == _PERSON.c.id))
    .where(_PERSON.c.forbund_id == bindparam("forbund_id"), _PERSON.c.email == bindparam("email"))
)


def find_actor(session: Session, forbund: ForbundRef, email: str) -> Actor:
    rows = (
        session.connection()
        .execute(_ACTOR, {"forbund_id": forbund.id, "email": email.strip().lower()})
        .all()
    )
    if not rows:
        raise NotFound(
            f"ingen person med e-post {email!r} i förbundet {forbund.slug}; se 'finsam people list'"
        )
    first = rows[0]
    roles = frozenset(row.role for row in rows if row.role is not None)
    return Actor(first.id, first.name, first.email, roles)


def list_people(session: Session, forbund: ForbundRef) -> list[Actor]:
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
    return [
        Actor(p.id, p.name, p.email, frozenset(roles.get(p.id, set())))  # type: ignore[arg-type]
        for p in people
    ]


def list_parties(session: Session, forbund: ForbundRef) -> list[Party]:
    return list(
        session.exec(select(Party).where(Party.forbund_id == forbund.id).order_by(col(Party.id)))
    )


def people(app: App, forbund: str | None = None) -> list[Actor]:
    """The förbund's people with their roles, for listing."""
    with app.db.reading() as session:
        return list_people(session, resolve_forbund(session, forbund))
