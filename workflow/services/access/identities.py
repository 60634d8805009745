"""Identities at an OpenID provider linked to a person (`finsam people identity`).

A förbund whose provider does not give a usable e-mail (or whose e-mail may change) maps a
login by the provider's subject or HSA-id instead: each person's identity is linked once.
A personal identity number is never an identity here: it is refused, never stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from workflow.errors import BadInput, Conflict
from workflow.models import PersonIdentity
from workflow.services.access import events
from workflow.services.cases import audit
from workflow.text_guard import contains_personnummer

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

KOPPLA_IDENTITET = "koppla_identitet"

PERSONAL_NUMBER_REFUSED = (
    "identiteten ser ut som ett personnummer, och personnummer sparas aldrig; koppla "
    "inloggningstjänstens subject eller HSA-id i stället"
)

# YYMMDD-NNNN or YYYYMMDDNNNN (with or without - or +): refused even when the check digit is
# wrong, since a mistyped personnummer is still one.
_NUMBER_SHAPED = re.compile(r"(?:19|20)?\d{2}(0[1-9]|1[0-2])(\d{2})[-+]?\d{4}")


def looks_like_personal_number(value: str) -> bool:
    """Whether `value` is, or carries, a personnummer or samordningsnummer."""
    text = value.strip()
    if contains_personnummer(text):
        return True
    shaped = _NUMBER_SHAPED.fullmatch(text)
    if shaped is None:
        return False
    day = int(shaped.group(2))
    return 1 <= day <= 31 or 61 <= day <= 91


def check_subject(subject: str) -> str:
    cleaned = subject.strip()
    if not cleaned:
        raise BadInput("subject får inte vara tomt; ange identiteten inloggningstjänsten ger")
    if len(cleaned) > 255:
        raise BadInput("subject är för långt (högst 255 tecken)")
    if looks_like_personal_number(cleaned):
        raise BadInput(PERSONAL_NUMBER_REFUSED)
    return cleaned


def check_issuer(issuer: str) -> str:
    cleaned = issuer.strip().rstrip("/")
    if not cleaned.startswith(("https://", "http://")) or len(cleaned) > 500:
        raise BadInput(
            "issuer ska vara inloggningstjänstens adress, t.ex. https://idp.example.se "
            "(som i config/finsam.toml)"
        )
    return cleaned


@dataclass(frozen=True)
class LinkedIdentity:
    name: str
    email: str
    forbund: str
    issuer: str
    subject: str


_I = PersonIdentity.__table__  # type: ignore[attr-defined]

_PERSON_OF = core_select(_I.c.person_id).where(
    _I.c.forbund_id == bindparam("forbund_id"),
    _I.c.issuer == bindparam("issuer"),
    _I.c.subject == bindparam("subject"),
)


def person_of(session: Session, forbund_id: int, issuer: str, subject: str) -> int | None:
    """The person the identity is linked to in the förbund, or None."""
    found = (
        session.connection()
        .execute(_PERSON_OF, {"forbund_id": forbund_id, "issuer": issuer, "subject": subject})
        .scalar()
    )
    return int(found) if found is not None else None


def link_identity(
    app: App,
    *,
    email: str,
    issuer: str,
    subject: str,
    forbund: str | None = None,
    by: str | None = None,
) -> LinkedIdentity:
    """Link the provider identity (issuer, subject) to the person with `email`.

    Steps: refuse a subject shaped like a personnummer (before anything is written); find
    the förbund and the person; an identity already linked to someone else is a conflict,
    to the same person nothing changes; otherwise store it and record `koppla_identitet`.
    """
    from workflow.services.organisation.forbund import resolve_forbund
    from workflow.services.organisation.people import find_person

    subject = check_subject(subject)
    issuer = check_issuer(issuer)
    now = app.clock()
    with app.db.transaction() as session:
        organisation = resolve_forbund(session, forbund, email)
        person = find_person(session, organisation, email)
        assert person.id is not None and organisation.id is not None
        linked = LinkedIdentity(person.name, person.email, organisation.slug, issuer, subject)
        holder = person_of(session, organisation.id, issuer, subject)
        if holder == person.id:
            return linked
        if holder is not None:
            raise Conflict(
                f"identiteten {subject} hos {issuer} är redan kopplad till en annan person i "
                f"förbundet {organisation.slug}; ta bort den kopplingen först"
            )
        session.add(
            PersonIdentity(
                forbund_id=organisation.id,
                person_id=person.id,
                issuer=issuer,
                subject=subject,
                created_at=now,
            )
        )
        session.flush()
        head = audit.lock_chain(session, organisation.id)
        audit.append(
            session,
            head,
            subject_kind=events.SUBJECT,
            subject_id=person.id,
            subject_ref=person.email[:60],
            from_state=None,
            to_state="identitet_kopplad",
            trigger=KOPPLA_IDENTITET,
            actor=by or "finsam people identity",
            at=now,
            comment=f"inloggningsidentitet hos {issuer} kopplad till {person.name}",
            data={"issuer": issuer, "subject": subject},
        )
        return linked


TA_BORT_IDENTITET = "ta_bort_identitet"

NO_WAY_LEFT = (
    "identiteten är ditt enda sätt att logga in (du har inget lösenord och ingen annan "
    "identitet); sätt ett lösenord först, sedan kan du ta bort den"
)


@dataclass(frozen=True)
class OwnIdentity:
    """A person's linked identity as their account page shows it: the subject partly hidden."""

    id: int
    issuer: str
    masked_subject: str


