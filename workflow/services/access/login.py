"""Login with e-mail and password: the same answer whether or not the account exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from workflow.clock import as_utc
from workflow.errors import NotPermitted
from workflow.models import Forbund, PasswordCredential, Person
from workflow.services.access import events, passwords, sessions, throttle

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

REFUSED = (
    "fel e-postadress eller lösenord; försök igen, eller be om en länk för att välja nytt lösenord"
)


class LoginRefused(NotPermitted):
    """Wrong e-mail or password, or an account that may not log in: never told apart."""

    http_status = 401


@dataclass(frozen=True)
class ForbundChoice:
    slug: str
    name: str


class ChooseForbund(Exception):
    """The password is right for accounts in several förbund (a board member from
    Försäkringskassan may sit in more than one): the person says which one this login is for.
    Raised only after the password was verified, so it tells nothing to someone without it."""

    def __init__(self, choices: list[ForbundChoice]) -> None:
        super().__init__("välj vilket förbund du vill logga in i")
        self.choices = choices


@dataclass(frozen=True)
class _Candidate:
    person_id: int
    forbund_id: int
    email: str
    name: str
    deactivated_at: datetime | None
    password_hash: str | None
    forbund_slug: str
    forbund_name: str


_P = Person.__table__  # type: ignore[attr-defined]
_C = PasswordCredential.__table__  # type: ignore[attr-defined]
_F = Forbund.__table__  # type: ignore[attr-defined]

# Everyone with the e-mail, in every förbund (an address is unique only within one).
_CANDIDATES = (
    core_select(
        _P.c.id,
        _P.c.forbund_id,
        _P.c.email,
        _P.c.name,
        _P.c.deactivated_at,
        _C.c.password_hash,
        _F.c.slug,
        _F.c.name,
    )
    .select_from(_P.outerjoin(_C, _C.c.person_id == _P.c.id).join(_F, _F.c.id == _P.c.forbund_id))
    .where(_P.c.email == bindparam("email"))
    .order_by(_P.c.forbund_id)
)


def login(app: App, *, email: str, password: str, address: str, forbund: str | None = None) -> str:
    """Check the password and open a session; returns the session token for the cookie.

    Steps: refuse while the account or address is throttled; verify the password against
    every person with the e-mail (an unknown one against a dummy hash, the same work); on
    failure count it and record `inloggning_nekad` for a known account; on success rehash if
    the parameters changed, clear the account's failures, open a new session and record
    `logga_in`. A deactivated person gets the same answer as a wrong password.

    `forbund` (a slug) limits the login to the account in that förbund. Without it, a
    password right for active accounts in several förbund raises ChooseForbund.
    """
    now = app.clock()
    account = email.strip().lower()
    throttle.check(app, account=account, address=address, now=now)
    with app.db.reading() as session:
        candidates = [
            _Candidate(*row)
            for row in session.connection().execute(_CANDIDATES, {"email": account}).all()
        ]
    if forbund is not None:
        candidates = [c for c in candidates if c.forbund_slug == forbund]
    matched = _matching(app, candidates, password)
    if matched is None or matched.deactivated_at is not None:
        with app.db.transaction() as session:
            throttle.record_failure(app, session, account=account, address=address, now=now)
            for candidate in candidates:
                events.record(
                    session,
                    forbund_id=candidate.forbund_id,
                    person_id=candidate.person_id,
                    email=candidate.email,
                    name=candidate.name,
                    trigger=events.INLOGGNING_NEKAD,
                    now=now,
                    comment=_why(candidate, matched),
                    data={"address": address},
                )
        raise LoginRefused(REFUSED)
    if forbund is None:
        others = [
            c
            for c in candidates
            if c is not matched
            and c.deactivated_at is None
            and passwords.verify(c.password_hash, password, app)
        ]
        if others:
            raise ChooseForbund(
                sorted(
                    (ForbundChoice(c.forbund_slug, c.forbund_name) for c in [matched, *others]),
                    key=lambda choice: choice.name,
                )
            )
    with app.db.transaction() as session:
        assert matched.password_hash is not None
        if passwords.needs_rehash(matched.password_hash, app):
            passwords.store(session, matched.person_id, passwords.hash_password(password, app), now)
        throttle.forget_account(session, account)
        return open_session_in(
            app, session, matched.person_id, method="password", address=address, now=now
        )


def open_session_for(app: App, person_id: int, *, method: str, address: str) -> str:
    """A login by other means (OpenID Connect): the person is known and active; opens the
    session and records `logga_in`. Returns the cookie's token."""
    with app.db.transaction() as session:
        return open_session_in(app, session, person_id, method=method, address=address)


def open_session_in(
    app: App,
    session: Session,
    person_id: int,
    *,
    method: str,
    address: str,
    now: datetime | None = None,
) -> str:
    """The session and its `logga_in` event, in the caller's transaction; refuses a
    deactivated person (LoginRefused)."""
    now = now or app.clock()
    person = session.get(Person, person_id)
    if person is None or person.deactivated_at is not None:
        raise LoginRefused(REFUSED)
    token = sessions.create_session(app, session, person_id, now, method=method)
    events.record(
        session,
        forbund_id=person.forbund_id,
        person_id=person_id,
        email=person.email,
        name=person.name,
        trigger=events.LOGGA_IN,
        now=now,
        comment=f"{person.name} loggade in",
        data={"address": address, "method": method},
    )
    return token


def _matching(app: App, candidates: list[_Candidate], password: str) -> _Candidate | None:
    if not candidates:
        passwords.verify(None, password, app)
        return None
    for candidate in candidates:
        if passwords.verify(candidate.password_hash, password, app):
            return candidate
    return None


def _why(candidate: _Candidate, matched: _Candidate | None) -> str:
    if matched is candidate and candidate.deactivated_at is not None:
        day = as_utc(candidate.deactivated_at).date().isoformat()
        return f"inloggning nekad: {candidate.email} är inaktiverad sedan {day}"
    if candidate.password_hash is None:
        return f"inloggning nekad: {candidate.email} har inget lösenord"
    return f"inloggning nekad: fel lösenord för {candidate.email}"


def logout(app: App, token: str | None) -> sessions.Principal | None:
    """End the session on the server and record `logga_ut`; whose it was, if it was live."""
    principal = sessions.end_session(app, token)
    if principal is not None:
        with app.db.transaction() as session:
            events.record(
                session,
                forbund_id=principal.forbund_id,
                person_id=principal.person_id,
                email=principal.email,
                name=principal.name,
                trigger=events.LOGGA_UT,
                now=app.clock(),
                comment=f"{principal.name} loggade ut",
            )
    return principal
