"""Insatser: submit an idea, fire a lifecycle trigger, read and list cases.

`fire` is the one way a case changes state. In one transaction it:
  1. takes the förbund's audit-chain lock (serialises changes per förbund),
  2. loads the case and the actor, and checks the version the caller saw,
  3. checks that the actor's roles may fire the trigger from the current state,
  4. records the fields the transition allows (--set),
  5. lets the shared machine check the conditions and move the state,
  6. performs the transition's effects (a diarienummer at registration),
  7. writes the case (optimistic version check) and exactly one audit event.
Any error rolls all of it back.

The case, its parties, the actor and the audit event are read and written with prebuilt
SQLAlchemy Core statements, not the ORM: this is the path every change of every case takes,
and the ORM's unit of work costs several times the SQL it issues (bench/lifecycle.py). Other
services may hand `fire_in` an ORM-loaded Insats; it is written the same way and then told
that what was written is its committed state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, inspect, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import NO_VALUE, set_committed_value
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.case_fields import FieldContext, PartyRef, apply_fields
from workflow.clock import local, local_date
from workflow.conditions import Facts
from workflow.errors import BadInput, Conflict, NotFound, NotPermitted
from workflow.lifecycle.definition import Lifecycle
from workflow.models import (
    AuditEvent,
    Case,
    CaseRow,
    ForbundRef,
    Insats,
    InsatsParty,
    Party,
    Person,
)
from workflow.services import audit
from workflow.services.change import begin_change
from workflow.services.organisation import Actor, find_actor, resolve_forbund
from workflow.services.registration import allocate_dnr
from workflow.text_guard import check_free_text
from workflow.vocabulary import ROLE_LABELS, Role

SUBJECT = "insats"
CREATE_TRIGGER = "skapa"


def case_ref(case: Case) -> str:
    """How people name a case: its diarienummer, or ide-N before registration."""
    return case.dnr or f"ide-{case.id}"


_INSATS = Insats.__table__  # type: ignore[attr-defined]
_INSATS_PARTY = InsatsParty.__table__  # type: ignore[attr-defined]
_PARTY = Party.__table__  # type: ignore[attr-defined]
_COLUMNS: tuple[str, ...] = tuple(column.key for column in _INSATS.columns)

# The case with its parties: one row per party (one with empty party columns if none).
_CASE_AND_PARTIES = (
    select(
        _INSATS,
        _PARTY.c.id.label("party_id"),
        _PARTY.c.kind.label("party_kind"),
        _PARTY.c.name.label("party_name"),
    )
    .select_from(
        _INSATS.outerjoin(_INSATS_PARTY, _INSATS_PARTY.c.insats_id == _INSATS.c.id).outerjoin(
            _PARTY, _PARTY.c.id == _INSATS_PARTY.c.party_id
        )
    )
    .order_by(_PARTY.c.id)
)
_CASE_BY_DNR = _CASE_AND_PARTIES.where(
    _INSATS.c.forbund_id == bindparam("forbund_id"), _INSATS.c.dnr == bindparam("dnr")
)
_CASE_BY_ID = _CASE_AND_PARTIES.where(
    _INSATS.c.forbund_id == bindparam("forbund_id"), _INSATS.c.id == bindparam("id")
)
# No SET clause here: it is made from the columns given at execution, the changed ones only.
_WRITE_CASE = update(_INSATS).where(
    _INSATS.c.id == bindparam("b_id"), _INSATS.c.version == bindparam("b_version")
)
_PARTIES_OF_CASE = (
    select(_PARTY.c.id, _PARTY.c.kind, _PARTY.c.name)
    .select_from(_PARTY.join(_INSATS_PARTY, _INSATS_PARTY.c.party_id == _PARTY.c.id))
    .where(_INSATS_PARTY.c.insats_id == bindparam("insats_id"))
    .order_by(_PARTY.c.id)
)
_DROP_PARTIES = delete(_INSATS_PARTY).where(_INSATS_PARTY.c.insats_id == bindparam("b_insats_id"))
_ADD_PARTY = insert(_INSATS_PARTY)


def _idea_number(ref: str) -> int | None:
    """The id in an idea's name (ide-12, idé-12 or 12), for a case without a diarienummer."""
    number = ref.lower().removeprefix("idé-").removeprefix("ide-")
    return int(number) if number.isdigit() else None


