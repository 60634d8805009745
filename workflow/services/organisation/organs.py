"""Organs and their members. The styrelse and the beredningsgrupp are made from people's roles
the first time they are needed, so a förbund set up with `finsam people` can hold meetings."""

from __future__ import annotations

from sqlmodel import Session, col, select

from workflow.models import ForbundRef, Organ, OrganMember, Person, PersonRole
from workflow.models.meetings import ORGAN_NAMES, MemberRole, OrganKind
from workflow.text_guard import check_one_line
from workflow.vocabulary import Role, parse_choice

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


def ensure_organ(
    session: Session, forbund: ForbundRef, kind: str, name: str | None = None
) -> Organ:
    """The förbund's organ of this kind (and name); created on first use."""
    organ_kind = parse_choice(OrganKind, kind, "organ")
    wanted = check_one_line(name, "organets namn") if name else ORGAN_NAMES[organ_kind]
    organ = session.exec(
        select(Organ).where(Organ.forbund_id == forbund.id, Organ.name == wanted)
    ).first()
    if organ is not None:
        return organ
    organ = Organ(forbund_id=forbund.id, kind=organ_kind.value, name=wanted)  # type: ignore[arg-type]
    session.add(organ)
    session.flush()
    seen: set[int] = set()
    for role, member_role in _MEMBERS_FROM_ROLES.get(organ_kind, []):
        people = session.exec(
            select(Person)
            .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
            .where(Person.forbund_id == forbund.id, PersonRole.role == role.value)
            .order_by(col(Person.id))
        )
        for person in people:
            if person.id in seen:
                continue
            seen.add(person.id)  # type: ignore[arg-type]
            session.add(
                OrganMember(organ_id=organ.id, person_id=person.id, role=member_role.value)  # type: ignore[arg-type]
            )
    session.flush()
    return organ


def members(session: Session, organ: Organ) -> list[tuple[Person, str]]:
    """The organ's members with their role, ordförande first, then by name."""
    order = [r.value for r in MemberRole]
    rows = session.exec(
        select(Person, OrganMember.role)
        .join(OrganMember, col(OrganMember.person_id) == col(Person.id))
        .where(OrganMember.organ_id == organ.id)
    ).all()
    return sorted(((p, r) for p, r in rows), key=lambda pr: (order.index(pr[1]), pr[0].name))


def chair_of(session: Session, organ: Organ) -> Person | None:
    return next((p for p, r in members(session, organ) if r == MemberRole.ORDFORANDE), None)
