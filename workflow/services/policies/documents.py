"""The register of governing documents (styrdokument) and their renewal.

A document follows the styrdokument lifecycle (states/styrdokument.yaml). Who decided it and
when, the renewal interval and the last day it must be renewed by are kept on the row; the
renewal reminders come from the policy_renewal rule. When the last day has passed and no new
decision is registered, the document is overdue wherever it is listed.

The document itself (PDF or Office file) is kept in the attachment store
(services/attachments, subject_kind `styrdokument`): attached when it is registered, adopted
or renewed (the `upload` of those calls, in the same transaction) or on its own with
`attach`. Everyone of the förbund who sees the register may list and download the versions
(`list_files`, `open_file`); only those who may change styrdokument attach; a file of another
förbund or another document is not found.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local, local_date
from workflow.conditions import Facts
from workflow.errors import BadInput, Conflict, NotFound, NotPermitted
from workflow.lifecycle.definition import Lifecycle
from workflow.lifecycle.refusals import Attempt, refusal, unmet
from workflow.models import Attachment, ForbundRef, Person, PolicyDocument
from workflow.services import attachments
from workflow.services.cases import audit
from workflow.services.cases.change import begin_change
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor, find_actor
from workflow.services.reminders import planner as reminders
from workflow.services.reminders.due_dates import policy_ref
from workflow.text_guard import check_free_text, check_one_line
from workflow.vocabulary import roles_text

SUBJECT = "styrdokument"

# kind -> (label, default renewal interval in years; None: valid until changed)
KINDS: dict[str, tuple[str, int | None]] = {
    "forbundsordning": ("Förbundsordning", None),
    "reglemente": ("Reglemente", None),
    "delegationsordning": ("Delegationsordning", None),
    "attestordning": ("Attestordning", None),
    "verksamhetsplan": ("Verksamhetsplan", 1),
    "policy": ("Policy", 4),
    "dokumenthanteringsplan": ("Dokumenthanteringsplan", None),
}


def change_roles(lifecycle: Lifecycle) -> frozenset[str]:
    """Who may change styrdokument (register them or take any step): they attach documents."""
    roles: set[str] = set(lifecycle.create_roles)
    for transition in lifecycle.transitions:
        roles |= transition.roles
    return frozenset(roles)


def may_attach(app: App, roles: frozenset[str] | set[str]) -> bool:
    return bool(change_roles(app.lifecycles[SUBJECT].lifecycle) & roles)


def _attach_in(
    session: Session,
    app: App,
    organisation: ForbundRef,
    doc: PolicyDocument,
    actor: Actor,
    upload: attachments.Upload,
    now: datetime,
    written: Any,
) -> Attachment:
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    allowed = change_roles(lifecycle)
    if not actor.roles & allowed:
        raise NotPermitted(
            f"{actor.email} får inte bifoga dokument till styrdokument; det får: "
            f"{roles_text(allowed)}"
        )
    head = audit.lock_chain(session, organisation.id)  # type: ignore[arg-type]
    return attachments.add_to_policy(
        session, app, head, actor, doc, policy_ref(doc), upload, now, written
    )


def renewal_deadline(decided_on: date, years: int) -> date:
    """31 December of the final year: a policy decided 2018-12-11 for four years -> 2022-12-31."""
    return date(decided_on.year + years, 12, 31)


@dataclass
class PolicyView:
    id: int
    ref: str
    kind: str
    kind_label: str
    title: str
    state: str
    state_label: str
    decided_by: str | None
    decided_on: date | None
    renewal_years: int | None
    renew_by: date | None
    owner: str | None
    overdue: bool
    version: int
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _view(session: Session, app: App, doc: PolicyDocument, today: date) -> PolicyView:
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    owner = session.get(Person, doc.owner_id) if doc.owner_id else None
    return PolicyView(
        id=doc.id,  # type: ignore[arg-type]
        ref=policy_ref(doc),
        kind=doc.kind,
        kind_label=KINDS.get(doc.kind, (doc.kind, None))[0],
        title=doc.title,
        state=doc.state,
        state_label=lifecycle.label_of(doc.state),
        decided_by=doc.decided_by,
        decided_on=doc.decided_on,
        renewal_years=doc.renewal_years,
        renew_by=doc.renew_by,
        owner=owner.email if owner else None,
        overdue=is_overdue(lifecycle, doc, today),
        version=doc.version,
        updated_at=local(doc.updated_at, app.settings.zone),
    )


def is_overdue(lifecycle: Lifecycle, doc: PolicyDocument, today: date) -> bool:
    return (
        doc.state in lifecycle.tagged("in_force")
        and doc.renew_by is not None
        and doc.renew_by < today
    )


def _find(session: Session, forbund: ForbundRef, ref: str) -> PolicyDocument:
    ref = ref.strip()
    query = select(PolicyDocument).where(PolicyDocument.forbund_id == forbund.id)
    doc = session.exec(query.where(PolicyDocument.dnr == ref)).first()
    number = ref.lower().removeprefix("sd-")
    if doc is None and number.isdigit():
        doc = session.exec(query.where(PolicyDocument.id == int(number))).first()
    if doc is None:
        raise NotFound(
            f"inget styrdokument {ref!r} i förbundet {forbund.slug}; se 'finsam policies list'"
        )
    return doc


def _kind(kind: str) -> str:
    value = kind.strip().lower()
    if value not in KINDS:
        raise BadInput(f"okänd dokumenttyp {kind!r}; välj bland: {', '.join(KINDS)}")
    return value


def _years(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 20:
        raise BadInput(f"förnyelseintervallet {value} år är orimligt; ange 1–20 år")
    return value


def _owner(session: Session, forbund: ForbundRef, email: str | None) -> Actor | None:
    return find_actor(session, forbund, email) if email else None


def _audit(
    session: Session,
    forbund: ForbundRef,
    doc: PolicyDocument,
    actor: Actor,
    *,
    from_state: str | None,
    trigger: str,
    now: datetime,
    comment: str | None,
    data: dict[str, Any],
) -> None:
    head = audit.lock_chain(session, forbund.id)  # type: ignore[arg-type]
    audit.append(
        session,
        head,
        subject_kind=SUBJECT,
        subject_id=doc.id,  # type: ignore[arg-type]
        subject_ref=policy_ref(doc),
        from_state=from_state,
        to_state=doc.state,
        trigger=trigger,
        actor=actor,
        at=now,
        comment=comment,
        data=data,
    )


def register(
    app: App,
    *,
    actor_email: str,
    kind: str,
    title: str,
    decided_on: date | None = None,
    decided_by: str | None = None,
    owner_email: str | None = None,
    renewal_years: int | None = None,
    renew_by: date | None = None,
    dnr: str | None = None,
    forbund: str | None = None,
    comment: str | None = None,
    upload: attachments.Upload | None = None,
) -> PolicyView:
    """Enter a document: adopted (with its decision date) or as a draft (utkast), with the
    document itself attached if `upload` is given."""
    now = app.clock()
    today = local_date(now, app.settings.zone)
    kind = _kind(kind)
    title = check_one_line(title, "titeln")
    if decided_by is not None:
        decided_by = check_one_line(decided_by, "beslutande organ")
    if dnr is not None:
        dnr = check_one_line(dnr, "diarienumret", 40)
    if comment:
        check_free_text(comment, "kommentaren")
    years = _years(renewal_years if renewal_years is not None else KINDS[kind][1])
    if decided_on is not None and decided_on > today:
        raise BadInput(f"beslutsdatumet {decided_on} ligger i framtiden; ange dagen beslutet togs")
    if renew_by is None and decided_on is not None and years is not None:
        renew_by = renewal_deadline(decided_on, years)
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    written = attachments.storing()
    try:
        with app.db.transaction() as session:
            organisation, _, actor = begin_change(session, forbund, actor_email)
            if not actor.roles & lifecycle.create_roles:
                raise NotPermitted(
                    f"{actor.email} får inte registrera styrdokument; det får: "
                    f"{roles_text(lifecycle.create_roles)}"
                )
            owner = _owner(session, organisation, owner_email)
            doc = PolicyDocument(
                forbund_id=organisation.id,  # type: ignore[arg-type]
                kind=kind,
                title=title,
                dnr=dnr,
                state="faststalld" if decided_on else lifecycle.initial,
                decided_by=decided_by,
                decided_on=decided_on,
                renewal_years=years,
                renew_by=renew_by,
                owner_id=owner.id if owner else actor.id,
                created_at=now,
                updated_at=now,
            )
            session.add(doc)
            session.flush()
            _audit(
                session,
                organisation,
                doc,
                actor,
                from_state=None,
                trigger="registrera",
                now=now,
                comment=comment,
                data={"decided_on": decided_on, "renew_by": renew_by, "kind": kind},
            )
            if upload is not None:
                _attach_in(session, app, organisation, doc, actor, upload, now, written)
            reminders.replan_document(session, app, organisation, doc.id)  # type: ignore[arg-type]
            return _view(session, app, doc, today)
    except IntegrityError:
        written.undo()
        raise Conflict(
            f"ett styrdokument med titeln {title!r} finns redan; välj en annan titel"
        ) from None
    except BaseException:
        written.undo()
        raise


def _fire_in(
    session: Session,
    app: App,
    *,
    organisation: ForbundRef,
    doc: PolicyDocument,
    actor: Actor,
    trigger: str,
    now: datetime,
    comment: str | None,
    decided_on: date | None,
    decided_by: str | None,
) -> None:
    engine = app.lifecycles[SUBJECT]
    lifecycle = engine.lifecycle
    today = local_date(now, app.settings.zone)
    attempt = Attempt(policy_ref(doc), doc.state, actor.email, actor.roles)
    refused = refusal(lifecycle, attempt, trigger)
    if refused is not None:
        raise refused
    transition = lifecycle.transition(trigger, doc.state)
    assert transition is not None
    new_state, failures = engine.fire(
        doc.state, trigger, Facts(subject=doc, today=today, comment=comment)
    )
    if new_state is None:
        raise unmet(transition, policy_ref(doc), failures)
    from_state = doc.state
    data: dict[str, Any] = {}
    if new_state == "faststalld":
        decided = decided_on or today
        if decided > today:
            raise BadInput(f"beslutsdatumet {decided} ligger i framtiden; ange dagen beslutet togs")
        doc.decided_on = decided
        if decided_by is not None:
            doc.decided_by = check_one_line(decided_by, "beslutande organ")
        if doc.renewal_years is not None:
            doc.renew_by = renewal_deadline(decided, doc.renewal_years)
        data = {"decided_on": decided, "renew_by": doc.renew_by}
    doc.state = new_state
    doc.updated_at = now
    session.add(doc)
    session.flush()
    _audit(
        session,
        organisation,
        doc,
        actor,
        from_state=from_state,
        trigger=trigger,
        now=now,
        comment=comment,
        data=data,
    )


def fire(
    app: App,
    *,
    ref: str,
    trigger: str,
    actor_email: str,
    forbund: str | None = None,
    comment: str | None = None,
    decided_on: date | None = None,
    decided_by: str | None = None,
    expected_version: int | None = None,
    upload: attachments.Upload | None = None,
) -> PolicyView:
    """One step of the styrdokument lifecycle (with a new version of the document attached
    if `upload` is given). `faststall` records a (new) decision and so
    moves the renewal deadline; the reminders follow in the same transaction. `renew` (below)
    fires 'revidering_kravs' and 'faststall' together for a document in force."""
    triggers = [trigger]
    return _fire_all(
        app,
        ref=ref,
        triggers=triggers,
        actor_email=actor_email,
        forbund=forbund,
        comment=comment,
        decided_on=decided_on,
        decided_by=decided_by,
        expected_version=expected_version,
        upload=upload,
    )


def renew(
    app: App,
    *,
    ref: str,
    actor_email: str,
    comment: str,
    decided_on: date | None = None,
    decided_by: str | None = None,
    forbund: str | None = None,
    upload: attachments.Upload | None = None,
) -> PolicyView:
    """A new decision on a document: adopted again, with a new renewal deadline (and the new
    version of the document attached if `upload` is given)."""
    return _fire_all(
        app,
        ref=ref,
        triggers=["revidering_kravs", "faststall"],
        actor_email=actor_email,
        forbund=forbund,
        comment=comment,
        decided_on=decided_on,
        decided_by=decided_by,
        skip_unavailable_first=True,
        upload=upload,
    )


def _fire_all(
    app: App,
    *,
    ref: str,
    triggers: list[str],
    actor_email: str,
    forbund: str | None,
    comment: str | None,
    decided_on: date | None,
    decided_by: str | None,
    expected_version: int | None = None,
    skip_unavailable_first: bool = False,
    upload: attachments.Upload | None = None,
) -> PolicyView:
    now = app.clock()
    today = local_date(now, app.settings.zone)
    if comment:
        check_free_text(comment, "kommentaren")
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    written = attachments.storing()
    try:
        with app.db.transaction() as session:
            organisation, _, actor = begin_change(session, forbund, actor_email)
            doc = _find(session, organisation, ref)
            if expected_version is not None and doc.version != expected_version:
                raise Conflict(
                    f"{policy_ref(doc)} har ändrats (version {doc.version}, du såg "
                    f"{expected_version}); läs om med 'finsam policies show' och försök igen"
                )
            for index, trigger in enumerate(triggers):
                if (
                    index == 0
                    and skip_unavailable_first
                    and lifecycle.transition(trigger, doc.state) is None
                ):
                    continue  # already 'revision required': only the new decision is left
                _fire_in(
                    session,
                    app,
                    organisation=organisation,
                    doc=doc,
                    actor=actor,
                    trigger=trigger,
                    now=now,
                    comment=comment,
                    decided_on=decided_on,
                    decided_by=decided_by,
                )
            if upload is not None:
                _attach_in(session, app, organisation, doc, actor, upload, now, written)
            reminders.replan_document(session, app, organisation, doc.id)  # type: ignore[arg-type]
            return _view(session, app, doc, today)
    except StaleDataError:
        written.undo()
        raise Conflict(f"{ref} ändrades samtidigt av någon annan; försök igen") from None
    except BaseException:
        written.undo()
        raise


def attach(
    app: App,
    *,
    ref: str,
    actor_email: str,
    upload: attachments.Upload,
    forbund: str | None = None,
) -> attachments.AttachmentView:
    """A new version of the document, attached without a step (for example the draft sent
    on samråd)."""
    now = app.clock()
    written = attachments.storing()
    try:
        with app.db.transaction() as session:
            organisation, _, actor = begin_change(session, forbund, actor_email)
            doc = _find(session, organisation, ref)
            row = _attach_in(session, app, organisation, doc, actor, upload, now, written)
            return attachments.policy_view(row, policy_ref(doc), actor.name)
    except BaseException:
        written.undo()
        raise


def list_files(
    app: App, *, ref: str, viewer_email: str, forbund: str | None = None
) -> list[attachments.AttachmentView]:
    """The document's versions, oldest first, with who added each and when."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        find_actor(session, organisation, viewer_email)
        doc = _find(session, organisation, ref)
        return attachments.policy_views(session, doc, policy_ref(doc))


