"""The förbund as a whole, for those who set it up: founding one, its details, the overview
(parties, organs, warnings) and the history of its organisation in the audit chain.

Founding a förbund is the one change no person of it can make: it is done by the installation
(edits.INSTALLATION) on behalf of the operator who runs the command, and it creates the first
administrator, who makes every later change under their own name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from workflow.clock import local, local_date
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models import AuditEvent, Forbund, ForbundRef, Person
from workflow.services.organisation.edits import SUBJECTS, Edit, installation_edit, open_edit
from workflow.services.organisation.forbund import (
    check_dnr_pattern,
    check_orgnr,
    create_forbund,
    resolve_forbund,
)
from workflow.services.organisation.organs import OrganView, organ_views
from workflow.services.organisation.parties import PartyView, list_parties, party_view
from workflow.services.organisation.people import create_person_in
from workflow.services.paging import Keyset, Page, check_limit
from workflow.text_guard import check_one_line
from workflow.vocabulary import Role

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

SUBJECT = "forbund"


@dataclass
class ForbundView:
    id: int
    slug: str
    name: str
    orgnr: str | None
    dnr_pattern: str
    created_at: datetime
    people: int = 0
    active_people: int = 0
    parties: list[PartyView] = field(default_factory=list)
    organs: list[OrganView] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _forbund_row(session: Session, forbund: ForbundRef) -> Forbund:
    row = session.get(Forbund, forbund.id)
    if row is None:  # resolved in this very transaction
        raise NotFound(f"förbundet {forbund.slug} finns inte")
    return row


def overview(session: Session, app: App, forbund: ForbundRef) -> ForbundView:
    row = _forbund_row(session, forbund)
    people = session.exec(select(Person).where(Person.forbund_id == row.id)).all()
    organs = organ_views(session, row, local_date(app.clock(), app.settings.zone))
    return ForbundView(
        row.id,  # type: ignore[arg-type]
        row.slug,
        row.name,
        row.orgnr,
        row.dnr_pattern,
        local(row.created_at, app.settings.zone),
        len(people),
        sum(1 for p in people if p.deactivated_at is None),
        [party_view(p) for p in list_parties(session, row)],
        organs,
        [w for organ in organs for w in organ.warnings],
    )


def found_in(
    app: App,
    session: Session,
    *,
    slug: str,
    name: str,
    dnr_pattern: str,
    orgnr: str | None,
    operator: str,
    channel: str,
) -> Edit:
    """Create the förbund and open its edit by the installation (its first event)."""
    forbund = create_forbund(
        session, slug=slug, name=name, dnr_pattern=dnr_pattern, orgnr=orgnr, now=app.clock()
    )
    edit = installation_edit(
        app, session, forbund, operator=check_one_line(operator, "operatören"), channel=channel
    )
    edit.record(
        kind=SUBJECT,
        row_id=forbund.id,  # type: ignore[arg-type]
        ref=forbund.slug,
        trigger="skapa_forbund",
        to_state="aktivt",
        said=f"förbundet {forbund.name} ({forbund.slug}) skapat av operatören {operator}",
        data={
            "slug": forbund.slug,
            "name": forbund.name,
            "orgnr": forbund.orgnr,
            "dnr_pattern": forbund.dnr_pattern,
        },
    )
    return edit


def found_forbund(
    app: App,
    *,
    slug: str,
    name: str,
    admin_email: str,
    admin_name: str,
    operator: str,
    dnr_pattern: str | None = None,
    orgnr: str | None = None,
    channel: str = "cli",
) -> ForbundView:
    """Create a förbund with its first administrator.

    Steps: create the förbund and its audit chain; record its creation and the administrator
    as done by the installation for `operator` (the person running the command, or the web's
    installation admin); everything later is done by people of the förbund (`--as`).
    """
    with app.db.transaction() as session:
        edit = found_in(
            app,
            session,
            slug=slug,
            name=name,
            dnr_pattern=dnr_pattern or app.settings.default_dnr_pattern,
            orgnr=orgnr,
            operator=operator,
            channel=channel,
        )
        create_person_in(edit, name=admin_name, email=admin_email, roles=[Role.ADMIN.value])
        return overview(session, app, edit.forbund)


def installation_admins(app: App) -> set[tuple[str, str]]:
    """The (förbund, e-mail) of each installation administrator named in the settings."""
    named: set[tuple[str, str]] = set()
    for entry in app.settings.installation_admins:
        slug, sep, email = entry.partition(":")
        if sep and slug.strip() and email.strip():
            named.add((slug.strip(), email.strip().lower()))
    return named


def is_installation_admin(app: App, *, forbund: str, email: str) -> bool:
    """Whether the person may found förbund: named in `installation_admins` and an active
    person with the role admin in that förbund (a förbund admin alone manages only their own)."""
    if (forbund, email.strip().lower()) not in installation_admins(app):
        return False
    from workflow.services.organisation.people import find_person, roles_of

    with app.db.reading() as session:
        try:
            person = find_person(session, resolve_forbund(session, forbund), email)
        except NotFound:
            return False
        return person.deactivated_at is None and Role.ADMIN.value in roles_of(session, person)


def require_installation_admin(app: App, *, forbund: str, email: str) -> None:
    if not is_installation_admin(app, forbund=forbund, email=email):
        raise NotPermitted(
            "bara installationens administratörer får skapa förbund; en förbundsadministratör "
            "ändrar bara sitt eget förbund"
        )


def found_forbund_by(
    app: App,
    *,
    by_forbund: str,
    by_email: str,
    slug: str,
    name: str,
    admin_email: str,
    admin_name: str,
    orgnr: str | None = None,
    dnr_pattern: str | None = None,
    channel: str = "web",
) -> ForbundView:
    """An installation administrator founds a förbund with its first administrator (the web).

    Recorded as every founding is: by the installation, for the operator, who is here the
    installation administrator named by förbund and e-mail."""
    require_installation_admin(app, forbund=by_forbund, email=by_email)
    return found_forbund(
        app,
        slug=slug,
        name=name,
        admin_email=admin_email,
        admin_name=admin_name,
        operator=f"{by_email.strip().lower()} ({by_forbund})",
        dnr_pattern=dnr_pattern or None,
        orgnr=orgnr or None,
        channel=channel,
    )


def update_forbund_in(
    edit: Edit,
    *,
    name: str | None = None,
    orgnr: str | None = None,
    dnr_pattern: str | None = None,
) -> bool:
    """Change the förbund's name, orgnr or diarienummer pattern (new numbers only)."""
    row = _forbund_row(edit.session, edit.forbund)
    before = {"name": row.name, "orgnr": row.orgnr, "dnr_pattern": row.dnr_pattern}
    if name is not None:
        row.name = check_one_line(name, "förbundets namn")
    if orgnr is not None:
        row.orgnr = check_orgnr(orgnr) if orgnr.strip() else None
    if dnr_pattern is not None:
        row.dnr_pattern = check_dnr_pattern(dnr_pattern)
    after = {"name": row.name, "orgnr": row.orgnr, "dnr_pattern": row.dnr_pattern}
    if after == before:
        return False
    edit.session.add(row)
    labels = {"name": "namn", "orgnr": "organisationsnummer", "dnr_pattern": "diarienummer"}
    changed = ", ".join(
        f"{labels[k]} {before[k] or '–'} → {after[k] or '–'}"
        for k in after
        if after[k] != before[k]
    )
    edit.record(
        kind=SUBJECT,
        row_id=row.id,  # type: ignore[arg-type]
        ref=row.slug,
        trigger="andra_forbund",
        from_state="aktivt",
        to_state="aktivt",
        said=f"förbundet {row.slug}: {changed}",
        data={"before": before, "after": after},
    )
    return True