def _no_case(forbund: ForbundRef, ref: str) -> NotFound:
    return NotFound(f"inget ärende {ref!r} i förbundet {forbund.slug}; se 'finsam cases list'")


def find_case(session: Session, forbund: ForbundRef, ref: str) -> Insats:
    """The case as an ORM object, for services that change more than the case."""
    ref = ref.strip()
    query = select(Insats).where(Insats.forbund_id == forbund.id)
    case = session.exec(query.where(Insats.dnr == ref)).first()
    number = _idea_number(ref)
    if case is None and number is not None:
        case = session.exec(query.where(Insats.id == number)).first()
    if case is None:
        raise _no_case(forbund, ref)
    return case


def read_case(session: Session, forbund: ForbundRef, ref: str) -> tuple[CaseRow, list[PartyRef]]:
    """The case as a plain row, with its parties, for a change of the case alone (`fire`)."""
    ref = ref.strip()
    connection = session.connection()
    rows = connection.execute(_CASE_BY_DNR, {"forbund_id": forbund.id, "dnr": ref}).all()
    number = _idea_number(ref)
    if not rows and number is not None:
        rows = connection.execute(_CASE_BY_ID, {"forbund_id": forbund.id, "id": number}).all()
    if not rows:
        raise _no_case(forbund, ref)
    columns = rows[0]._mapping
    case = CaseRow(**{name: columns[name] for name in _COLUMNS})
    parties = [
        PartyRef(row.party_id, row.party_kind, row.party_name)
        for row in rows
        if row.party_id is not None
    ]
    return case, parties


def _parties_of(session: Session, case_id: int | None) -> list[PartyRef]:
    if case_id is None:
        return []
    rows = session.connection().execute(_PARTIES_OF_CASE, {"insats_id": case_id})
    return [PartyRef(row.id, row.kind, row.name) for row in rows]


def _save_parties(session: Session, case: Case, parties: list[PartyRef]) -> None:
    connection = session.connection()
    connection.execute(_DROP_PARTIES, {"b_insats_id": case.id})
    if parties:
        connection.execute(
            _ADD_PARTY, [{"insats_id": case.id, "party_id": party.id} for party in parties]
        )


def _snapshot(case: Case) -> dict[str, Any]:
    """The case's columns as the database has them, so that one UPDATE writes all that differs
    (for an ORM-loaded case, also what its service changed before firing)."""
    values = {name: getattr(case, name) for name in _COLUMNS}
    if not isinstance(case, CaseRow):
        original = inspect(case).committed_state
        values.update((k, v) for k, v in original.items() if k in values and v is not NO_VALUE)
    return values


def _write(session: Session, case: Case, before: dict[str, Any]) -> None:
    """Write what changed on the case since `before`, if the row is still that version."""
    changes = {name: value for name in _COLUMNS if (value := getattr(case, name)) != before[name]}
    changes["version"] = before["version"] + 1
    written = session.connection().execute(
        _WRITE_CASE, {**changes, "b_id": case.id, "b_version": before["version"]}
    )
    if written.rowcount != 1:
        raise Conflict(
            f"{case_ref(case)} ändrades samtidigt av någon annan; läs om ärendet och försök igen"
        )
    if isinstance(case, CaseRow):
        case.version = changes["version"]
        return
    # An ORM-loaded case: what we wrote is now its committed state, not a change to flush.
    for name, value in changes.items():
        set_committed_value(case, name, value)