def open_file(
    app: App, *, ref: str, attachment_id: int, viewer_email: str, forbund: str | None = None
) -> tuple[attachments.AttachmentView, bytes]:
    """One version and its content; not found unless it is this document's, in this förbund."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        find_actor(session, organisation, viewer_email)
        doc = _find(session, organisation, ref)
        row = session.get(Attachment, attachment_id) if 0 < attachment_id < 2**31 else None
        if row is None or row.policy_id != doc.id or row.forbund_id != organisation.id:
            raise NotFound(f"inget dokument nr {attachment_id} till {policy_ref(doc)}")
        person = session.get(Person, row.added_by_id)
        view = attachments.policy_view(row, policy_ref(doc), person.name if person else "")
    return view, attachments.read_blob(app, view)


def get_policy(app: App, *, ref: str, forbund: str | None = None) -> PolicyView:
    today = local_date(app.clock(), app.settings.zone)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return _view(session, app, _find(session, organisation, ref), today)


def list_policies(
    app: App, *, forbund: str | None = None, overdue_only: bool = False
) -> list[PolicyView]:
    today = local_date(app.clock(), app.settings.zone)
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        docs = session.exec(
            select(PolicyDocument)
            .where(PolicyDocument.forbund_id == organisation.id)
            .order_by(col(PolicyDocument.kind), col(PolicyDocument.title))
        ).all()
        # A förbund has a handful of styrdokument, so the register is not paged; their owners
        # are read in one query (into the session, where _view finds them), not one each.
        owner_ids = sorted({d.owner_id for d in docs if d.owner_id is not None})
        owners = (
            list(session.exec(select(Person).where(col(Person.id).in_(owner_ids))))
            if owner_ids
            else []
        )
        views = [_view(session, app, d, today) for d in docs]
        del owners  # kept alive until every view has read its owner from the session
        return [v for v in views if v.overdue] if overdue_only else views


# The renewal on the register page: a new decision on a document in force (`renew`).
RENEW = "fornya"


@dataclass(frozen=True)
class PolicyStep:
    """A step the person may take on a document now, as the register page offers it."""

    trigger: str
    label: str
    comment_required: bool
    # A new decision: the form asks for the day and who decided.
    decision: bool
    # The form takes the document (a new version) too.
    attach: bool = False


def offered_steps(app: App, view: PolicyView, roles: frozenset[str] | set[str]) -> list[PolicyStep]:
    """The lifecycle's steps from the document's state that the roles allow, with renewal
    (a new decision while in force) in place of "revision required" then "adopt"."""
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    steps: list[PolicyStep] = []
    for transition in lifecycle.transitions:
        if view.state not in transition.sources or not transition.roles & roles:
            continue
        if transition.trigger == "revidering_kravs":
            continue  # part of the renewal below
        steps.append(
            PolicyStep(
                transition.trigger,
                transition.label,
                "comment_given" in transition.conditions,
                transition.dest == "faststalld",
                transition.dest != "upphavd",
            )
        )
    adopt = next(t for t in lifecycle.transitions if t.trigger == "faststall")
    if view.state == "faststalld" and adopt.roles & roles:
        steps.insert(0, PolicyStep(RENEW, "Förnya (nytt beslut)", True, True, True))
    return steps


def start_notice(
    app: App, *, forbund: str, roles: frozenset[str] | set[str]
) -> list[PolicyView] | None:
    """The overdue documents for the förbundschef's start page; None for everyone else."""
    if "forbundschef" not in roles:
        return None
    return list_policies(app, forbund=forbund, overdue_only=True)
