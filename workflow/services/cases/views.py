"""A case as people see it (CaseView), one case with its history, lists of cases, and
what a person may do on a case now.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from workflow.app import App
from workflow.case_fields import PartyRef
from workflow.clock import local
from workflow.errors import BadInput
from workflow.models import (
    AuditEvent,
    Case,
    Insats,
    InsatsParty,
    Party,
    Person,
)
from workflow.services.cases.records import SUBJECT, case_ref, find_case, parties_of
from workflow.services.cases.rights import visible_case
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import find_actor
from workflow.vocabulary import inriktning_label, recommendation_label


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
    # How people read the step and the states (from the lifecycle); the ids above for scripts.
    step_label: str = ""
    from_label: str = ""
    to_label: str = ""


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
    inriktning_label: str
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
    recommendation_label: str
    recommendation_motivation: str | None
    decision_paragraph: str | None
    agreement_signed_on: date | None
    final_report_on: date | None
    created_at: datetime
    updated_at: datetime
    history: list[EventView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def view(
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
    parties = parties if parties is not None else parties_of(session, case.id)
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
        inriktning_label=inriktning_label(case.inriktning),
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
        recommendation_label=recommendation_label(case.recommendation),
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
                lifecycle.step_label(e.trigger, e.from_state),
                lifecycle.label_of(e.from_state),
                lifecycle.label_of(e.to_state),
            )
            for e in events
        ]
    return view


def get_case(
    app: App, *, ref: str, forbund: str | None = None, viewer_email: str | None = None
) -> CaseView:
    """One case with its history. With a viewer, only a case that person may see
    (services/cases/rights.py): any other is not found, in the words of a missing case."""
    with app.db.reading() as session:
        if viewer_email is None:
            organisation = resolve_forbund(session, forbund)
            return view(session, app, find_case(session, organisation, ref), with_history=True)
        organisation = resolve_forbund(session, forbund, viewer_email)
        viewer = find_actor(session, organisation, viewer_email)
        case = visible_case(session, app, organisation, ref, viewer)
        return view(session, app, case, with_history=True)


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
            view(session, app, case, with_history=False, parties=parties[case.id], people=people)  # type: ignore[arg-type, index]
            for case in cases
        ]
