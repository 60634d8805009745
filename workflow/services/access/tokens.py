"""Personal API tokens: made and revoked by their owner, stored as SHA-256, shown once.

    made = create_token(app, email="x@y", name="skript", forbund="akst")
    made.secret          # "fsm_…": shown to the owner once, never stored
    authenticate(app, made.secret) -> Principal | None

A request with `Authorization: Bearer <token>` acts as the token's owner, with exactly
their roles and rights. A revoked or expired token, or one of a deactivated person, lets
nobody in (401). Making and revoking a token are access events in the owner's förbund.
Like sessions, the rows are shared by every `finsam serve` process on the database.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from workflow.clock import as_utc, local
from workflow.errors import BadInput, NotFound
from workflow.models import Forbund, Person, PersonRole
from workflow.models.api_access import ApiToken
from workflow.services.access.sessions import Principal, credential_lookup, principal_from
from workflow.services.cases import audit
from workflow.services.organisation.people import Actor
from workflow.text_guard import check_one_line

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

PREFIX = "fsm_"
SUBJECT = "access"
SKAPA = "skapa_api_nyckel"
ATERKALLA = "aterkalla_api_nyckel"
MAX_ACTIVE = 20
# last_used_at is written at most this often: most API requests only read their token.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class TokenView:
    """A token as its owner sees it in a list: never the secret."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


@dataclass(frozen=True)
class NewToken:
    secret: str
    token: TokenView


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _view(row: ApiToken, app: App, now: datetime) -> TokenView:
    zone = app.settings.zone

    def shown(value: datetime | None) -> datetime | None:
        return local(value, zone) if value is not None else None

    expired = row.expires_at is not None and as_utc(row.expires_at) <= now
    return TokenView(
        id=row.id,  # type: ignore[arg-type]
        name=row.name,
        prefix=row.prefix,
        created_at=local(row.created_at, zone),
        last_used_at=shown(row.last_used_at),
        expires_at=shown(row.expires_at),
        revoked_at=shown(row.revoked_at),
        active=row.revoked_at is None and not expired,
    )


def _owner(session: Session, forbund: str | None, email: str) -> tuple[Forbund, Person]:
    from workflow.services.organisation.forbund import resolve_forbund
    from workflow.services.organisation.people import find_person, refuse_deactivated

    organisation = resolve_forbund(session, forbund, email)
    person = find_person(session, organisation, email)
    if person.deactivated_at is not None:
        refuse_deactivated(person.email, organisation, person.deactivated_at)
    found = session.get(Forbund, organisation.id)
    assert found is not None
    return found, person


def _record(
    session: Session,
    forbund: Forbund,
    person: Person,
    trigger: str,
    now: datetime,
    comment: str,
    data: dict[str, object],
    by: str | None,
) -> None:
    head = audit.lock_chain(session, forbund.id)  # type: ignore[arg-type]
    audit.append(
        session,
        head,
        subject_kind=SUBJECT,
        subject_id=person.id,  # type: ignore[arg-type]
        subject_ref=person.email[:60],
        from_state=None,
        to_state="api_nyckel" if trigger == SKAPA else "aterkallad",
        trigger=trigger,
        actor=by if by is not None else Actor(person.id, person.name, person.email, frozenset()),  # type: ignore[arg-type]
        at=now,
        comment=comment,
        data=data,
    )


def _active(session: Session, person_id: int, now: datetime) -> list[ApiToken]:
    rows = session.exec(
        select(ApiToken)
        .where(ApiToken.person_id == person_id, col(ApiToken.revoked_at).is_(None))
        .order_by(col(ApiToken.id))
    ).all()
    return [r for r in rows if r.expires_at is None or as_utc(r.expires_at) > now]


