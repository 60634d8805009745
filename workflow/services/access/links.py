"""One-time password links: asked for with an e-mail address, sent through the outbox.

The answer to the asker is the same whether or not the address has an account (the page says
"if the address is ours, a link is on its way"). The link works once, for
`web.password_link_minutes`; using it sets the password, ends the person's sessions and
forgets the account's failed logins (passwords.set_password does the same from the CLI).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from workflow.clock import as_utc
from workflow.errors import NotFound
from workflow.models import Forbund, PasswordLink, Person
from workflow.services.access import events, passwords, sessions, throttle
from workflow.services.reminders import outbox

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

SKICKA_LANK = events.SKICKA_LOSENORDSLANK
TEMPLATE = "losenordslank"
# At most one link per person this often: the form cannot be used to flood someone's inbox.
RESEND_AFTER = timedelta(minutes=2)

_F = Forbund.__table__  # type: ignore[attr-defined]
_P = Person.__table__  # type: ignore[attr-defined]
_L = PasswordLink.__table__  # type: ignore[attr-defined]

LINK_INVALID = (
    "länken för att välja nytt lösenord gäller inte längre (den är använd eller för gammal); "
    "be om en ny länk"
)


def request_link(app: App, *, email: str, address: str) -> None:
    """Send a password link to every active person with this e-mail (one per förbund)."""
    now = app.clock()
    account = email.strip().lower()
    minutes = app.settings.web.password_link_minutes
    assert app.notifications is not None
    with app.db.transaction() as session:
        people = session.execute(
            select(Person, _F.c.name)
            .join(_F, _F.c.id == _P.c.forbund_id)
            .where(_P.c.email == account, _P.c.deactivated_at.is_(None))
        ).all()
        for person, forbund_name in people:
            recent = session.execute(
                select(_L.c.created_at)
                .where(_L.c.person_id == person.id)
                .order_by(_L.c.created_at.desc())
                .limit(1)
            ).scalar_one_or_none()
            if recent is not None and now - as_utc(recent) < RESEND_AFTER:
                continue
            token = sessions.new_token()
            session.add(
                PasswordLink(
                    token_hash=sessions.token_hash(token),
                    person_id=person.id,
                    created_at=now,
                    expires_at=now + timedelta(minutes=minutes),
                )
            )
            url = f"{app.settings.web.public_url.rstrip('/')}/nytt-losenord?nyckel={token}"
            rendered = app.notifications.templates.render(
                TEMPLATE,
                {
                    "forbund": {"name": forbund_name},
                    "recipient": {"name": person.name},
                    "link": {"url": url, "minutes": minutes},
                },
            )
            outbox.queue(
                session,
                app,
                forbund_id=person.forbund_id,
                kind=TEMPLATE,
                to_address=person.email,
                to_name=person.name,
                rendered=rendered,
                now=now,
            )
            events.record(
                session,
                forbund_id=person.forbund_id,
                person_id=person.id,  # type: ignore[arg-type]
                email=person.email,
                name=person.name,
                trigger=SKICKA_LANK,
                now=now,
                comment=f"länk för nytt lösenord skickad till {person.email}",
                data={"address": address},
            )


def _live_link(app: App, token: str, now: datetime) -> tuple[PasswordLink, Person]:
    with app.db.reading() as session:
        row = session.execute(
            select(PasswordLink, Person)
            .join(_P, _P.c.id == _L.c.person_id)
            .where(_L.c.token_hash == sessions.token_hash(token))
        ).first()
    if row is None:
        raise NotFound(LINK_INVALID)
    link, person = row
    if link.used_at is not None or now >= as_utc(link.expires_at) or person.deactivated_at:
        raise NotFound(LINK_INVALID)
    return link, person


def check_link(app: App, token: str) -> str:
    """The name of the person the (live) link is for; NotFound when it no longer works."""
    _, person = _live_link(app, token, app.clock())
    return person.name


def use_link(app: App, *, token: str, password: str) -> str:
    """Set the password through the link (once); returns the person's e-mail."""
    passwords.check_new_password(password)
    hashed = passwords.hash_password(password, app)
    now = app.clock()
    link, person = _live_link(app, token, now)
    assert person.id is not None
    with app.db.transaction() as session:
        # Used once: the conditional update is the claim (two tabs cannot both use it).
        claimed = session.connection().execute(
            update(_L)
            .where(_L.c.token_hash == link.token_hash, _L.c.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:
            raise NotFound(LINK_INVALID)
        passwords.store(session, person.id, hashed, now)
        sessions.end_sessions_of(session, person.id)
        throttle.forget_account(session, person.email)
        events.record(
            session,
            forbund_id=person.forbund_id,
            person_id=person.id,
            email=person.email,
            name=person.name,
            trigger=events.BYT_LOSENORD,
            now=now,
            comment=f"{person.name} valde nytt lösenord med en länk",
        )
    return person.email
