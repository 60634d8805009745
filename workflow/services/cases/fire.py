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

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import NO_VALUE, set_committed_value
from sqlmodel import Session

from workflow.app import App
from workflow.case_fields import FieldContext, PartyRef, apply_fields
from workflow.clock import local, local_date
from workflow.conditions import Facts, relations_held
from workflow.errors import Conflict
from workflow.lifecycle.refusals import Attempt, refusal, unmet
from workflow.models import (
    Case,
    CaseRow,
    ForbundRef,
)
from workflow.services.cases import audit
from workflow.services.cases.change import begin_change
from workflow.services.cases.records import (
    CASE_COLUMNS,
    INSATS_TABLE,
    SUBJECT,
    case_ref,
    parties_of,
    read_case,
    save_parties,
)
from workflow.services.cases.registration import allocate_dnr
from workflow.services.cases.views import CaseView, view
from workflow.services.organisation.people import Actor
from workflow.text_guard import check_free_text

# No SET clause here: it is made from the columns given at execution, the changed ones only.
_WRITE_CASE = update(INSATS_TABLE).where(
    INSATS_TABLE.c.id == bindparam("b_id"), INSATS_TABLE.c.version == bindparam("b_version")
)


def _snapshot(case: Case) -> dict[str, Any]:
    """The case's columns as the database has them, so that one UPDATE writes all that differs
    (for an ORM-loaded case, also what its service changed before firing)."""
    values = {name: getattr(case, name) for name in CASE_COLUMNS}
    if not isinstance(case, CaseRow):
        original = inspect(case).committed_state
        values.update((k, v) for k, v in original.items() if k in values and v is not NO_VALUE)
    return values


def _write(session: Session, case: Case, before: dict[str, Any]) -> None:
    """Write what changed on the case since `before`, if the row is still that version."""
    changes = {
        name: value for name in CASE_COLUMNS if (value := getattr(case, name)) != before[name]
    }
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


def attempt_of(case: Case, actor: Actor) -> Attempt:
    """The person trying a step on this case, with their relations to it."""
    return Attempt(
        ref=case_ref(case),
        state=case.state,
        who=actor.email,
        roles=actor.roles,
        held=relations_held(SUBJECT, case, actor.id),
    )


def record_event(
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
    service: str | None = None,
) -> list[PartyRef]:
    """Fire `trigger` on `case` inside the caller's transaction (steps 1-7 of the module doc).

    For services whose own change must commit together with the case's (a board decision,
    a justering): call it within their transaction. `parties` are the case's parties if the
    caller read them with the case (`read_case`). `service` names the calling service, for
    the steps the lifecycle says a service performs (`service:` in states/). Returns the
    case's parties.
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
        refused = refusal(lifecycle, attempt_of(case, actor), trigger, service)
        if refused is not None:
            raise refused
        assert transition is not None
        before = _snapshot(case)
        if parties is None:
            parties = parties_of(session, case.id)
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
            raise unmet(transition, case_ref(case), failures)
        from_state = case.state
        data: dict[str, Any] = {"fields": recorded} if recorded else {}
        if "assign_dnr" in transition.effects and case.dnr is None:
            case.dnr = allocate_dnr(session, forbund, local(now, zone).year)
            data["dnr"] = case.dnr
        if new_state != from_state:
            case.state_since = now  # how long it has waited there: "Att göra" sorts by it
        case.state = new_state
        case.updated_at = now
        _write(session, case, before)
        if ctx.parties_changed:
            save_parties(session, case, ctx.parties)
        record_event(session, head, case, actor, now, from_state, trigger, comment, data)
        # Its reminders follow the case (its end date, its avtal, its reports), in this
        # transaction; only for the states those reminders are about, as every change of every
        # case passes here. Imported here: the reminders build on the cases.
        from workflow.services.reminders import planner

        if planner.dates_may_change(app, from_state, new_state):
            planner.replan_insats(session, app, forbund, case.id)  # type: ignore[arg-type]
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
            return view(session, app, case, with_history=False, parties=parties)
    except IntegrityError as exc:
        raise Conflict(
            f"{ref} kunde inte sparas ({exc.orig.__class__.__name__}); försök igen"
        ) from None
