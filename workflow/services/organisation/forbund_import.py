"""Importing a förbund file: make the förbund what the file says (forbund_file.py reads it).

The import is idempotent: it creates what is missing, changes what differs and records each
change as one audit event; a second run changes nothing. A key the file leaves out is left as
it is (`null` clears it); parties, people and organs the file does not name are kept (and
reported), but an organ's `members` list is its whole roster. It is one transaction: a file
that fails part-way leaves nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import select

from workflow.errors import BadInput
from workflow.models import Forbund, Organ, OrganMember, Party, Person
from workflow.services.organisation.admin import found_in, update_forbund_in
from workflow.services.organisation.edits import Edit, open_edit
from workflow.services.organisation.forbund_file import (
    ForbundFile,
    MemberSpec,
    PersonSpec,
    Reader,
    read_file,
)
from workflow.services.organisation.members import Uppdrag, remove_member_in, set_member_in
from workflow.services.organisation.organs import create_organ_in
from workflow.services.organisation.parties import create_party_in, list_parties, update_party_in
from workflow.services.organisation.people import (
    KEEP,
    Keep,
    create_person_in,
    has_manager,
    managing_roles_text,
    set_active_in,
    set_roles_in,
    update_person_in,
)

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App


# -- the import -----------------------------------------------------------------------------


@dataclass
class ImportReport:
    forbund: str
    name: str
    created: bool
    actor: str
    changes: list[str]
    # What the database holds that the file does not name (kept as it is).
    notes: list[str]


def import_file(
    app: App,
    path: Path,
    *,
    actor_email: str | None,
    operator: str,
    channel: str = "cli",
    only_forbund: str | None = None,
) -> ImportReport:
    """Make the förbund what the file says, in one transaction.

    Steps: read and check the whole file; open the change (a new förbund is founded by the
    installation for `operator`, an existing one is changed by `actor_email`, who must be
    allowed to manage it); apply the förbund's details, parties, people (details, roles,
    active) and organs (members, roles, order, party, mandate), each change one audit event;
    check that someone may still manage the förbund; report the changes.
    """
    spec = read_file(path)
    reader = Reader(path)
    if only_forbund is not None and spec.slug != only_forbund:
        # From a förbund's own page a file may change that förbund only, never found another.
        raise reader.fail(
            "slug",
            f"filen gäller förbundet {spec.slug!r}, inte {only_forbund!r}; "
            "läs in en fil som gäller det här förbundet",
        )
    with app.db.transaction() as session:
        existing = session.exec(select(Forbund).where(Forbund.slug == spec.slug)).first()
        if existing is None:
            if actor_email and not _names_manager(app, spec, actor_email):
                raise reader.fail(
                    "people",
                    f"{actor_email} är inte en aktiv person med rätt att ändra förbundet i filen; "
                    "ett nytt förbund skapas av installationen, kör utan --as",
                )
            edit = found_in(
                app,
                session,
                slug=spec.slug,
                name=spec.name,
                dnr_pattern=spec.dnr_pattern or app.settings.default_dnr_pattern,
                orgnr=spec.orgnr if isinstance(spec.orgnr, str) else None,
                operator=operator,
                channel=channel,
            )
        else:
            if not actor_email:
                raise BadInput(
                    f"förbundet {spec.slug} finns redan; ange --as EMAIL (en administratör i "
                    "förbundet) för att uppdatera det från filen"
                )
            edit = open_edit(app, session, spec.slug, actor_email)
            with reader.at("forbund"):
                update_forbund_in(
                    edit,
                    name=spec.name,
                    orgnr=None if isinstance(spec.orgnr, Keep) else spec.orgnr or "",
                    dnr_pattern=spec.dnr_pattern,
                )
        edit.manager_check_at_end = True
        notes = _apply(edit, spec, reader)
        if not has_manager(edit):
            raise reader.fail(
                "people",
                f"förbundet {spec.slug} står utan aktiv person med rollen "
                f"{managing_roles_text(edit)}; ge någon den rollen i filen",
            )
        actor = edit.actor if isinstance(edit.actor, str) else edit.actor.email
        return ImportReport(
            spec.slug,
            spec.name,
            existing is None,
            actor,
            edit.done,
            [] if existing is None else notes,
        )


def _names_manager(app: App, spec: ForbundFile, email: str) -> bool:
    managing = app.actions["manage_organisation"].roles
    wanted = email.strip().lower()
    return any(
        p.email == wanted and p.active is not False and managing & set(p.roles or [])
        for p in spec.people
    )


def _apply(edit: Edit, spec: ForbundFile, reader: Reader) -> list[str]:
    session, forbund = edit.session, edit.forbund
    parties = {p.name: p for p in list_parties(session, forbund)}
    for party_spec in spec.parties:
        with reader.at(party_spec.key):
            party = parties.get(party_spec.name)
            if party is None:
                parties[party_spec.name] = create_party_in(
                    edit, kind=party_spec.kind, name=party_spec.name
                )
            else:
                update_party_in(edit, party, kind=party_spec.kind)
    people = {
        p.email: p for p in session.exec(select(Person).where(Person.forbund_id == forbund.id))
    }
    for person_spec in spec.people:
        with reader.at(person_spec.key):
            people[person_spec.email] = _apply_person(edit, person_spec, people, parties)
    organs = {
        o.name.lower(): o for o in session.exec(select(Organ).where(Organ.forbund_id == forbund.id))
    }
    for organ_spec in spec.organs:
        organ = organs.get(organ_spec.name.lower())
        if organ is None:
            with reader.at(organ_spec.key):
                organ = create_organ_in(edit, kind=organ_spec.kind.value, name=organ_spec.name)
        elif organ.kind != organ_spec.kind.value:
            raise reader.fail(
                f"{organ_spec.key}.kind",
                f"organet {organ.name} är av typen {organ.kind}; ett organs typ kan inte ändras",
            )
        if organ_spec.members is not None:
            _apply_members(edit, organ, organ_spec.members, people, parties, reader)
    return _notes(spec, parties, people, organs)


def _party_of(
    name: str | Keep | None, parties: dict[str, Party], current: Party | None
) -> Party | None:
    if isinstance(name, Keep):
        return current
    if name is None:
        return None
    party = parties.get(name)
    if party is None:
        raise BadInput(f"ingen part {name!r}; lägg till den under parties")
    return party


def _apply_person(
    edit: Edit, spec: PersonSpec, people: dict[str, Person], parties: dict[str, Party]
) -> Person:
    person = people.get(spec.email)
    if person is None:
        if spec.name is None:
            raise BadInput("name saknas för en ny person")
        person = create_person_in(
            edit,
            name=spec.name,
            email=spec.email,
            roles=spec.roles or [],
            party=_party_of(spec.party, parties, None),
        )
    else:
        current = edit.session.get(Party, person.party_id) if person.party_id else None
        update_person_in(
            edit,
            person,
            name=spec.name,
            party=KEEP if isinstance(spec.party, Keep) else _party_of(spec.party, parties, current),
        )
        if spec.roles is not None:
            set_roles_in(edit, person, spec.roles)
    if spec.active is not None:
        set_active_in(edit, person, spec.active)
    return person


def _apply_members(
    edit: Edit,
    organ: Organ,
    specs: list[MemberSpec],
    people: dict[str, Person],
    parties: dict[str, Party],
    reader: Reader,
) -> None:
    session = edit.session
    current = {
        m.person_id: m
        for m in session.exec(select(OrganMember).where(OrganMember.organ_id == organ.id))
    }
    listed: set[int] = set()
    for spec in specs:
        person = people.get(spec.email)
        if person is None:
            raise reader.fail(
                f"{spec.key}.email", f"ingen person {spec.email}; lägg till personen under people"
            )
        listed.add(person.id)  # type: ignore[arg-type]
        member = current.get(person.id)  # type: ignore[arg-type]
        member_party = None
        if member is not None and member.party_id is not None:
            member_party = session.get(Party, member.party_id)
        with reader.at(spec.key):
            mandate = spec.mandate
            if isinstance(mandate, Keep):
                mandate = (member.mandate_from, member.mandate_to) if member else (None, None)
            order = spec.order
            if order is None and member is not None and member.role == spec.role.value:
                order = member.position
            set_member_in(
                edit,
                organ,
                person,
                Uppdrag(
                    spec.role,
                    order,
                    _party_of(spec.party, parties, member_party),
                    mandate[0],
                    mandate[1],
                ),
            )
    for person_id in sorted(set(current) - listed):
        person = session.get(Person, person_id)
        if person is not None:
            remove_member_in(edit, organ, person)


def _notes(
    spec: ForbundFile,
    parties: dict[str, Party],
    people: dict[str, Person],
    organs: dict[str, Organ],
) -> list[str]:
    notes = []
    named = {p.name for p in spec.parties}
    for name in sorted(set(parties) - named):
        notes.append(f"parten {name} finns i förbundet men inte i filen (lämnas som den är)")
    emails = {p.email for p in spec.people}
    for email in sorted(set(people) - emails):
        notes.append(f"personen {email} finns i förbundet men inte i filen (lämnas som den är)")
    organ_names = {o.name.lower() for o in spec.organs}
    for key in sorted(set(organs) - organ_names):
        notes.append(f"organet {organs[key].name} finns i förbundet men inte i filen (lämnas)")
    return notes
