"""Server-side web sessions: the browser holds a random token, the database its SHA-256.

A session ends at logout, after `session_idle_minutes` without a request, at the latest
`session_absolute_minutes` after login, and at once when the person is deactivated (the
lookup refuses a deactivated person and `end_sessions_of` removes their rows). Several
processes share the rows, so a login made through one is valid on every other.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, delete, update
from sqlalchemy import select as core_select
from sqlmodel import Session

from workflow.clock import as_utc
from workflow.models import Forbund, Person, PersonRole, WebSession
from workflow.vocabulary import Role

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

# last_seen_at is written at most this often: a page view is then (almost always) read-only.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    """The person behind a request, as every web route and API endpoint sees them."""

    person_id: int
    forbund_id: int
    forbund_slug: str
    email: str
    name: str
    roles: frozenset[Role]
    forbund_name: str = ""

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


_S = WebSession.__table__  # type: ignore[attr-defined]
_P = Person.__table__  # type: ignore[attr-defined]
_F = Forbund.__table__  # type: ignore[attr-defined]
_R = PersonRole.__table__  # type: ignore[attr-defined]


def credential_lookup(credential: Any, person_id: Any, *columns: Any) -> Select[Any]:
    """A credential row (a web session, an API token) with its person, förbund and roles: one
    row per role. The caller adds its own columns and the WHERE on its hash."""
    return core_select(
        *columns,
        person_id.label("person_id"),
        _P.c.forbund_id,
        _P.c.email,
        _P.c.name,
        _P.c.deactivated_at,
        _F.c.slug,
        _F.c.name.label("forbund_name"),
        _R.c.role,
    ).select_from(
        credential.join(_P, _P.c.id == person_id)
        .join(_F, _F.c.id == _P.c.forbund_id)
        .outerjoin(_R, _R.c.person_id == _P.c.id)
    )


def principal_from(rows: Sequence[Any]) -> Principal:
    """The Principal of credential_lookup's rows (at least one)."""
    first = rows[0]
    return Principal(
        person_id=first.person_id,
        forbund_id=first.forbund_id,
        forbund_slug=first.slug,
        email=first.email,
        name=first.name,
        roles=_roles(row.role for row in rows if row.role is not None),
        forbund_name=first.forbund_name,
    )


_LOOKUP = credential_lookup(
    _S, _S.c.person_id, _S.c.created_at, _S.c.last_seen_at, _S.c.expires_at
).where(_S.c.id_hash == bindparam("id_hash"))


def principal_of(session: Session, person_id: int) -> Principal:
    """The Principal of an (active) person, read fresh."""
    person = session.get(Person, person_id)
    assert person is not None and person.id is not None
    forbund = session.get(Forbund, person.forbund_id)
    assert forbund is not None
    roles = (
        session.connection()
        .execute(core_select(_R.c.role).where(_R.c.person_id == person_id))
        .scalars()
    )
    return Principal(
        person_id=person.id,
        forbund_id=person.forbund_id,
        forbund_slug=forbund.slug,
        email=person.email,
        name=person.name,
        roles=_roles(roles),
        forbund_name=forbund.name,
    )


def _roles(values: object) -> frozenset[Role]:
    known = {role.value for role in Role}
    return frozenset(Role(value) for value in values if value in known)  # type: ignore[attr-defined]


def create_session(
    app: App, session: Session, person_id: int, now: datetime, *, method: str = "password"
) -> str:
    """A new session for the person (in the caller's transaction); returns the cookie's token.

    Always a new token: a login never reuses an id the browser had before (session fixation).
    """
    token = new_token()
    web = app.settings.web
    session.add(
        WebSession(
            id_hash=token_hash(token),
            person_id=person_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(minutes=web.session_absolute_minutes),
            method=method,
        )
    )
    session.flush()
    return token


def lookup_session(app: App, token: str | None) -> Principal | None:
    """The person whose live session `token` is, or None (unknown, timed out, deactivated).

    Steps: read the session with its person, förbund and roles in one query; a session past
    either timeout, or of a deactivated person, is removed; a live one is touched at most
    once a minute.
    """
    if not token:
        return None
    id_hash = token_hash(token)
    now = app.clock()
    with app.db.reading() as session:
        rows = session.connection().execute(_LOOKUP, {"id_hash": id_hash}).all()
    if not rows:
        return None
    first = rows[0]
    idle = timedelta(minutes=app.settings.web.session_idle_minutes)
    last_seen = as_utc(first.last_seen_at)
    if first.deactivated_at is not None:
        with app.db.transaction() as session:
            end_sessions_of(session, first.person_id)
        return None
    if now >= as_utc(first.expires_at) or now >= last_seen + idle:
        with app.db.transaction() as session:
            session.connection().execute(delete(_S).where(_S.c.id_hash == id_hash))
        return None
    if now - last_seen >= TOUCH_EVERY:
        with app.db.transaction() as session:
            session.connection().execute(
                update(_S).where(_S.c.id_hash == id_hash).values(last_seen_at=now)
            )
    return principal_from(rows)


def end_session(app: App, token: str | None) -> Principal | None:
    """End the session server side (logout); returns whose it was, None if it was not live."""
    if not token:
        return None
    principal = lookup_session(app, token)
    with app.db.transaction() as session:
        session.connection().execute(delete(_S).where(_S.c.id_hash == token_hash(token)))
    return principal


def end_sessions_of(session: Session, person_id: int) -> int:
    """End every session of the person (deactivation, a new password); how many ended."""
    result = session.connection().execute(delete(_S).where(_S.c.person_id == person_id))
    return int(result.rowcount or 0)
