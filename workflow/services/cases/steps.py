"""What a person can do on a case now: a dry run of every step people take from its state.

For the CLI's `cases actions` and the web's buttons and forms. Nothing is written: the case
is read, and each step of its state is judged the way `fire` would judge it (roles, relation,
conditions), with the reasons in Swedish for the steps this person cannot take, each saying
what would make it possible. Steps a service performs (`service:` in states/) are not steps
people take and are left out; `others_can` says where they happen and who acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session

from workflow.case_fields import PartyRef, field_labels
from workflow.clock import local_date
from workflow.conditions import CONDITIONS, Facts, relations_held
from workflow.lifecycle.definition import SERVICES, Lifecycle, TransitionDef
from workflow.lifecycle.refusals import relation_reason, role_reason, who_may
from workflow.models import Case
from workflow.services.cases.records import SUBJECT, parties_of
from workflow.services.cases.rights import visible_case
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor, find_actor

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App


@dataclass(frozen=True)
class Step:
    """One step people take from the case's state, as this person may (or may not) take it.

    `allowed`: the step would succeed now with a comment (when `needs_comment`) and the case's
    fields as they are; a condition a field of this step could fix shows as a reason naming
    that field. `reasons`: for a step not allowed, one Swedish sentence each saying why and
    what would make it possible.
    """

    trigger: str
    label: str
    # The case fields this step may record (`sets:` in states/), and their Swedish labels.
    fields: tuple[str, ...]
    field_labels: tuple[str, ...]
    needs_comment: bool
    allowed: bool
    reasons: tuple[str, ...]
    to_state: str = ""
    to_label: str = ""
    # The person's roles and relation to the case allow the step: only its conditions may stand
    # in the way (and the step's fields may be what satisfies them). Such a step waits on them
    # (services/cases/todo.py lists those cases on their start page).
    permitted: bool = False


# A stand-in comment for the dry run: which conditions does a comment satisfy?
_SOME_COMMENT = "motivering"


def _unmet(transition: TransitionDef, facts: Facts) -> list[tuple[str, str]]:
    conditions = CONDITIONS[SUBJECT]
    failures = []
    for name in transition.conditions:
        problem = conditions[name].check(facts)
        if problem is not None:
            failures.append((name, problem))
    return failures


def judge(
    session: Session,
    app: App,
    case: Case,
    actor: Actor,
    parties: list[PartyRef] | None = None,
) -> list[Step]:
    """Every people-fired step from the case's state, judged for this person (a dry run)."""
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    held = relations_held(SUBJECT, case, actor.id)
    today = local_date(app.clock(), app.settings.zone)
    case_parties = parties if parties is not None else parties_of(session, case.id)
    steps = []
    for transition in lifecycle.people_steps(case.state):
        facts = Facts(case, today, None, list(case_parties), session)
        with_comment = Facts(case, today, _SOME_COMMENT, list(case_parties), session)
        reasons: list[str] = []
        if not transition.roles & actor.roles:
            reasons.append(role_reason(lifecycle, transition))
        elif not transition.permits(actor.roles, held):
            reasons.append(relation_reason(lifecycle, transition, actor.roles))
        permitted = not reasons
        without = _unmet(transition, facts)
        remaining = _unmet(transition, with_comment)
        if not reasons:
            reasons.extend(problem for _, problem in remaining)
        steps.append(
            Step(
                trigger=transition.trigger,
                label=transition.label,
                fields=transition.sets,
                field_labels=field_labels(transition.sets),
                needs_comment="comment_given" in transition.conditions
                or len(remaining) < len(without),
                allowed=not reasons,
                reasons=tuple(reasons),
                to_state=transition.dest,
                to_label=lifecycle.label_of(transition.dest),
                permitted=permitted,
            )
        )
    return steps


def steps_for(app: App, *, ref: str, actor_email: str, forbund: str | None = None) -> list[Step]:
    """The steps people take from the case's current state, each judged for this person;
    never the steps a service performs. A case the person may not see is not found."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, actor_email)
        actor = find_actor(session, organisation, actor_email)
        case = visible_case(session, app, organisation, ref, actor)
        return judge(session, app, case, actor)


@dataclass(frozen=True)
class OthersCan:
    """Who acts on the case in its state: the steps people take, each with who may, and
    where the steps a service performs happen instead."""

    state: str
    state_label: str
    steps: tuple[tuple[str, str], ...]  # (step label, who may)
    elsewhere: tuple[tuple[str, str], ...]  # (step label, where it happens)

    def text(self) -> str:
        """One Swedish sentence for the CLI and the web: who can act here, and where."""
        parts = [f"{label}: {who}" for label, who in self.steps]
        parts += [f"{label}: görs i {where}" for label, where in self.elsewhere]
        if not parts:
            return f"i tillståndet ”{self.state_label}” tar ingen några fler steg"
        return f"i tillståndet ”{self.state_label}” kan: " + "; ".join(parts)


def others_in_state(lifecycle: Lifecycle, state: str) -> OthersCan:
    here = [t for t in lifecycle.transitions if state in t.sources]
    return OthersCan(
        state=state,
        state_label=lifecycle.label_of(state),
        steps=tuple((t.label, who_may(lifecycle, [t])) for t in here if t.service is None),
        elsewhere=tuple(
            (t.label, SERVICES[lifecycle.subject][t.service]) for t in here if t.service is not None
        ),
    )


def others_can(app: App, *, ref: str, actor_email: str, forbund: str | None = None) -> OthersCan:
    """Who may act on this case now, for a person who sees it (the "who can act" beside a
    person's own steps)."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, actor_email)
        actor = find_actor(session, organisation, actor_email)
        case = visible_case(session, app, organisation, ref, actor)
        return others_in_state(app.lifecycles[SUBJECT].lifecycle, case.state)
