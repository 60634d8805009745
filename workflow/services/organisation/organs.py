"""Organs: the styrelse, the beredningsgrupp, LLG, LSG and the others, with their rosters
(members.py) and what a roster lacks. What the law asks of a board (an ersättare for each
ledamot) and a lapsed mandate are warnings, not errors: a förbund mid-way through its set-up
is still usable.

An organ not set up explicitly is made from people's roles the first time a meeting needs it
(`ensure_organ`), so a förbund set up with `finsam people` alone can hold meetings. The
meetings read the members through `members`, which leaves out deactivated people.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from workflow.clock import local_date
from workflow.errors import BadInput, NotFound
from workflow.models import ForbundRef, Organ, OrganMember, Party, Person, PersonRole
from workflow.models.meetings import ORGAN_NAMES, MemberRole, OrganKind
from workflow.services.organisation.edits import Edit, open_edit
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.members import (
    MEMBER_ROLE_LABELS,
    ORDINARY,
    Uppdrag,
    board_term,
    chair_of,
    member_rows,
    members,
    parse_member_role,
    remove_member_in,
    set_member_in,
)
from workflow.services.organisation.parties import find_party
from workflow.services.organisation.people import find_person
from workflow.text_guard import check_one_line
from workflow.vocabulary import ROLE_LABELS, Role, parse_choice

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

ORGAN_KIND_LABELS = {
    OrganKind.STYRELSE: "styrelse",
    OrganKind.PRESIDIUM: "presidium/arbetsutskott",
    OrganKind.BEREDNINGSGRUPP: "beredningsgrupp",
    OrganKind.LLG: "lokal ledningsgrupp (LLG)",
    OrganKind.LSG: "lokal samverkansgrupp (LSG)",
    OrganKind.UTVECKLINGSGRUPP: "utvecklingsgrupp",
    OrganKind.STYRGRUPP: "styrgrupp",
}

# The person role a board member needs to act as one (justera, be chosen as justerare).
_BOARD_ROLE = {
    MemberRole.ORDFORANDE: Role.STYRELSE_ORDFORANDE,
    MemberRole.VICE_ORDFORANDE: Role.STYRELSE_LEDAMOT,
    MemberRole.LEDAMOT: Role.STYRELSE_LEDAMOT,
    MemberRole.ERSATTARE: Role.STYRELSE_ERSATTARE,
}

# Which person roles make someone a member of an organ made from roles, and as what.
_MEMBERS_FROM_ROLES: dict[OrganKind, list[tuple[Role, MemberRole]]] = {
    OrganKind.STYRELSE: [
        (Role.STYRELSE_ORDFORANDE, MemberRole.ORDFORANDE),
        (Role.STYRELSE_LEDAMOT, MemberRole.LEDAMOT),
        (Role.STYRELSE_ERSATTARE, MemberRole.ERSATTARE),
        (Role.SEKRETERARE, MemberRole.SEKRETERARE),
        (Role.FORBUNDSCHEF, MemberRole.ADJUNGERAD),
    ],
    OrganKind.BEREDNINGSGRUPP: [
        (Role.BEREDNINGSGRUPP, MemberRole.LEDAMOT),
        (Role.FORBUNDSCHEF, MemberRole.ORDFORANDE),
    ],
}


def parse_organ_kind(kind: str) -> OrganKind:
    return parse_choice(OrganKind, kind, "organ")


# -- finding organs -------------------------------------------------------------------------


def _organs(session: Session, forbund: ForbundRef) -> list[Organ]:
    return list(
        session.exec(select(Organ).where(Organ.forbund_id == forbund.id).order_by(col(Organ.id)))
    )


def find_organ(session: Session, forbund: ForbundRef, ref: str) -> Organ:
    """The organ named, or the only organ of the kind named ('styrelse')."""
    organs = _organs(session, forbund)
    wanted = ref.strip()
    named = [o for o in organs if o.name.lower() == wanted.lower()]
    if named:
        return named[0]
    of_kind = [o for o in organs if o.kind == wanted.lower()]
    if len(of_kind) == 1:
        return of_kind[0]
    if of_kind:
        raise BadInput(
            f"förbundet {forbund.slug} har flera organ av typen {wanted}: "
            f"{', '.join(o.name for o in of_kind)}; ange organets namn"
        )
    known = ", ".join(o.name for o in organs) or "inga"
    raise NotFound(
        f"förbundet {forbund.slug} har inget organ {ref!r}; organ: {known} "
        "(lägg till med 'finsam organs create')"
    )


def organ_by_id(session: Session, forbund: ForbundRef, organ_id: int) -> Organ:
    """The organ with this id, only in this förbund (another förbund's is not found)."""
    organ = session.get(Organ, organ_id)
    if organ is None or organ.forbund_id != forbund.id:
        raise NotFound(f"förbundet {forbund.slug} har inget organ med nummer {organ_id}")
    return organ


def get_organ_by_id(app: App, *, organ_id: int, forbund: str | None = None) -> OrganView:
    with app.db.reading() as session:
        found = organ_by_id(session, resolve_forbund(session, forbund), organ_id)
        return organ_view(session, found, local_date(app.clock(), app.settings.zone))


def ensure_organ(
    session: Session, forbund: ForbundRef, kind: str, name: str | None = None
) -> Organ:
    """The förbund's organ of this kind (and name); made from people's roles on first use."""
    organ_kind = parse_organ_kind(kind)
    organs = [o for o in _organs(session, forbund) if o.kind == organ_kind.value]
    if name:
        wanted = check_one_line(name, "organets namn")
        found = next((o for o in organs if o.name == wanted), None)
    else:
        wanted = ORGAN_NAMES[organ_kind]
        if len(organs) > 1:
            raise BadInput(
                f"förbundet {forbund.slug} har flera organ av typen {organ_kind.value}: "
                f"{', '.join(o.name for o in organs)}; ange organets namn"
            )
        found = organs[0] if organs else None
    if found is not None:
        return found
    organ = Organ(forbund_id=forbund.id, kind=organ_kind.value, name=wanted)  # type: ignore[arg-type]
    session.add(organ)
    session.flush()
    seen: set[int] = set()
    deputies = 0
    for role, member_role in _MEMBERS_FROM_ROLES.get(organ_kind, []):
        people = session.exec(
            select(Person)
            .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
            .where(
                Person.forbund_id == forbund.id,
                PersonRole.role == role.value,
                col(Person.deactivated_at).is_(None),
            )
            .order_by(col(Person.id))
        )
        for person in people:
            if person.id in seen:
                continue
            seen.add(person.id)  # type: ignore[arg-type]
            member = OrganMember(organ_id=organ.id, person_id=person.id, role=member_role.value)  # type: ignore[arg-type]
            if member_role == MemberRole.ERSATTARE:
                deputies += 1
                member.position = deputies  # called in as they were added
            session.add(member)
    session.flush()
    return organ


# -- views and warnings ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    person_id: int
    name: str
    email: str
    role: str
    role_label: str
    order: int | None
    # The party the member represents: given for the uppdrag, else the person's own.
    party: str | None
    mandate_from: date | None
    mandate_to: date | None
    active: bool


@dataclass
class OrganView:
    id: int
    kind: str
    kind_label: str
    name: str
    members: list[MemberView] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _member_views(session: Session, organ: Organ) -> list[MemberView]:
    parties = {
        p.id: p.name
        for p in session.exec(select(Party).where(Party.forbund_id == organ.forbund_id))
    }
    return [
        MemberView(
            person.id,  # type: ignore[arg-type]
            person.name,
            person.email,
            member.role,
            MEMBER_ROLE_LABELS[MemberRole(member.role)],
            member.position,
            parties.get(member.party_id or person.party_id or -1),
            member.mandate_from,
            member.mandate_to,
            person.deactivated_at is None,
        )
        for member, person in member_rows(session, organ)
    ]


def _names(names: list[str]) -> str:
    if len(names) <= 4:
        return ", ".join(names)
    return f"{', '.join(names[:3])} och {len(names) - 3} till"


def _warnings(session: Session, organ: Organ, views: list[MemberView], today: date) -> list[str]:
    """What the förbund should look at: lapsed mandates, missing ersättare, loose ends."""
    found: list[str] = []
    active = [v for v in views if v.active]
    for view in views:
        if not view.active:
            found.append(
                f"{organ.name}: {view.name} är inaktiverad men står kvar som {view.role_label}; "
                f"ta bort uppdraget med 'finsam organs remove'"
            )
    lapsed: dict[date, list[str]] = defaultdict(list)
    for view in active:
        if view.mandate_to is not None and view.mandate_to < today:
            lapsed[view.mandate_to].append(view.name)
    for end, names in sorted(lapsed.items()):
        found.append(f"{organ.name}: mandatet gick ut {end.isoformat()} för {_names(names)}")
    if organ.kind != OrganKind.STYRELSE:
        return found
    seats: dict[str, int] = defaultdict(int)
    deputies: dict[str, int] = defaultdict(int)
    roles = _person_roles(session, [v.person_id for v in active])
    for view in active:
        role = MemberRole(view.role)
        needed = _BOARD_ROLE.get(role)
        if needed is not None and needed.value not in roles.get(view.person_id, set()):
            found.append(
                f"{organ.name}: {view.name} är {view.role_label} men saknar rollen "
                f"{ROLE_LABELS[needed]}"
            )
        if role in ORDINARY or role == MemberRole.ERSATTARE:
            if view.party is None:
                found.append(f"{organ.name}: {view.name} ({view.role_label}) företräder ingen part")
            elif role == MemberRole.ERSATTARE:
                deputies[view.party] += 1
            else:
                seats[view.party] += 1
    for party, count in seats.items():
        if deputies[party] < count:
            found.append(
                f"{organ.name}: {party} har {count} ordinarie men {deputies[party]} ersättare; "
                "varje ledamot ska ha en ersättare"
            )
    return found


def _person_roles(session: Session, person_ids: list[int]) -> dict[int, set[str]]:
    held: dict[int, set[str]] = defaultdict(set)
    for person_id, role in session.exec(
        select(PersonRole.person_id, PersonRole.role).where(
            col(PersonRole.person_id).in_(person_ids)
        )
    ):
        held[person_id].add(role)
    return held


def organ_view(session: Session, organ: Organ, today: date) -> OrganView:
    views = _member_views(session, organ)
    return OrganView(
        organ.id,  # type: ignore[arg-type]
        organ.kind,
        ORGAN_KIND_LABELS[OrganKind(organ.kind)],
        organ.name,
        views,
        _warnings(session, organ, views, today),
    )


def organ_views(session: Session, forbund: ForbundRef, today: date) -> list[OrganView]:
    return [organ_view(session, organ, today) for organ in _organs(session, forbund)]


def organisation_warnings(session: Session, forbund: ForbundRef, today: date) -> list[str]:
    """Every organ's warnings, in the order the organs were set up."""
    return [w for view in organ_views(session, forbund, today) for w in view.warnings]


def organs(app: App, forbund: str | None = None) -> list[OrganView]:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return organ_views(session, organisation, local_date(app.clock(), app.settings.zone))


def get_organ(app: App, *, organ: str, forbund: str | None = None) -> OrganView:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        found = find_organ(session, organisation, organ)
        return organ_view(session, found, local_date(app.clock(), app.settings.zone))


def warnings(app: App, forbund: str | None = None, on: date | None = None) -> list[str]:
    """What the förbund's set-up lacks on a day (today by default), for `show` and the web."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        today = on or local_date(app.clock(), app.settings.zone)
        return organisation_warnings(session, organisation, today)


# -- audited changes ------------------------------------------------------------------------


def create_organ_in(edit: Edit, *, kind: str, name: str | None = None) -> Organ:
    organ_kind = parse_organ_kind(kind)
    wanted = check_one_line(name, "organets namn") if name else ORGAN_NAMES[organ_kind]
    if any(o.name.lower() == wanted.lower() for o in _organs(edit.session, edit.forbund)):
        raise BadInput(f"förbundet {edit.forbund.slug} har redan ett organ som heter {wanted!r}")
    organ = Organ(forbund_id=edit.forbund.id, kind=organ_kind.value, name=wanted)  # type: ignore[arg-type]
    edit.session.add(organ)
    edit.session.flush()
    edit.record(
        kind="organ",
        row_id=organ.id,  # type: ignore[arg-type]
        ref=organ.name,
        trigger="skapa_organ",
        to_state="aktivt",
        said=f"organ {organ.name} ({organ_kind.value}) skapat",
        data={"kind": organ.kind, "name": organ.name},
    )
    return organ


def rename_organ_in(edit: Edit, organ: Organ, name: str) -> bool:
    wanted = check_one_line(name, "organets namn")
    if wanted == organ.name:
        return False
    others = [o for o in _organs(edit.session, edit.forbund) if o.id != organ.id]
    if any(o.name.lower() == wanted.lower() for o in others):
        raise BadInput(f"förbundet {edit.forbund.slug} har redan ett organ som heter {wanted!r}")
    before, organ.name = organ.name, wanted
    edit.session.add(organ)
    edit.record(
        kind="organ",
        row_id=organ.id,  # type: ignore[arg-type]
        ref=organ.name,
        trigger="byt_namn_organ",
        from_state="aktivt",
        to_state="aktivt",
        said=f"organ {before} heter nu {organ.name}",
        data={"before": before, "after": organ.name},
    )
    return True


def create_organ(
    app: App, *, actor_email: str, kind: str, name: str | None = None, forbund: str | None = None
) -> OrganView:
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        organ = create_organ_in(edit, kind=kind, name=name)
        return organ_view(session, organ, local_date(edit.now, app.settings.zone))


def rename_organ(
    app: App, *, actor_email: str, organ: str, name: str, forbund: str | None = None
) -> OrganView:
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        found = find_organ(session, edit.forbund, organ)
        if not rename_organ_in(edit, found, name):
            raise BadInput(f"organet heter redan {found.name!r}; inget att ändra")
        return organ_view(session, found, local_date(edit.now, app.settings.zone))


def set_member(
    app: App,
    *,
    actor_email: str,
    organ: str,
    email: str,
    role: str,
    order: int | None = None,
    party: str | None = None,
    mandate_from: date | None = None,
    mandate_to: date | None = None,
    elected: int | None = None,
    forbund: str | None = None,
) -> OrganView:
    """Give a person an uppdrag in an organ; `elected` gives the board term of that election."""
    if elected is not None:
        if mandate_from is not None or mandate_to is not None:
            raise BadInput("ange antingen valår (--elected) eller mandatperiod (--from/--to)")
        mandate_from, mandate_to = board_term(elected)
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        found = find_organ(session, edit.forbund, organ)
        person = find_person(session, edit.forbund, email)
        wanted = Uppdrag(
            parse_member_role(role),
            order,
            find_party(session, edit.forbund, party) if party else None,
            mandate_from,
            mandate_to,
        )
        if not set_member_in(edit, found, person, wanted):
            raise BadInput(
                f"{person.email} har redan det uppdraget i {found.name}; inget att ändra"
            )
        return organ_view(session, found, local_date(edit.now, app.settings.zone))


def remove_member(
    app: App, *, actor_email: str, organ: str, email: str, forbund: str | None = None
) -> OrganView:
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        found = find_organ(session, edit.forbund, organ)
        person = find_person(session, edit.forbund, email)
        if not remove_member_in(edit, found, person):
            raise NotFound(f"{person.email} har inget uppdrag i {found.name}")
        return organ_view(session, found, local_date(edit.now, app.settings.zone))


__all__ = ["chair_of", "ensure_organ", "find_organ", "members"]
