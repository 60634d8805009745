"""A förbund's people and the roles they act in (never a participant of an insats).

A person who leaves is deactivated, not deleted: their name stays in the history, but they
can no longer act. Every change a person makes starts with finding them as the actor
(`find_actor`, and the one query of cases/change.py), and both refuse a deactivated person.
The förbund always keeps at least one active person who may manage its organisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, col, func, select

from workflow.clock import local_date
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models import ForbundRef, Party, Person, PersonRole
from workflow.services.organisation.edits import Edit, open_edit
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.parties import find_party
from workflow.services.paging import Keyset, Page, bytewise, check_limit
from workflow.text_guard import check_one_line
from workflow.vocabulary import ROLE_LABELS, Role, parse_choice

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

SUBJECT = "person"


class Keep(Enum):
    """An argument left as it is (for fields where None means "none")."""

    KEEP = "keep"


KEEP = Keep.KEEP


def check_email(raw: str) -> str:
    email = raw.strip().lower()
    local_part, _, domain = email.partition("@")
    if not local_part or "." not in domain or any(c in email for c in " \t\r\n,;<>"):
        raise BadInput(f"{raw!r} är ingen e-postadress; skriv t.ex. namn@forbund.se")
    return check_one_line(email, "e-postadressen", 254)


def parse_roles(roles: Iterable[str]) -> list[str]:
    return sorted({parse_choice(Role, role, "roll").value for role in roles})


def add_person(
    session: Session,
    forbund: ForbundRef,
    *,
    name: str,
    email: str,
    roles: list[str],
    party: Party | None = None,
) -> Person:
    """A new person, unaudited: for callers that record the change themselves (and tests)."""
    email = check_email(email)
    if _by_email(session, forbund, email) is not None:
        raise BadInput(f"förbundet {forbund.slug} har redan en person med e-post {email}")
    person = Person(
        forbund_id=forbund.id,  # type: ignore[arg-type]
        name=check_one_line(name, "namnet"),
        email=email,
        party_id=party.id if party else None,
    )
    session.add(person)
    session.flush()
    for role in parse_roles(roles):
        session.add(PersonRole(person_id=person.id, role=role))  # type: ignore[arg-type]
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
    core_select(
        _PERSON.c.id, _PERSON.c.name, _PERSON.c.email, _PERSON.c.deactivated_at, _PERSON_ROLE.c.role
    )
    .select_from(_PERSON.outerjoin(_PERSON_ROLE, _PERSON_ROLE.c.person_id == _PERSON.c.id))
    .where(_PERSON.c.forbund_id == bindparam("forbund_id"), _PERSON.c.email == bindparam("email"))
)


def refuse_deactivated(email: str, forbund: ForbundRef, deactivated_at: datetime) -> None:
    """A deactivated person cannot act: the one sentence every entry point shows."""
    raise NotPermitted(
        f"{email} är inaktiverad i förbundet {forbund.slug} sedan "
        f"{local_date(deactivated_at).isoformat()} och kan inte längre utföra något; "
        "en administratör kan återaktivera med 'finsam people activate'"
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
    if first.deactivated_at is not None:
        refuse_deactivated(first.email, forbund, first.deactivated_at)
    roles = frozenset(row.role for row in rows if row.role is not None)
    return Actor(first.id, first.name, first.email, roles)


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonView:
    id: int
    name: str
    email: str
    party: str | None
    roles: list[str]
    active: bool
    deactivated_at: datetime | None


def _by_email(session: Session, forbund: ForbundRef, email: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.forbund_id == forbund.id, Person.email == email.strip().lower())
    ).first()


def find_person(session: Session, forbund: ForbundRef, email: str) -> Person:
    """The person with this e-mail, active or not."""
    person = _by_email(session, forbund, email)
    if person is None:
        raise NotFound(
            f"ingen person med e-post {email!r} i förbundet {forbund.slug}; se 'finsam people list'"
        )
    return person


def roles_of(session: Session, person: Person) -> list[str]:
    return sorted(
        session.exec(select(PersonRole.role).where(PersonRole.person_id == person.id)).all()
    )


def person_view(session: Session, person: Person) -> PersonView:
    party = session.get(Party, person.party_id) if person.party_id else None
    return PersonView(
        person.id,  # type: ignore[arg-type]
        person.name,
        person.email,
        party.name if party else None,
        roles_of(session, person),
        person.deactivated_at is None,
        person.deactivated_at,
    )


_PERSON_TABLE = Person.__table__  # type: ignore[attr-defined]
PEOPLE_ORDER = Keyset("people", (bytewise(_PERSON_TABLE.c.name), _PERSON_TABLE.c.id))


def list_people(
    session: Session, forbund: ForbundRef, *, after: str | None = None, limit: int = 50
) -> Page[PersonView]:
    """A page of the förbund's people by name, deactivated people included (they say so);
    their roles and parties in one query each."""
    check_limit(limit)
    query = select(Person).where(Person.forbund_id == forbund.id)
    rows = session.exec(PEOPLE_ORDER.page(query, after, limit)).all()
    page = PEOPLE_ORDER.cut(rows, limit, lambda p: (p.name, p.id))
    ids = [p.id for p in page.items]
    roles: dict[int, list[str]] = {}
    if ids:
        for person_id, role in session.exec(
            select(PersonRole.person_id, PersonRole.role)
            .where(col(PersonRole.person_id).in_(ids))
            .order_by(col(PersonRole.role))
        ):
            roles.setdefault(person_id, []).append(role)
    party_ids = sorted({p.party_id for p in page.items if p.party_id})
    parties = (
        {p.id: p.name for p in session.exec(select(Party).where(col(Party.id).in_(party_ids)))}
        if party_ids
        else {}
    )
    items = [
        PersonView(
            p.id,  # type: ignore[arg-type]
            p.name,
            p.email,
            parties.get(p.party_id) if p.party_id else None,
            roles.get(p.id, []),  # type: ignore[arg-type]
            p.deactivated_at is None,
            p.deactivated_at,
        )
        for p in page.items
    ]
    return Page(items, page.next_after)


def people(
    app: App, forbund: str | None = None, *, after: str | None = None, limit: int = 50
) -> Page[PersonView]:
    """A page of the förbund's people with their roles, for listing."""
    with app.db.reading() as session:
        return list_people(session, resolve_forbund(session, forbund), after=after, limit=limit)


