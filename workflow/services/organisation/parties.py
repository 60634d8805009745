"""A förbund's parties (members): Försäkringskassan, Arbetsförmedlingen, regions, kommuner.

The kinds are the vocabulary's (PartyKind). For the rule that an insats needs two parties, all
kommuner count as one; that rule lives with the other conditions (workflow/conditions.py).
A party is never deleted: insatser, budget frames and people refer to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from workflow.errors import BadInput, NotFound
from workflow.models import ForbundRef, Party
from workflow.services.organisation.edits import Edit, open_edit
from workflow.services.organisation.forbund import resolve_forbund
from workflow.text_guard import check_one_line
from workflow.vocabulary import PARTY_KIND_LABELS, PartyKind, parse_choice

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

SUBJECT = "party"


@dataclass(frozen=True)
class PartyView:
    id: int
    name: str
    kind: str
    kind_label: str


def party_view(party: Party) -> PartyView:
    return PartyView(
        party.id,  # type: ignore[arg-type]
        party.name,
        party.kind,
        PARTY_KIND_LABELS[PartyKind(party.kind)],
    )


def check_party_name(name: str) -> str:
    return check_one_line(name, "partens namn")


def parse_party_kind(kind: str) -> PartyKind:
    return parse_choice(PartyKind, kind, "partstyp")


def add_party(session: Session, forbund: ForbundRef, *, kind: str, name: str) -> Party:
    """A new party, unaudited: for callers that record the change themselves (and tests)."""
    name = check_party_name(name)
    if _by_name(session, forbund, name) is not None:
        raise BadInput(f"förbundet {forbund.slug} har redan en part som heter {name!r}")
    party = Party(
        forbund_id=forbund.id,  # type: ignore[arg-type]
        kind=parse_party_kind(kind).value,
        name=name,
    )
    session.add(party)
    session.flush()
    return party


def list_parties(session: Session, forbund: ForbundRef) -> list[Party]:
    return list(
        session.exec(select(Party).where(Party.forbund_id == forbund.id).order_by(col(Party.id)))
    )


def _by_name(session: Session, forbund: ForbundRef, name: str) -> Party | None:
    return session.exec(
        select(Party).where(Party.forbund_id == forbund.id, Party.name == name.strip())
    ).first()


def find_party(session: Session, forbund: ForbundRef, name: str) -> Party:
    party = _by_name(session, forbund, name)
    if party is None:
        known = ", ".join(p.name for p in list_parties(session, forbund)) or "inga"
        raise NotFound(f"förbundet {forbund.slug} har ingen part {name!r}; parter: {known}")
    return party


# -- audited changes ------------------------------------------------------------------------


def create_party_in(edit: Edit, *, kind: str, name: str) -> Party:
    party = add_party(edit.session, edit.forbund, kind=kind, name=name)
    edit.record(
        kind=SUBJECT,
        row_id=party.id,  # type: ignore[arg-type]
        ref=party.name,
        trigger="lagg_till_part",
        to_state="aktiv",
        said=f"part {party.name} tillagd ({PARTY_KIND_LABELS[PartyKind(party.kind)]})",
        data={"name": party.name, "kind": party.kind},
    )
    return party


def update_party_in(
    edit: Edit, party: Party, *, name: str | None = None, kind: str | None = None
) -> bool:
    """Rename the party or change its kind; one event when anything changed."""
    before = {"name": party.name, "kind": party.kind}
    if name is not None:
        name = check_party_name(name)
        other = _by_name(edit.session, edit.forbund, name)
        if other is not None and other.id != party.id:
            raise BadInput(f"förbundet {edit.forbund.slug} har redan en part som heter {name!r}")
        party.name = name
    if kind is not None:
        party.kind = parse_party_kind(kind).value
    after = {"name": party.name, "kind": party.kind}
    if after == before:
        return False
    edit.session.add(party)
    changes = []
    if after["name"] != before["name"]:
        changes.append(f"heter nu {party.name}")
    if after["kind"] != before["kind"]:
        changes.append(f"är nu av typen {PARTY_KIND_LABELS[PartyKind(party.kind)]}")
    edit.record(
        kind=SUBJECT,
        row_id=party.id,  # type: ignore[arg-type]
        ref=party.name,
        trigger="andra_part",
        from_state="aktiv",
        to_state="aktiv",
        said=f"part {before['name']} {' och '.join(changes)}",
        data={"before": before, "after": after},
    )
    return True


def create_party(
    app: App, *, actor_email: str, kind: str, name: str, forbund: str | None = None
) -> PartyView:
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        return party_view(create_party_in(edit, kind=kind, name=name))


def rename_party(
    app: App, *, actor_email: str, name: str, new_name: str, forbund: str | None = None
) -> PartyView:
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        party = find_party(session, edit.forbund, name)
        if not update_party_in(edit, party, name=new_name):
            raise BadInput(f"parten heter redan {party.name!r}; inget att ändra")
        return party_view(party)


def party_by_id(session: Session, forbund: ForbundRef, party_id: int) -> Party:
    """The party with this id, only in this förbund (another förbund's is not found)."""
    party = session.get(Party, party_id)
    if party is None or party.forbund_id != forbund.id:
        raise NotFound(f"förbundet {forbund.slug} har ingen part med nummer {party_id}")
    return party


def get_party(app: App, *, party_id: int, forbund: str | None = None) -> PartyView:
    with app.db.reading() as session:
        return party_view(party_by_id(session, resolve_forbund(session, forbund), party_id))


def update_party(
    app: App,
    *,
    actor_email: str,
    party_id: int,
    name: str | None = None,
    kind: str | None = None,
    forbund: str | None = None,
) -> PartyView:
    """Rename a party or change its kind, in one event."""
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        party = party_by_id(session, edit.forbund, party_id)
        if not update_party_in(edit, party, name=name, kind=kind):
            raise BadInput(f"parten {party.name} är redan så; inget att ändra")
        return party_view(party)


def parties(app: App, forbund: str | None = None) -> list[PartyView]:
    """The förbund's parties in the order they were added."""
    with app.db.reading() as session:
        return [party_view(p) for p in list_parties(session, resolve_forbund(session, forbund))]
