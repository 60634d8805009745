"""Login through a förbund's OpenID provider: from the verified ID-token claims to a session.

The web (workflow/web/routes/oidc.py) runs the authorization-code flow with authlib (state,
nonce and PKCE checked there); this module decides who the claims are and opens the session
exactly as a password login does (`sessions.create_session`, event `logga_in`).

A personal identity number is never stored and never finds a person: a login whose mapping
value looks like one is refused, and the Sweden Connect claim is dropped unread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from workflow.clock import as_utc
from workflow.errors import NotPermitted
from workflow.models import Forbund, Person
from workflow.services.access import events, identities, sessions, throttle
from workflow.services.cases import audit
from workflow.settings import OidcSettings

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

REFUSED = (
    "inloggningen godtogs inte: kontot hos inloggningstjänsten hör inte till någon aktiv "
    "person i förbundet; be förbundets administratör om behörighet, eller logga in med lösenord"
)
PERSONAL_NUMBER_REFUSED = (
    "inloggningstjänsten skickade ett personnummer som identitet, och personnummer sparas "
    "aldrig; be förbundets administratör koppla ditt konto till e-post eller HSA-id"
)
# Who the event of a login nobody could be found for names as its actor.
UNKNOWN_ACTOR = "okänd inloggning"


class OidcLoginRefused(NotPermitted):
    """No active person for the identity, or an identity that may not be used."""

    http_status = 401


def provider_of(app: App, forbund: str) -> OidcSettings | None:
    """The förbund's OpenID provider from the settings, or None when it has none."""
    return app.settings.web.oidc.get(forbund)


@dataclass(frozen=True)
class _Found:
    person_id: int
    email: str
    name: str
    deactivated_at: datetime | None


_P = Person.__table__  # type: ignore[attr-defined]
_F = Forbund.__table__  # type: ignore[attr-defined]

_FORBUND_ID = core_select(_F.c.id).where(_F.c.slug == bindparam("slug"))
_PERSON_BY_EMAIL = core_select(_P.c.id, _P.c.email, _P.c.name, _P.c.deactivated_at).where(
    _P.c.forbund_id == bindparam("forbund_id"), _P.c.email == bindparam("email")
)
_PERSON_BY_ID = core_select(_P.c.id, _P.c.email, _P.c.name, _P.c.deactivated_at).where(
    _P.c.forbund_id == bindparam("forbund_id"), _P.c.id == bindparam("person_id")
)


def login_with_claims(app: App, *, forbund: str, claims: Mapping[str, Any], address: str) -> str:
    """Open a session for the person the verified claims are; returns the cookie's token.

    Steps: take the configured claim (e-mail or an identity such as sub or an HSA-id); refuse
    one shaped like a personnummer, recording only that it was one; find the person by
    e-mail in the förbund (an e-mail the provider marks unverified finds nobody) or by the
    linked identity; nobody, or a deactivated person, is refused with one answer and an
    `inloggning_nekad` event and counts as a failed login for the throttle (LoginThrottled
    once over its limit); otherwise a new session and `logga_in` (method oidc).
    """
    provider = provider_of(app, forbund)
    if provider is None:
        raise OidcLoginRefused(REFUSED)
    now = app.clock()
    raw = claims.get(provider.person_claim)
    value = raw.strip() if isinstance(raw, str) else ""
    if provider.by_email:
        value = value.lower()
        if claims.get("email_verified") is False:
            value = ""
    # Refused logins count as failed password logins do (per address, and per identity given):
    # an account at the provider that is nobody here cannot fill the chain with refusals.
    # (A personnummer given as the identity is never stored, not even as a throttle's key.)
    shown = "" if identities.looks_like_personal_number(value) else value[:120]
    account = f"oidc:{forbund}:{shown}"
    throttle.check(app, account=account, address=address, now=now)
    with app.db.reading() as session:
        forbund_id = session.connection().execute(_FORBUND_ID, {"slug": forbund}).scalar()
        found = _find(session, forbund_id, provider, value) if forbund_id is not None else None
    if forbund_id is None:
        raise OidcLoginRefused(REFUSED)
    if value and identities.looks_like_personal_number(value):
        with app.db.transaction() as session:
            throttle.record_failure(app, session, account=account, address=address, now=now)
            _record_unknown(
                session,
                forbund_id,
                provider,
                now,
                ref=None,
                comment="inloggning nekad: identiteten var ett personnummer och sparades inte",
                address=address,
            )
        raise OidcLoginRefused(PERSONAL_NUMBER_REFUSED)
    if found is None or found.deactivated_at is not None:
        with app.db.transaction() as session:
            throttle.record_failure(app, session, account=account, address=address, now=now)
            if found is None:
                _record_unknown(
                    session,
                    forbund_id,
                    provider,
                    now,
                    ref=value or None,
                    comment=_unknown_comment(provider, value),
                    address=address,
                )
            else:
                assert found.deactivated_at is not None
                day = as_utc(found.deactivated_at).date().isoformat()
                events.record(
                    session,
                    forbund_id=forbund_id,
                    person_id=found.person_id,
                    email=found.email,
                    name=found.name,
                    trigger=events.INLOGGNING_NEKAD,
                    now=now,
                    comment=f"inloggning nekad: {found.email} är inaktiverad sedan {day}",
                    data={"address": address, "method": "oidc", "issuer": provider.issuer},
                )
        raise OidcLoginRefused(REFUSED)
    with app.db.transaction() as session:
        token = sessions.create_session(app, session, found.person_id, now, method="oidc")
        events.record(
            session,
            forbund_id=forbund_id,
            person_id=found.person_id,
            email=found.email,
            name=found.name,
            trigger=events.LOGGA_IN,
            now=now,
            comment=f"{found.name} loggade in via {provider.issuer}",
            data={"address": address, "method": "oidc", "issuer": provider.issuer},
        )
    return token


def _find(session: Session, forbund_id: int, provider: OidcSettings, value: str) -> _Found | None:
    if not value or identities.looks_like_personal_number(value):
        return None
    connection = session.connection()
    if provider.by_email:
        row = connection.execute(
            _PERSON_BY_EMAIL, {"forbund_id": forbund_id, "email": value}
        ).first()
    else:
        person_id = identities.person_of(session, forbund_id, provider.issuer, value)
        if person_id is None:
            return None
        row = connection.execute(
            _PERSON_BY_ID, {"forbund_id": forbund_id, "person_id": person_id}
        ).first()
    return _Found(*row) if row is not None else None


def _unknown_comment(provider: OidcSettings, value: str) -> str:
    if not value:
        return f"inloggning nekad: {provider.issuer} gav inget {provider.person_claim}"
    what = "e-post" if provider.by_email else "identitet"
    return f"inloggning nekad: ingen person med {what} {value[:120]} i förbundet"


def _record_unknown(
    session: Session,
    forbund_id: int,
    provider: OidcSettings,
    now: datetime,
    *,
    ref: str | None,
    comment: str,
    address: str,
) -> None:
    """`inloggning_nekad` in the förbund's chain for a login that found no person (subject 0)."""
    head = audit.lock_chain(session, forbund_id)
    audit.append(
        session,
        head,
        subject_kind=events.SUBJECT,
        subject_id=0,
        subject_ref=ref[:60] if ref else None,
        from_state=None,
        to_state="nekad",
        trigger=events.INLOGGNING_NEKAD,
        actor=UNKNOWN_ACTOR,
        at=now,
        comment=comment,
        data={"address": address, "method": "oidc", "issuer": provider.issuer},
    )