def count_people(app: App, forbund: str | None = None) -> int:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = select(func.count()).select_from(Person).where(Person.forbund_id == organisation.id)
        return int(session.exec(query).one())


def get_person(app: App, *, email: str, forbund: str | None = None) -> PersonView:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return person_view(session, find_person(session, organisation, email))


def person_by_id(session: Session, forbund: ForbundRef, person_id: int) -> Person:
    """The person with this id, only in this förbund (another förbund's is not found)."""
    person = session.get(Person, person_id)
    if person is None or person.forbund_id != forbund.id:
        raise NotFound(f"förbundet {forbund.slug} har ingen person med nummer {person_id}")
    return person


def get_person_by_id(app: App, *, person_id: int, forbund: str | None = None) -> PersonView:
    with app.db.reading() as session:
        return person_view(
            session, person_by_id(session, resolve_forbund(session, forbund), person_id)
        )


def is_active(app: App, person_id: int) -> bool:
    """Whether this person may still act (the web asks on each request of a session)."""
    with app.db.reading() as session:
        person = session.get(Person, person_id)
        return person is not None and person.deactivated_at is None


# -- audited changes ------------------------------------------------------------------------


def _state(person: Person) -> str:
    return "aktiv" if person.deactivated_at is None else "inaktiverad"


def _party_name(session: Session, party_id: int | None) -> str | None:
    party = session.get(Party, party_id) if party_id else None
    return party.name if party else None


def _roles_text(roles: Iterable[str]) -> str:
    return ", ".join(ROLE_LABELS[Role(r)] for r in sorted(roles)) or "inga roller"


def has_manager(edit: Edit) -> bool:
    """Whether an active person of the förbund may manage its organisation."""
    managing = edit.app.actions["manage_organisation"].roles
    found = edit.session.exec(
        select(Person.id)
        .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(
            Person.forbund_id == edit.forbund.id,
            col(Person.deactivated_at).is_(None),
            col(PersonRole.role).in_(managing),
        )
        .limit(1)
    ).first()
    return found is not None


def managing_roles_text(edit: Edit) -> str:
    return _roles_text(edit.app.actions["manage_organisation"].roles)


def keep_a_manager(edit: Edit, roles_given_up: Iterable[str]) -> None:
    """Refuse a change that leaves the förbund without an active person who may manage it."""
    managing = edit.app.actions["manage_organisation"].roles
    if edit.manager_check_at_end or not managing & set(roles_given_up):
        return
    edit.session.flush()
    if not has_manager(edit):
        raise BadInput(
            f"förbundet {edit.forbund.slug} skulle stå utan aktiv person som får ändra dess "
            f"organisation ({managing_roles_text(edit)}); ge först någon annan den rollen"
        )