def _roles_text(roles: frozenset[str]) -> str:
    return ", ".join(sorted(ROLE_LABELS.get(Role(r), r) for r in roles)) or "inga roller"


def _not_allowed(lifecycle: Lifecycle, case: Case, trigger: str, actor: Actor) -> NotPermitted:
    state_label = lifecycle.label_of(case.state)
    options = [t.trigger for t in lifecycle.available(case.state, actor.roles)]
    can = (
        f"{actor.email} kan här: {', '.join(options)}"
        if options
        else f"{actor.email} kan inte göra något i detta tillstånd"
    )
    if trigger not in lifecycle.triggers():
        what = f"okänt steg {trigger!r} för {case_ref(case)}"
    elif lifecycle.transition(trigger, case.state) is None:
        what = f"{trigger!r} går inte från tillståndet '{state_label}' för {case_ref(case)}"
    else:
        what = (
            f"{trigger!r} får inte utföras av {actor.email} ({_roles_text(actor.roles)}) "
            f"för {case_ref(case)} i tillståndet '{state_label}'"
        )
    return NotPermitted(f"{what}; {can}")


def _record(
    session: Session,
    head: audit.ChainHead,
    case: Case,
    actor: Actor,
    now: datetime,
    from_state: str | None,
    trigger: str,
    comment: str | None,
    data: dict[str, Any],
) -> None:
    """The audit event of one change of `case` (already in its new state)."""
    audit.append(
        session,
        head,
        subject_kind=SUBJECT,
        subject_id=case.id,  # type: ignore[arg-type]
        subject_ref=case_ref(case),
        from_state=from_state,
        to_state=case.state,
        trigger=trigger,
        actor=actor,
        at=now,
        comment=comment,
        data=data,
    )


# -- views ----------------------------------------------------------------------------------


@dataclass
class EventView:
    seq: int
    at: datetime
    trigger: str
    from_state: str | None
    to_state: str
    actor: str
    comment: str | None
    data: dict[str, Any]


@dataclass
class CaseView:
    """A case as the edges show it; times in local time, labels resolved."""

    id: int
    ref: str
    dnr: str | None
    title: str
    state: str
    state_label: str
    version: int
    inriktning: str
    malgrupp: str | None
    syfte: str | None
    mal: str | None
    start: date | None
    end: date | None
    owner_party: str | None
    parties: list[str]
    project_owner: str | None
    budget_requested: dict[str, int]
    followup_plan: str | None
    recommendation: str | None
    recommendation_motivation: str | None
    decision_paragraph: str | None
    agreement_signed_on: date | None
    final_report_on: date | None
    created_at: datetime
    updated_at: datetime
    history: list[EventView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _view(
    session: Session,
    app: App,
    case: Case,
    *,
    with_history: bool,
    parties: list[PartyRef] | None = None,
    people: dict[int, Person] | None = None,
) -> CaseView:
    zone = app.settings.zone
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    parties = parties if parties is not None else _parties_of(session, case.id)
    owner: PartyRef | Party | None = next((p for p in parties if p.id == case.owner_party_id), None)
    if owner is None and case.owner_party_id is not None:
        owner = session.get(Party, case.owner_party_id)
    person = None
    if case.project_owner_id is not None:
        person = (people or {}).get(case.project_owner_id) or session.get(
            Person, case.project_owner_id
        )
    view = CaseView(
        id=case.id,  # type: ignore[arg-type]
        ref=case_ref(case),
        dnr=case.dnr,
        title=case.title,
        state=case.state,
        state_label=lifecycle.label_of(case.state),
        version=case.version,
        inriktning=case.inriktning,
        malgrupp=case.malgrupp,
        syfte=case.syfte,
        mal=case.mal,
        start=case.start_date,
        end=case.end_date,
        owner_party=owner.name if owner else None,
        parties=[p.name for p in parties],
        project_owner=person.email if person else None,
        budget_requested={k: int(v) for k, v in sorted(case.budget_requested.items())},
        followup_plan=case.followup_plan,
        recommendation=case.recommendation,
        recommendation_motivation=case.recommendation_motivation,
        decision_paragraph=case.decision_paragraph,
        agreement_signed_on=case.agreement_signed_on,
        final_report_on=case.final_report_on,
        created_at=local(case.created_at, zone),
        updated_at=local(case.updated_at, zone),
    )
    if with_history:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.subject_kind == SUBJECT, AuditEvent.subject_id == case.id)
            .order_by(col(AuditEvent.seq))
        )
        view.history = [
            EventView(
                e.seq,
                local(e.at, zone),
                e.trigger,
                e.from_state,
                e.to_state,
                e.actor_email,
                e.comment,
                e.data,
            )
            for e in events
        ]
    return view


