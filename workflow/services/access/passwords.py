"""Local passwords: argon2id hashes, checked in constant work, rehashed when parameters change."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session

from workflow.errors import BadInput
from workflow.models import PasswordCredential

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

# argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, 64 MiB, 3 passes); the
# deployment's [web.password_hash] (workflow/settings.py) holds the same by default. When the
# parameters change, the next login rehashes (`needs_rehash`).
HASHER = PasswordHasher()

MIN_LENGTH = 10
MAX_LENGTH = 200


@functools.cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher(app: App | None = None) -> PasswordHasher:
    """The hasher of the app's settings (argon2-cffi's defaults without an app)."""
    if app is None:
        return HASHER
    cost = app.settings.web.password_hash
    return _hasher(cost.time_cost, cost.memory_cost, cost.parallelism)


@functools.cache
def _dummy_hash(chosen: PasswordHasher) -> str:
    # Verified against when no account has the e-mail given, so that an unknown account costs
    # the same work as a wrong password and the two cannot be told apart by time. Made at the
    # first login, not at import: a command that checks no password pays nothing for it.
    return chosen.hash("ingen sådan person finns")


def check_new_password(password: str) -> str:
    """A password long enough to resist guessing; one Swedish line otherwise."""
    if len(password) < MIN_LENGTH:
        raise BadInput(f"lösenordet är för kort; välj minst {MIN_LENGTH} tecken")
    if len(password) > MAX_LENGTH:
        raise BadInput(f"lösenordet är för långt; högst {MAX_LENGTH} tecken")
    if password.strip() != password or not password.isprintable():
        raise BadInput("lösenordet får inte börja eller sluta med mellanslag eller ha styrtecken")
    return password


def hash_password(password: str, app: App | None = None) -> str:
    return hasher(app).hash(password)


def verify(password_hash: str | None, password: str, app: App | None = None) -> bool:
    """Whether `password` matches; None (no credential) is checked against a dummy hash."""
    chosen = hasher(app)
    try:
        return (
            chosen.verify(password_hash or _dummy_hash(chosen), password)
            and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, app: App | None = None) -> bool:
    return hasher(app).check_needs_rehash(password_hash)


def store(session: Session, person_id: int, password_hash: str, now: datetime) -> None:
    """Set the person's password hash (new or replacing the old one)."""
    credential = session.get(PasswordCredential, person_id)
    if credential is None:
        credential = PasswordCredential(
            person_id=person_id, password_hash=password_hash, updated_at=now
        )
    else:
        credential.password_hash = password_hash
        credential.updated_at = now
    session.add(credential)
    session.flush()


def set_password(
    app: App, *, email: str, password: str, forbund: str | None = None, by: str | None = None
) -> str:
    """Give the person a new password (from the CLI or a password link); returns their name.

    The person's other sessions end (whoever knew the old password is logged out), the
    account's failed logins are forgotten, and the change is an access event (the password
    itself never is). `by` names an operator who set it for the person.
    """
    from workflow.services.access import events, sessions, throttle
    from workflow.services.organisation.forbund import resolve_forbund
    from workflow.services.organisation.people import find_person, refuse_deactivated

    check_new_password(password)
    hashed = hash_password(password, app)
    now = app.clock()
    with app.db.transaction() as session:
        organisation = resolve_forbund(session, forbund, email)
        person = find_person(session, organisation, email)
        assert person.id is not None
        if person.deactivated_at is not None:
            refuse_deactivated(person.email, organisation, person.deactivated_at)
        store(session, person.id, hashed, now)
        sessions.end_sessions_of(session, person.id)
        throttle.forget_account(session, person.email)
        events.record(
            session,
            forbund_id=organisation.id,
            person_id=person.id,
            email=person.email,
            name=person.name,
            trigger=events.BYT_LOSENORD,
            now=now,
            comment=f"nytt lösenord för {person.name}" + (f" satt av {by}" if by else ""),
            by=by,
        )
        return person.name