def create_person_in(
    edit: Edit, *, name: str, email: str, roles: list[str], party: Party | None = None
) -> Person:
    if ADMIN_ROLE in parse_roles(roles):
        require_admin_to_change_admin(edit.actor)
    person = add_person(
        edit.session, edit.forbund, name=name, email=email, roles=roles, party=party
    )
    held = roles_of(edit.session, person)
    edit.record(
        kind=SUBJECT,
        row_id=person.id,  # type: ignore[arg-type]
        ref=person.email,
        trigger="lagg_till_person",
        to_state="aktiv",
        said=f"person {person.name} <{person.email}> tillagd med {_roles_text(held)}",
        data={
            "name": person.name,
            "email": person.email,
            "party": party.name if party else None,
            "roles": held,
        },
    )
    return person


def update_person_in(
    edit: Edit,
    person: Person,
    *,
    name: str | None = None,
    email: str | None = None,
    party: Party | Keep | None = KEEP,
) -> bool:
    """Change name, e-mail or party; one event when anything changed."""
    session = edit.session
    before = {
        "name": person.name,
        "email": person.email,
        "party": _party_name(session, person.party_id),
    }
    if name is not None:
        person.name = check_one_line(name, "namnet")
    if email is not None:
        email = check_email(email)
        other = _by_email(session, edit.forbund, email)
        if other is not None and other.id != person.id:
            raise BadInput(f"förbundet {edit.forbund.slug} har redan en person med e-post {email}")
        person.email = email
    if not isinstance(party, Keep):
        person.party_id = party.id if party else None
    after = {
        "name": person.name,
        "email": person.email,
        "party": _party_name(session, person.party_id),
    }
    if after == before:
        return False
    session.add(person)
    labels = {"name": "namn", "email": "e-post", "party": "part"}
    changed = ", ".join(
        f"{labels[k]} {before[k] or '–'} → {after[k] or '–'}"
        for k in after
        if after[k] != before[k]
    )
    edit.record(
        kind=SUBJECT,
        row_id=person.id,  # type: ignore[arg-type]
        ref=person.email,
        trigger="andra_person",
        from_state=_state(person),
        to_state=_state(person),
        said=f"person {person.name}: {changed}",
        data={"before": before, "after": after},
    )
    return True


# The role that holds every right of the förbund (states/actions.yaml): a förbundschef may
# manage the organisation but not give it, or they could give themselves what they lack.
ADMIN_ROLE = "admin"


def require_admin_to_change_admin(actor: Actor | str) -> None:
    """Only an administratör gives or takes the admin role (the installation, which creates
    a förbund and its first administratör, may too)."""
    if isinstance(actor, Actor) and ADMIN_ROLE not in actor.roles:
        raise NotPermitted(
            "bara en administratör kan ge eller ta rollen administratör; be en administratör"
        )


def set_roles_in(edit: Edit, person: Person, roles: Iterable[str]) -> bool:
    """Give the person exactly these roles; one event when they changed."""
    session = edit.session
    wanted = set(parse_roles(roles))
    held = set(roles_of(session, person))
    added, removed = sorted(wanted - held), sorted(held - wanted)
    if not added and not removed:
        return False
    if ADMIN_ROLE in added + removed:
        require_admin_to_change_admin(edit.actor)
    for role in removed:
        row = session.get(PersonRole, (person.id, role))
        if row is not None:
            session.delete(row)
    for role in added:
        session.add(PersonRole(person_id=person.id, role=role))  # type: ignore[arg-type]
    session.flush()
    keep_a_manager(edit, removed)
    parts = []
    if added:
        parts.append(f"får {_roles_text(added)}")
    if removed:
        parts.append(f"lämnar {_roles_text(removed)}")
    edit.record(
        kind=SUBJECT,
        row_id=person.id,  # type: ignore[arg-type]
        ref=person.email,
        trigger="andra_roller",
        from_state=_state(person),
        to_state=_state(person),
        said=f"person {person.name} {' och '.join(parts)}",
        data={"added": added, "removed": removed, "roles": sorted(wanted)},
    )
    return True


