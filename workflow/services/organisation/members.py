"""An organ's members: each uppdrag's role (ordförande, vice ordförande, ledamot, ersättare
in their order, sekreterare, adjungerad), the party the member represents (by default the
person's own) and the mandate period; the board's term runs four years from 1 April after
the election year (FINSAM §12, domain.md §1).

The meetings read an organ's members through `members`, which leaves out deactivated people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from workflow.errors import BadInput
from workflow.models import Organ, OrganMember, Party, Person
from workflow.models.meetings import MemberRole
from workflow.services.organisation.edits import Edit
from workflow.vocabulary import parse_choice

MEMBER_ROLE_LABELS = {
    MemberRole.ORDFORANDE: "ordförande",
    MemberRole.VICE_ORDFORANDE: "vice ordförande",
    MemberRole.LEDAMOT: "ledamot",
    MemberRole.ERSATTARE: "ersättare",
    MemberRole.SEKRETERARE: "sekreterare",
    MemberRole.ADJUNGERAD: "adjungerad",
}

# The members who hold a seat of their party; each needs an ersättare of that party (§12).
ORDINARY = frozenset({MemberRole.ORDFORANDE, MemberRole.VICE_ORDFORANDE, MemberRole.LEDAMOT})


def board_term(elected: int) -> tuple[date, date]:
    """The board's mandate: four years from 1 April after the election year."""
    return date(elected + 1, 4, 1), date(elected + 5, 3, 31)


def elected_in(start: date | None, end: date | None) -> int | None:
    """The election year whose board term is exactly this period, if it is one."""
    if start is None or end is None:
        return None
    return start.year - 1 if board_term(start.year - 1) == (start, end) else None


def check_mandate(start: date | None, end: date | None) -> tuple[date | None, date | None]:
    if start is not None and end is not None and end < start:
        raise BadInput(
            f"mandatet slutar {end.isoformat()} före sin början {start.isoformat()}; "
            "ange ett slut efter början"
        )
    return start, end


def parse_member_role(role: str) -> MemberRole:
    return parse_choice(MemberRole, role, "uppdrag")


def _sort_key(member: OrganMember, person: Person) -> tuple[int, int, str]:
    order = list(MemberRole)
    return (order.index(MemberRole(member.role)), member.position or 0, person.name)


def member_rows(session: Session, organ: Organ) -> list[tuple[OrganMember, Person]]:
    """Every uppdrag of the organ with its person (deactivated too), in roster order."""
    rows = session.exec(
        select(OrganMember, Person)
        .join(Person, col(OrganMember.person_id) == col(Person.id))
        .where(OrganMember.organ_id == organ.id)
    ).all()
    return sorted(((m, p) for m, p in rows), key=lambda mp: _sort_key(*mp))


def members(session: Session, organ: Organ) -> list[tuple[Person, str]]:
    """The organ's active members with their role: ordförande first, ersättare in order."""
    return [(p, m.role) for m, p in member_rows(session, organ) if p.deactivated_at is None]


def chair_of(session: Session, organ: Organ) -> Person | None:
    return next((p for p, r in members(session, organ) if r == MemberRole.ORDFORANDE), None)


@dataclass(frozen=True)
class Uppdrag:
    """What a membership should be: role, ersättare order, party and mandate."""

    role: MemberRole
    order: int | None = None
    party: Party | None = None
    mandate_from: date | None = None
    mandate_to: date | None = None


def _member_data(session: Session, member: OrganMember) -> dict[str, object]:
    party = session.get(Party, member.party_id) if member.party_id else None
    return {
        "role": member.role,
        "order": member.position,
        "party": party.name if party else None,
        "mandate_from": member.mandate_from,
        "mandate_to": member.mandate_to,
    }


def set_member_in(edit: Edit, organ: Organ, person: Person, wanted: Uppdrag) -> bool:
    """Add the person to the organ, or change their uppdrag; one event when it changed."""
    session = edit.session
    if wanted.order is not None and wanted.role != MemberRole.ERSATTARE:
        raise BadInput("ordningen (--order) gäller bara ersättare")
    if wanted.order is not None and wanted.order < 1:
        raise BadInput(f"ersättarordningen {wanted.order} ska vara 1 eller mer")
    check_mandate(wanted.mandate_from, wanted.mandate_to)
    member = session.get(OrganMember, (organ.id, person.id))
    before = None if member is None else _member_data(session, member)
    if member is None:
        member = OrganMember(organ_id=organ.id, person_id=person.id, role=wanted.role.value)  # type: ignore[arg-type]
    order = wanted.order
    if wanted.role == MemberRole.ERSATTARE and order is None:
        if before is not None and before["role"] == MemberRole.ERSATTARE:
            order = member.position  # an ersättare keeps their place (none, if never given)
        else:
            taken = [
                m.position or 0 for m, _ in member_rows(session, organ) if m.role == "ersattare"
            ]
            order = max(taken, default=0) + 1
    member.role = wanted.role.value
    member.position = order
    # The person's own party is kept as "none given", so it follows the person.
    party_id = wanted.party.id if wanted.party else None
    member.party_id = None if party_id == person.party_id else party_id
    member.mandate_from, member.mandate_to = wanted.mandate_from, wanted.mandate_to
    after = _member_data(session, member)
    if after == before:
        return False
    session.add(member)
    label = MEMBER_ROLE_LABELS[wanted.role] + (f" {order}" if order else "")
    said = (
        f"{organ.name}: {person.name} tillagd som {label}"
        if before is None
        else f"{organ.name}: {person.name} har nu uppdraget {label}" + _changed_text(before, after)
    )
    edit.record(
        kind="organ_member",
        row_id=organ.id,  # type: ignore[arg-type]
        ref=f"{organ.name}: {person.email}",
        trigger="lagg_till_ledamot" if before is None else "andra_uppdrag",
        from_state=None if before is None else str(before["role"]),
        to_state=member.role,
        said=said,
        data={"person": person.email, "before": before, "after": after},
    )
    return True


def _changed_text(before: dict[str, object], after: dict[str, object]) -> str:
    labels = {"party": "part", "mandate_from": "mandat från", "mandate_to": "mandat till"}
    changed = [
        f"{label} {before[key] or '–'} → {after[key] or '–'}"
        for key, label in labels.items()
        if before[key] != after[key]
    ]
    return f" ({', '.join(changed)})" if changed else ""


def remove_member_in(edit: Edit, organ: Organ, person: Person) -> bool:
    member = edit.session.get(OrganMember, (organ.id, person.id))
    if member is None:
        return False
    before = _member_data(edit.session, member)
    edit.session.delete(member)
    edit.record(
        kind="organ_member",
        row_id=organ.id,  # type: ignore[arg-type]
        ref=f"{organ.name}: {person.email}",
        trigger="ta_bort_ledamot",
        from_state=member.role,
        to_state="borttagen",
        said=f"{organ.name}: {person.name} är inte längre "
        f"{MEMBER_ROLE_LABELS[MemberRole(member.role)]}",
        data={"person": person.email, "before": before},
    )
    return True
