"""Where a person's change starts: the förbund, its audit chain held, the person acting.

Every change of a förbund's records takes the chain head's lock first, so that what it reads
next cannot change under it (services/cases/audit.py). The förbund, its chain head and the actor
with their roles are read here in one query, because every change of every case pays for
this step (bench/lifecycle.py); the separate lookups remain for the cases one query cannot
answer (no förbund named, a förbund without a chain head yet, an unknown name).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlmodel import Session

from workflow.models import AuditChain, Forbund, ForbundRow, Person, PersonRole
from workflow.services.cases import audit
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor, find_actor, refuse_deactivated

_FORBUND = Forbund.__table__  # type: ignore[attr-defined]
_CHAIN = AuditChain.__table__  # type: ignore[attr-defined]
_PERSON = Person.__table__  # type: ignore[attr-defined]
_ROLE = PersonRole.__table__  # type: ignore[attr-defined]

# One row per role of the person (one row with empty person columns if there is no such
# person). On PostgreSQL only the chain head is locked; on SQLite the writing transaction
# already holds the database's write lock (db.py).
_OPEN = (
    select(
        _FORBUND.c.id,
        _FORBUND.c.slug,
        _FORBUND.c.name,
        _FORBUND.c.dnr_pattern,
        _CHAIN.c.seq,
        _CHAIN.c.head_hash,
        _PERSON.c.id.label("person_id"),
        _PERSON.c.name.label("person_name"),
        _PERSON.c.email.label("person_email"),
        _PERSON.c.deactivated_at.label("person_deactivated_at"),
        _ROLE.c.role,
    )
    .select_from(
        _FORBUND.join(_CHAIN, _CHAIN.c.forbund_id == _FORBUND.c.id)
        .outerjoin(
            _PERSON,
            (_PERSON.c.forbund_id == _FORBUND.c.id) & (_PERSON.c.email == bindparam("email")),
        )
        .outerjoin(_ROLE, _ROLE.c.person_id == _PERSON.c.id)
    )
    .where(_FORBUND.c.slug == bindparam("slug"))
    .with_for_update(of=_CHAIN)
)


class Change(NamedTuple):
    """Who changes what: the förbund, its audit chain head (held until commit), the actor.

    A tuple, so that a service can write `organisation, head, actor = begin_change(...)`.
    """

    forbund: ForbundRow
    head: audit.ChainHead
    actor: Actor


def begin_change(session: Session, forbund_slug: str | None, actor_email: str) -> Change:
    """Open a change by the person with this e-mail, in their förbund (resolve_forbund: the
    person's when they are in one förbund, else the one named, else the only one)."""
    email = actor_email.strip().lower()
    rows: Sequence[Any] = ()
    if forbund_slug:
        # The busy path: the person is in the förbund named, which is then the förbund
        # whichever rule decides.
        rows = session.connection().execute(_OPEN, {"slug": forbund_slug, "email": email}).all()
    if not rows or rows[0].person_id is None:
        # No förbund named, none with a chain head yet, or the person is not in the one named
        # (perhaps in another): the separate steps decide, say what is missing, or create the
        # head.
        forbund = resolve_forbund(session, forbund_slug, email)
        head = audit.lock_chain(session, forbund.id)
        return Change(forbund, head, find_actor(session, forbund, email))
    first = rows[0]
    forbund = ForbundRow(first.id, first.slug, first.name, first.dnr_pattern)
    head = audit.hold_chain(session, forbund.id, first.seq, first.head_hash)
    if first.person_deactivated_at is not None:
        refuse_deactivated(first.person_email, forbund, first.person_deactivated_at)
    roles = frozenset(row.role for row in rows if row.role is not None)
    return Change(
        forbund, head, Actor(first.person_id, first.person_name, first.person_email, roles)
    )