def set_active_in(edit: Edit, person: Person, active: bool) -> bool:
    """Deactivate (from now on the person cannot act) or reactivate; an event when it changed."""
    if active == (person.deactivated_at is None):
        return False
    before = _state(person)
    person.deactivated_at = None if active else edit.now
    edit.session.add(person)
    edit.session.flush()
    if not active:
        keep_a_manager(edit, roles_of(edit.session, person))
        # Their web sessions end now, in the same transaction (a lookup refuses them anyway).
        from workflow.services.access.sessions import end_sessions_of

        end_sessions_of(edit.session, person.id)  # type: ignore[arg-type]
    edit.record(
        kind=SUBJECT,
        row_id=person.id,  # type: ignore[arg-type]
        ref=person.email,
        trigger="ateraktivera" if active else "avaktivera",
        from_state=before,
        to_state=_state(person),
        said=f"person {person.name} <{person.email}> "
        + ("återaktiverad" if active else "inaktiverad"),
    )
    return True


def _party_or_none(session: Session, forbund: ForbundRef, name: str | None) -> Party | None:
    return find_party(session, forbund, name) if name else None


def create_person(
    app: App,
    *,
    actor_email: str,
    name: str,
    email: str,
    roles: list[str],
    party: str | None = None,
    forbund: str | None = None,
) -> PersonView:
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        chosen = _party_or_none(session, edit.forbund, party)
        person = create_person_in(edit, name=name, email=email, roles=roles, party=chosen)
        return person_view(session, person)


def update_person(
    app: App,
    *,
    actor_email: str,
    email: str,
    name: str | None = None,
    new_email: str | None = None,
    party: str | Keep | None = KEEP,
    forbund: str | None = None,
) -> PersonView:
    """Change a person's name, e-mail or party (party None: they represent no party)."""
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        person = find_person(session, edit.forbund, email)
        chosen = party if isinstance(party, Keep) else _party_or_none(session, edit.forbund, party)
        if not update_person_in(edit, person, name=name, email=new_email, party=chosen):
            raise BadInput(f"{person.email}: inget att ändra; ange --name, --email eller --party")
        return person_view(session, person)


def edit_person(
    app: App,
    *,
    actor_email: str,
    person_id: int,
    name: str,
    email: str,
    party: str | None,
    roles: Iterable[str],
    forbund: str | None = None,
) -> PersonView:
    """The person as a form gives them: name, e-mail, party and exactly these roles, in one
    transaction (each kind of change one event); refused when nothing changed."""
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        person = person_by_id(session, edit.forbund, person_id)
        chosen = _party_or_none(session, edit.forbund, party)
        changed = update_person_in(edit, person, name=name, email=email, party=chosen)
        changed = set_roles_in(edit, person, roles) or changed
        if not changed:
            raise BadInput(f"{person.email}: inget att ändra")
        return person_view(session, person)


def set_person_active(
    app: App, *, actor_email: str, person_id: int, active: bool, forbund: str | None = None
) -> PersonView:
    """Deactivate (their sessions end at once) or reactivate a person, by id."""
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        person = person_by_id(session, edit.forbund, person_id)
        if person.id == edit.actor.id and not active:  # type: ignore[union-attr]
            raise BadInput("du kan inte inaktivera dig själv; be en annan administratör")
        if not set_active_in(edit, person, active):
            raise BadInput(f"{person.email} är redan {'aktiv' if active else 'inaktiverad'}")
        return person_view(session, person)


def change_roles(
    app: App,
    *,
    actor_email: str,
    email: str,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    forbund: str | None = None,
) -> PersonView:
    """Give a person roles and take others away."""
    adding, removing = set(parse_roles(add)), set(parse_roles(remove))
    if not adding and not removing:
        raise BadInput("ange roller med --add ROLL och/eller --remove ROLL")
    if adding & removing:
        raise BadInput(f"samma roll både läggs till och tas bort: {', '.join(adding & removing)}")
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        person = find_person(session, edit.forbund, email)
        held = set(roles_of(session, person))
        if not set_roles_in(edit, person, (held | adding) - removing):
            raise BadInput(f"{person.email} har redan de rollerna; inget att ändra")
        return person_view(session, person)


def deactivate_person(
    app: App, *, actor_email: str, email: str, forbund: str | None = None
) -> PersonView:
    """From now on the person cannot act; the web ends their sessions (`is_active`)."""
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        person = find_person(session, edit.forbund, email)
        if not set_active_in(edit, person, False):
            raise BadInput(f"{person.email} är redan inaktiverad")
        return person_view(session, person)


def reactivate_person(
    app: App, *, actor_email: str, email: str, forbund: str | None = None
) -> PersonView:
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        person = find_person(session, edit.forbund, email)
        if not set_active_in(edit, person, True):
            raise BadInput(f"{person.email} är redan aktiv")
        return person_view(session, person)