# -- commands -------------------------------------------------------------------------------


def submit_idea(
    app: App,
    *,
    actor_email: str,
    values: dict[str, Any],
    forbund: str | None = None,
    comment: str | None = None,
) -> CaseView:
    """A new idea (state idé) from a handläggargrupp, with whatever is known so far."""
    if "title" not in values:
        raise BadInput("en idé behöver en titel (title)")
    now = app.clock()
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    with app.db.transaction() as session, session.no_autoflush:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        if not actor.roles & lifecycle.create_roles:
            raise NotPermitted(
                f"{actor.email} ({_roles_text(actor.roles)}) får inte lämna in idéer; "
                f"det får: {_roles_text(lifecycle.create_roles)}"
            )
        case = Insats(
            forbund_id=organisation.id,  # type: ignore[arg-type]
            title="",
            state=lifecycle.initial,
            submitted_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        ctx = FieldContext(session, organisation.id, parties=[])  # type: ignore[arg-type]
        recorded = apply_fields(case, values, None, ctx)
        if comment:
            check_free_text(comment, "kommentaren")
        session.add(case)
        session.flush()
        if ctx.parties_changed:
            _save_parties(session, case, ctx.parties)
        _record(
            session, head, case, actor, now, None, CREATE_TRIGGER, comment, {"fields": recorded}
        )
        return _view(session, app, case, with_history=True, parties=ctx.parties)


def fire_in(
    session: Session,
    app: App,
    *,
    forbund: ForbundRef,
    case: Case,
    actor: Actor,
    trigger: str,
    now: datetime,
    comment: str | None = None,
    values: dict[str, Any] | None = None,
    expected_version: int | None = None,
    parties: list[PartyRef] | None = None,
) -> list[PartyRef]:
    """Fire `trigger` on `case` inside the caller's transaction (steps 1-7 of the module doc).

    For services whose own change must commit together with the case's (a board decision,
    a justering): call it within their transaction. `parties` are the case's parties if the
    caller read them with the case (`read_case`). Returns the case's parties.
    """
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    zone = app.settings.zone
    with session.no_autoflush:
        head = audit.lock_chain(session, forbund.id)  # type: ignore[arg-type]
        if expected_version is not None and case.version != expected_version:
            raise Conflict(
                f"{case_ref(case)} har ändrats (version {case.version}, du såg {expected_version}); "
                "läs om ärendet med 'finsam cases show' och försök igen"
            )
        transition = lifecycle.transition(trigger, case.state)
        if transition is None or not transition.roles & actor.roles:
            raise _not_allowed(lifecycle, case, trigger, actor)
        before = _snapshot(case)
        if parties is None:
            parties = _parties_of(session, case.id)
        ctx = FieldContext(session, forbund.id, parties=list(parties))  # type: ignore[arg-type]
        recorded = apply_fields(case, values or {}, transition.sets, ctx) if values else {}
        if comment:
            check_free_text(comment, "kommentaren")
        facts = Facts(
            subject=case,
            today=local_date(now, zone),
            comment=comment,
            parties=ctx.parties,
            session=session,
        )
        new_state, failures = app.lifecycles[SUBJECT].fire(case.state, trigger, facts)
        if new_state is None:
            reasons = "; ".join(f"{name}: {problem}" for name, problem in failures)
            raise NotPermitted(f"{trigger!r} kan inte utföras för {case_ref(case)}: {reasons}")
        from_state = case.state
        data: dict[str, Any] = {"fields": recorded} if recorded else {}
        if "assign_dnr" in transition.effects and case.dnr is None:
            case.dnr = allocate_dnr(session, forbund, local(now, zone).year)
            data["dnr"] = case.dnr
        case.state = new_state
        case.updated_at = now
        _write(session, case, before)
        if ctx.parties_changed:
            _save_parties(session, case, ctx.parties)
        _record(session, head, case, actor, now, from_state, trigger, comment, data)
    return ctx.parties


def fire(
    app: App,
    *,
    ref: str,
    trigger: str,
    actor_email: str,
    forbund: str | None = None,
    comment: str | None = None,
    values: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> CaseView:
    """Fire one trigger on one case as one person, in a transaction of its own."""
    now = app.clock()
    try:
        with app.db.transaction() as session:
            # The chain lock comes first so that what we read next cannot change under us.
            change = begin_change(session, forbund, actor_email)
            case, parties = read_case(session, change.forbund, ref)
            parties = fire_in(
                session,
                app,
                forbund=change.forbund,
                case=case,
                actor=change.actor,
                trigger=trigger,
                now=now,
                comment=comment,
                values=values,
                expected_version=expected_version,
                parties=parties,
            )
            return _view(session, app, case, with_history=False, parties=parties)
    except IntegrityError as exc:
        raise Conflict(
            f"{ref} kunde inte sparas ({exc.orig.__class__.__name__}); försök igen"
        ) from None


def get_case(app: App, *, ref: str, forbund: str | None = None) -> CaseView:
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        return _view(session, app, find_case(session, organisation, ref), with_history=True)


def list_cases(app: App, *, forbund: str | None = None, state: str | None = None) -> list[CaseView]:
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    if state is not None and state not in lifecycle.states:
        raise BadInput(f"okänt tillstånd {state!r}; kända: {', '.join(lifecycle.states)}")
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        query = select(Insats).where(Insats.forbund_id == organisation.id)
        if state is not None:
            query = query.where(Insats.state == state)
        # Registered cases by dnr, then ideas; the same order on SQLite and PostgreSQL.
        order = (col(Insats.dnr).is_(None), col(Insats.dnr), col(Insats.id))
        cases = session.exec(query.order_by(*order)).all()
        # Parties and project owners of all listed cases in two queries, not two per case.
        parties: dict[int, list[PartyRef]] = {case.id: [] for case in cases}  # type: ignore[misc]
        for insats_id, party in session.exec(
            select(InsatsParty.insats_id, Party)
            .join(Party, col(Party.id) == col(InsatsParty.party_id))
            .join(Insats, col(Insats.id) == col(InsatsParty.insats_id))
            .where(Insats.forbund_id == organisation.id)
            .order_by(col(Party.id))
        ):
            if insats_id in parties:
                parties[insats_id].append(PartyRef(party.id, party.kind, party.name))  # type: ignore[arg-type]
        people = {
            person.id: person
            for person in session.exec(select(Person).where(Person.forbund_id == organisation.id))
        }
        return [
            _view(session, app, case, with_history=False, parties=parties[case.id], people=people)  # type: ignore[arg-type, index]
            for case in cases
        ]


def available_triggers(
    app: App, *, ref: str, actor_email: str, forbund: str | None = None
) -> list[str]:
    """What this person may fire on this case now (roles and state; conditions not checked)."""
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        case = find_case(session, organisation, ref)
        actor = find_actor(session, organisation, actor_email)
        return [t.trigger for t in lifecycle.available(case.state, actor.roles)]
