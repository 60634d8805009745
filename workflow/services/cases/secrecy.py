"""Secrecy in the diarium: marking a registered case's subject secret, and lifting that.

A förbund's diarium is public (OSL 5 kap. 1 §), but a document may hold data that
offentlighets- och sekretesslagen (2009:400) keeps secret, often in the subject itself (a
named person's situation, 21 kap. 1 § or 26 kap. 1 §). The entry then stays in the public
diarium with its dnr and date, and its subject is masked there: "Sekretess enligt 21 kap. 1 §
OSL". The kansli's own diarium shows the subject with the marking beside it.

The registrator marks it: the roles of the action keep_diarium (states/actions.yaml; the
sekreterare and the förbundschef as shipped). Each marking, change of paragraph and lifting is
one audit event about the case's diarium entry (subject kind "diarium", the case's id and dnr).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import select

from workflow.errors import BadInput, Conflict
from workflow.models import DiariumSecrecy, Insats
from workflow.services.cases import audit
from workflow.services.cases.change import begin_change
from workflow.services.cases.records import find_case

if TYPE_CHECKING:
    from workflow.app import App

KEEP = "keep_diarium"
SUBJECT = "diarium"
MARK, LIFT = "sekretessmarkera", "hav_sekretess"
SECRET, PUBLIC = "sekretess", "offentlig"
# OSL has 44 chapters; a paragraph may carry a letter (3 kap. 1 a §).
_PARAGRAPH = re.compile(
    r"^(?P<chapter>\d{1,2})\s*kap\.?\s*(?P<section>\d{1,3})\s*(?P<letter>[a-z]?)\s*§"
    r"(?:\s*(?:OSL|offentlighets- och sekretesslagen))?\.?$",
    re.IGNORECASE,
)


def paragraph_of(raw: str) -> str:
    """The paragraph as people cite it, "21 kap. 1 § OSL", from what was written
    ("21 kap 1 §", "21 kap. 1 § OSL", "3 kap. 1 a §")."""
    text = " ".join(raw.split())
    found = _PARAGRAPH.match(text)
    if not found or not 1 <= int(found["chapter"]) <= 44:
        raise BadInput(
            f"{text!r} är ingen paragraf i offentlighets- och sekretesslagen; "
            "skriv till exempel 21 kap. 1 §"
            if text
            else "ange paragrafen i offentlighets- och sekretesslagen, till exempel 21 kap. 1 §"
        )
    letter = f" {found['letter'].lower()}" if found["letter"] else ""
    return f"{int(found['chapter'])} kap. {int(found['section'])}{letter} § OSL"


def masked(paragraph: str) -> str:
    """What the public diarium shows instead of a secret subject."""
    return f"Sekretess enligt {paragraph}"


@dataclass(frozen=True)
class SecrecyChange:
    dnr: str
    paragraph: str | None  # None: the subject is public again
    before: str | None


def _registered(session: object, forbund: object, ref: str) -> Insats:
    case = find_case(session, forbund, ref)  # type: ignore[arg-type]
    if case.dnr is None:
        raise BadInput(
            f"{ref.strip()} är inte registrerat och står inte i diariet; registrera det först"
        )
    return case


def mark_secret(
    app: App, *, ref: str, paragraph: str, actor_email: str, forbund: str | None = None
) -> SecrecyChange:
    """Mark a registered case's diarium entry secret under `paragraph` (or change the
    paragraph); refused if it is marked so already."""
    now = app.clock()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require_role(actor, KEEP)
        case = _registered(session, organisation, ref)
        cited = paragraph_of(paragraph)
        row = session.exec(
            select(DiariumSecrecy).where(DiariumSecrecy.insats_id == case.id)
        ).first()
        before = row.paragraph if row is not None else None
        if before == cited:
            raise Conflict(f"{case.dnr} är redan sekretessmarkerat enligt {cited}")
        if row is None:
            row = DiariumSecrecy(
                forbund_id=organisation.id,
                insats_id=case.id,  # type: ignore[arg-type]
                paragraph=cited,
                marked_by_id=actor.id,
                marked_at=now,
            )
        else:
            row.paragraph, row.marked_by_id, row.marked_at = cited, actor.id, now
        session.add(row)
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=case.id,  # type: ignore[arg-type]
            subject_ref=case.dnr,
            from_state=SECRET if before else PUBLIC,
            to_state=SECRET,
            trigger=MARK,
            actor=actor,
            at=now,
            data={"paragraph": cited, "before": before},
        )
        session.flush()
        return SecrecyChange(case.dnr, cited, before)  # type: ignore[arg-type]


def lift_secrecy(
    app: App, *, ref: str, actor_email: str, forbund: str | None = None
) -> SecrecyChange:
    """The entry's subject is public again (after a sekretessprövning, or marked by mistake)."""
    now = app.clock()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        app.actions.require_role(actor, KEEP)
        case = _registered(session, organisation, ref)
        row = session.exec(
            select(DiariumSecrecy).where(DiariumSecrecy.insats_id == case.id)
        ).first()
        if row is None:
            raise Conflict(f"{case.dnr} är inte sekretessmarkerat")
        before = row.paragraph
        session.delete(row)
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=case.id,  # type: ignore[arg-type]
            subject_ref=case.dnr,
            from_state=SECRET,
            to_state=PUBLIC,
            trigger=LIFT,
            actor=actor,
            at=now,
            data={"before": before},
        )
        session.flush()
        return SecrecyChange(case.dnr, None, before)  # type: ignore[arg-type]