def create_token(
    app: App,
    *,
    email: str,
    name: str,
    forbund: str | None = None,
    expires_at: datetime | None = None,
    by: str | None = None,
) -> NewToken:
    """A new token for the person; the secret is in the answer and nowhere else.

    The name is the owner's own (which script or program holds it), unique among their
    active tokens; `expires_at` (optional) must lie in the future. `by` names an operator
    who made it for the person (the CLI)."""
    name = name.strip()
    if not name:
        raise BadInput("ange ett namn på nyckeln (t.ex. --name rapportskript)")
    name = check_one_line(name, "nyckelns namn", max_length=100)
    now = app.clock()
    if expires_at is not None and as_utc(expires_at) <= now:
        raise BadInput("nyckelns slutdatum har redan passerat; ange ett datum framåt i tiden")
    secret = PREFIX + secrets.token_urlsafe(32)
    with app.db.transaction() as session:
        organisation, person = _owner(session, forbund, email)
        active = _active(session, person.id, now)  # type: ignore[arg-type]
        if any(t.name.casefold() == name.casefold() for t in active):
            raise BadInput(
                f"{person.email} har redan en nyckel som heter {name!r}; välj ett annat namn "
                "eller återkalla den gamla"
            )
        if len(active) >= MAX_ACTIVE:
            raise BadInput(
                f"{person.email} har redan {MAX_ACTIVE} nycklar; återkalla någon innan du skapar fler"
            )
        row = ApiToken(
            person_id=person.id,  # type: ignore[arg-type]
            name=name,
            token_hash=token_hash(secret),
            prefix=secret[: len(PREFIX) + 6],
            created_at=now,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
        _record(
            session,
            organisation,
            person,
            SKAPA,
            now,
            f"API-nyckel {name!r} skapad för {person.name}" + (f" av {by}" if by else ""),
            {"token_id": row.id, "name": name},
            by,
        )
        return NewToken(secret, _view(row, app, now))


def list_tokens(app: App, *, email: str, forbund: str | None = None) -> list[TokenView]:
    """The person's tokens, newest first, revoked and expired ones too (marked)."""
    now = app.clock()
    with app.db.reading() as session:
        _, person = _owner(session, forbund, email)
        rows = session.exec(
            select(ApiToken)
            .where(ApiToken.person_id == person.id)
            .order_by(col(ApiToken.id).desc())
        ).all()
        return [_view(row, app, now) for row in rows]


def revoke_token(
    app: App, *, email: str, token: str | int, forbund: str | None = None, by: str | None = None
) -> TokenView:
    """Revoke one of the person's active tokens, named by its id or its name; from now on
    it lets nobody in."""
    now = app.clock()
    with app.db.transaction() as session:
        organisation, person = _owner(session, forbund, email)
        wanted = str(token).strip()
        found = next(
            (
                t
                for t in _active(session, person.id, now)  # type: ignore[arg-type]
                if str(t.id) == wanted or t.name.casefold() == wanted.casefold()
            ),
            None,
        )
        if found is None:
            raise NotFound(
                f"{person.email} har ingen aktiv nyckel {wanted!r}; se 'finsam people token list'"
            )
        found.revoked_at = now
        session.add(found)
        session.flush()
        _record(
            session,
            organisation,
            person,
            ATERKALLA,
            now,
            f"API-nyckel {found.name!r} återkallad för {person.name}" + (f" av {by}" if by else ""),
            {"token_id": found.id, "name": found.name},
            by,
        )
        return _view(found, app, now)


_T = ApiToken.__table__  # type: ignore[attr-defined]
_P = Person.__table__  # type: ignore[attr-defined]
_F = Forbund.__table__  # type: ignore[attr-defined]
_R = PersonRole.__table__  # type: ignore[attr-defined]

_LOOKUP = credential_lookup(
    _T, _T.c.person_id, _T.c.id, _T.c.last_used_at, _T.c.expires_at, _T.c.revoked_at
).where(_T.c.token_hash == bindparam("token_hash"))


def authenticate(app: App, secret: str | None) -> Principal | None:
    """The owner of a live token, or None (unknown, revoked, expired, owner deactivated).

    One query; `last_used_at` is written at most once a minute."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    now = app.clock()
    with app.db.reading() as session:
        rows = session.connection().execute(_LOOKUP, {"token_hash": token_hash(secret)}).all()
    if not rows:
        return None
    first = rows[0]
    if first.revoked_at is not None or first.deactivated_at is not None:
        return None
    if first.expires_at is not None and as_utc(first.expires_at) <= now:
        return None
    if first.last_used_at is None or now - as_utc(first.last_used_at) >= TOUCH_EVERY:
        with app.db.transaction() as session:
            session.connection().execute(
                update(_T).where(_T.c.id == first.id).values(last_used_at=now)
            )
    return principal_from(rows)