def mask(subject: str) -> str:
    """The subject with its middle hidden: enough to tell two identities apart."""
    if len(subject) <= 6:
        return subject[:1] + "•" * (len(subject) - 1)
    return subject[:3] + "•" * min(len(subject) - 5, 12) + subject[-2:]


def own_identities(app: App, *, person_id: int, forbund_id: int) -> list[OwnIdentity]:
    """The identities linked to this person, oldest first."""
    with app.db.reading() as session:
        rows = session.connection().execute(
            core_select(_I.c.id, _I.c.issuer, _I.c.subject)
            .where(_I.c.person_id == person_id, _I.c.forbund_id == forbund_id)
            .order_by(_I.c.id)
        )
        return [OwnIdentity(row.id, row.issuer, mask(row.subject)) for row in rows]


def unlink_own_identity(
    app: App, *, person_id: int, forbund_id: int, identity_id: int, by: str
) -> None:
    """Remove one of the person's own identities: refused when it is their last way to log
    in (no password, no other identity); recorded as `ta_bort_identitet`."""
    from sqlalchemy import delete, func

    from workflow.errors import ConditionFailed, NotFound
    from workflow.models import PasswordCredential

    now = app.clock()
    with app.db.transaction() as session:
        connection = session.connection()
        found = connection.execute(
            core_select(_I.c.issuer, _I.c.subject).where(
                _I.c.id == identity_id, _I.c.person_id == person_id, _I.c.forbund_id == forbund_id
            )
        ).first()
        if found is None:
            raise NotFound("ingen sådan inloggningsidentitet är kopplad till dig")
        others = connection.execute(
            core_select(func.count())
            .select_from(_I)
            .where(_I.c.person_id == person_id, _I.c.id != identity_id)
        ).scalar_one()
        password = session.get(PasswordCredential, person_id)
        if not others and password is None:
            raise ConditionFailed(NO_WAY_LEFT)
        connection.execute(delete(_I).where(_I.c.id == identity_id))
        head = audit.lock_chain(session, forbund_id)
        audit.append(
            session,
            head,
            subject_kind=events.SUBJECT,
            subject_id=person_id,
            subject_ref=by[:60],
            from_state=None,
            to_state="identitet_borttagen",
            trigger=TA_BORT_IDENTITET,
            actor=by,
            at=now,
            comment=f"inloggningsidentitet hos {found.issuer} borttagen av personen själv",
            data={"issuer": found.issuer, "subject": mask(found.subject)},
        )
