"""The secret address of a person's calendar feed: made, renewed and revoked by its owner.

    made = renew_feed(app, email="x@y", forbund="akst")
    made.secret                 # "fsk_…": in the address /kalender/<secret>.ics, shown once
    feed_for_secret(app, made.secret) -> bytes | None   (the ICS, or None: answer 404)

A calendar program cannot log in, so the address itself is the key: a long random secret,
stored only as its SHA-256 (like the API tokens, services/access/tokens.py). Renewing makes a
new address and revokes the old one at once; a revoked address, or one of a deactivated
person, gives nothing. Each change is an access event in the owner's förbund.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import Session, col, select

from workflow.clock import as_utc, local
from workflow.models import Forbund, Person
from workflow.models.personal import CalendarFeed
from workflow.services.cases import audit
from workflow.services.organisation.people import Actor

if TYPE_CHECKING:
    from workflow.app import App

PREFIX = "fsk_"
SUBJECT = "access"
SKAPA = "skapa_kalenderadress"
ATERKALLA = "aterkalla_kalenderadress"
PATH = "/kalender/{token}.ics"
# last_used_at is written at most this often: calendar programs fetch a feed many times a day.
TOUCH_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class FeedView:
    """The person's current address as they see it in the account page: never the secret."""

    prefix: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class NewFeed:
    secret: str
    path: str
    url: str
    feed: FeedView


def feed_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def feed_path(secret: str) -> str:
    return PATH.replace("{token}", secret)


def _view(row: CalendarFeed, app: App) -> FeedView:
    zone = app.settings.zone
    return FeedView(
        prefix=row.prefix,
        created_at=local(row.created_at, zone),
        last_used_at=local(row.last_used_at, zone) if row.last_used_at else None,
    )


def _owner(session: Session, forbund: str | None, email: str) -> tuple[Forbund, Person]:
    from workflow.services.access.tokens import _owner as token_owner

    return token_owner(session, forbund, email)


def _active(session: Session, person_id: int) -> list[CalendarFeed]:
    return list(
        session.exec(
            select(CalendarFeed)
            .where(CalendarFeed.person_id == person_id, col(CalendarFeed.revoked_at).is_(None))
            .order_by(col(CalendarFeed.id))
        ).all()
    )


def _record(
    session: Session, forbund: Forbund, person: Person, trigger: str, now: datetime, comment: str
) -> None:
    head = audit.lock_chain(session, forbund.id)  # type: ignore[arg-type]
    audit.append(
        session,
        head,
        subject_kind=SUBJECT,
        subject_id=person.id,  # type: ignore[arg-type]
        subject_ref=person.email[:60],
        from_state=None,
        to_state="kalenderadress" if trigger == SKAPA else "aterkallad",
        trigger=trigger,
        actor=Actor(person.id, person.name, person.email, frozenset()),  # type: ignore[arg-type]
        at=now,
        comment=comment,
    )


def current_feed(app: App, *, email: str, forbund: str | None = None) -> FeedView | None:
    """The person's live address (its first characters and dates), or None."""
    with app.db.reading() as session:
        _, person = _owner(session, forbund, email)
        active = _active(session, person.id)  # type: ignore[arg-type]
        return _view(active[-1], app) if active else None


def renew_feed(app: App, *, email: str, forbund: str | None = None) -> NewFeed:
    """A new address for the person's feed; any earlier one stops working now."""
    now = app.clock()
    secret = PREFIX + secrets.token_urlsafe(32)
    with app.db.transaction() as session:
        organisation, person = _owner(session, forbund, email)
        earlier = _active(session, person.id)  # type: ignore[arg-type]
        for row in earlier:
            row.revoked_at = now
            session.add(row)
        row = CalendarFeed(
            person_id=person.id,  # type: ignore[arg-type]
            token_hash=feed_hash(secret),
            prefix=secret[: len(PREFIX) + 6],
            created_at=now,
        )
        session.add(row)
        session.flush()
        _record(
            session,
            organisation,
            person,
            SKAPA,
            now,
            f"{'Ny' if earlier else 'Första'} kalenderadress för {person.name}"
            + (" (den tidigare slutade gälla)" if earlier else ""),
        )
        path = feed_path(secret)
        url = app.settings.web.public_url.rstrip("/") + path
        return NewFeed(secret, path, url, _view(row, app))


def revoke_feed(app: App, *, email: str, forbund: str | None = None) -> bool:
    """Stop the person's address (no new one); False when there was none."""
    now = app.clock()
    with app.db.transaction() as session:
        organisation, person = _owner(session, forbund, email)
        earlier = _active(session, person.id)  # type: ignore[arg-type]
        if not earlier:
            return False
        for row in earlier:
            row.revoked_at = now
            session.add(row)
        session.flush()
        _record(
            session,
            organisation,
            person,
            ATERKALLA,
            now,
            f"Kalenderadress stängd för {person.name}",
        )
        return True


def feed_for_secret(app: App, secret: str | None) -> bytes | None:
    """The ICS of the live address `secret`, or None (unknown, revoked, owner deactivated)."""
    from workflow.services.calendar.feed import events_for, to_ical

    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    now = app.clock()
    with app.db.reading() as session:
        found = session.exec(
            select(CalendarFeed, Person, Forbund)
            .join(Person, col(Person.id) == col(CalendarFeed.person_id))
            .join(Forbund, col(Forbund.id) == col(Person.forbund_id))
            .where(CalendarFeed.token_hash == feed_hash(secret))
        ).first()
        if found is None:
            return None
        row, person, forbund = found
        if row.revoked_at is not None or person.deactivated_at is not None:
            return None
        body = to_ical(app, forbund, person, events_for(app, session, forbund, person))
    if row.last_used_at is None or now - as_utc(row.last_used_at) >= TOUCH_EVERY:
        with app.db.transaction() as session:
            session.execute(
                update(CalendarFeed).where(col(CalendarFeed.id) == row.id).values(last_used_at=now)
            )
    return body
