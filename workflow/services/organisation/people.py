"""A förbund's people and the roles they act in (never a participant of an insats)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from workflow.errors import BadInput, NotFound
from workflow.models import ForbundRef, Party, Person, PersonRole
from workflow.text_guard import check_one_line
from workflow.vocabulary import Role, parse_choice

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App


from workflow.services.organisation.forbund import resolve_forbund


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


def people(app: App, forbund: str | None = None) -> list[Actor]:
    """The förbund's people with their roles, for listing."""
    with app.db.reading() as session:
        return list_people(session, resolve_forbund(session, forbund))