def update_forbund(
    app: App,
    *,
    actor_email: str,
    name: str | None = None,
    orgnr: str | None = None,
    dnr_pattern: str | None = None,
    forbund: str | None = None,
) -> ForbundView:
    with app.db.transaction() as session:
        edit = open_edit(app, session, forbund, actor_email)
        if not update_forbund_in(edit, name=name, orgnr=orgnr, dnr_pattern=dnr_pattern):
            raise BadInput("inget att ändra; ange --name, --orgnr eller --dnr-pattern")
        return overview(session, app, edit.forbund)


def list_forbund(app: App) -> list[ForbundView]:
    """Every förbund of the installation, by short name (without their organs)."""
    with app.db.reading() as session:
        return [
            ForbundView(
                f.id,  # type: ignore[arg-type]
                f.slug,
                f.name,
                f.orgnr,
                f.dnr_pattern,
                local(f.created_at, app.settings.zone),
            )
            for f in session.exec(select(Forbund).order_by(col(Forbund.slug)))
        ]


def get_forbund(app: App, forbund: str | None = None) -> ForbundView:
    with app.db.reading() as session:
        return overview(session, app, resolve_forbund(session, forbund))


@dataclass(frozen=True)
class ChangeView:
    """One change of the organisation as the audit chain holds it."""

    seq: int
    at: datetime
    actor: str
    subject: str
    trigger: str
    text: str | None
    data: dict[str, Any]
    channel: str | None = None


def _change_view(app: App, e: AuditEvent) -> ChangeView:
    return ChangeView(
        e.seq,
        local(e.at, app.settings.zone),
        e.actor_email,
        e.subject_ref or "",
        e.trigger,
        e.comment,
        e.data,
        e.channel,
    )


def history(app: App, forbund: str | None = None, limit: int = 200) -> list[ChangeView]:
    """The newest changes of the förbund's organisation (parties, people, roles, organs)."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        events = session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.forbund_id == organisation.id,
                col(AuditEvent.subject_kind).in_(SUBJECTS),
            )
            .order_by(col(AuditEvent.seq).desc())
            .limit(limit)
        ).all()
        return [_change_view(app, e) for e in reversed(events)]


_EVENT = AuditEvent.__table__  # type: ignore[attr-defined]
# The organisation's history a page at a time, newest first (the chain's seq is unique within
# a förbund).
HISTORY_ORDER = Keyset("organisation_history", (_EVENT.c.seq,), descending=True)


def history_page(
    app: App, forbund: str | None = None, *, after: str | None = None, limit: int = 50
) -> Page[ChangeView]:
    """One page of the changes of the förbund's organisation, newest first; `after` is the
    `next_after` of the page before."""
    check_limit(limit)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = select(AuditEvent).where(
            AuditEvent.forbund_id == organisation.id,
            col(AuditEvent.subject_kind).in_(SUBJECTS),
        )
        events = session.exec(HISTORY_ORDER.page(query, after, limit)).all()
        page = HISTORY_ORDER.cut(events, limit, key=lambda e: (e.seq,))
        return Page([_change_view(app, e) for e in page.items], page.next_after)
