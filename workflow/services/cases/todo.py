"""Each person's "Att göra": what waits on them now, derived from the lifecycle.

A case waits on a person when a step people take from its state is one their roles allow,
with the relation the step asks of those roles (states/insats.yaml; rights.actionable_scopes).
Its conditions are not asked: a condition that does not hold is work for that person too, and
the case page says what is missing. The steps a service performs (beredning, agenda, protocol,
agreements, closure) wait on their own pages, not on a case's; the kansli's overview lists them.

    todo_for(app, forbund=..., viewer_email=..., limit=10)     -> Todo, per state
    mine_for(app, forbund=..., viewer_email=..., limit=10)     -> Mine: their ideas, insatser
    kansli_overview(app, forbund=..., viewer_email=...)        -> per state, or None

Every list is filtered in SQL and cut at `limit` per group (what waits: what has waited
longest in its state first; one's own: in the case list's order): a start page costs a few
queries per state whatever the number of cases. "Since" is when the case entered its state
(`Insats.state_since`, set where the state changes; the index on förbund, state and it gives
each state's longest-waiting cases without sorting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, literal, select, union_all
from sqlmodel import Session
from sqlmodel import select as sqlmodel_select

from workflow.clock import local, local_date
from workflow.conditions import RELATIONS, relations_held
from workflow.lifecycle.definition import SERVICES, Lifecycle, TransitionDef
from workflow.lifecycle.refusals import who_may
from workflow.models import AuditEvent, ForbundRef, Insats
from workflow.services.cases.records import INSATS_TABLE, SUBJECT
from workflow.services.cases.rights import SEE, Scope, actionable_scopes, scopes_clause
from workflow.services.cases.views import (  # _views: the list's views, 3 queries a page
    CaseFilter,
    CaseView,
    _views,
    count_cases,
    list_cases,
)
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor, find_actor
from workflow.services.paging import check_limit
from workflow.vocabulary import Role

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App

# The förbund's office: whose steps the overview of what waits on the kansli lists.
KANSLI_ROLES = frozenset({Role.FORBUNDSCHEF, Role.SEKRETERARE, Role.ADMIN})
# Who gets that overview on their start page: the förbundschef leads the kansli.
OVERVIEW_ROLES = frozenset({Role.FORBUNDSCHEF})

MAX_PER_GROUP = 100
# A start page counts the cases of a state up to this many: each count then reads at most that
# many rows of the state's index, and "more than 1 000" is as much to do as 10 000.
COUNT_CAP = 1000

_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Waiting:
    """A case on a start page: the steps this person may take on it now (their labels), and
    since when it is in its state (local time) and for how many days."""

    case: CaseView
    steps: tuple[str, ...]
    since: datetime
    days: int


@dataclass(frozen=True)
class TodoGroup:
    """The cases of one state that wait on the person: how many, and the first of them."""

    state: str
    state_label: str
    # How many, counted up to COUNT_CAP; more than that is `capped` ("fler än 1 000").
    count: int
    cases: list[Waiting]
    capped: bool = False

    @property
    def more(self) -> bool:
        return self.count > len(self.cases)


@dataclass(frozen=True)
class Todo:
    groups: list[TodoGroup]

    @property
    def count(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def capped(self) -> bool:
        return any(group.capped for group in self.groups)


@dataclass(frozen=True)
class Mine:
    """The cases a person has to do with (what they submitted, the insatser they own): how
    many, and the first of them. `kind` names them: "idéer" or "insatser"."""

    kind: str
    # How many, counted up to COUNT_CAP; more than that is `capped` ("fler än 1 000").
    count: int
    cases: list[Waiting]
    capped: bool = False

    @property
    def more(self) -> bool:
        return self.count > len(self.cases)


@dataclass(frozen=True)
class KansliStep:
    """A step from a state that a kansli role takes: who may, and where (for a step a
    service performs; None: on the case page)."""

    label: str
    who: str
    where: str | None


@dataclass(frozen=True)
class KansliState:
    state: str
    state_label: str
    count: int
    steps: tuple[KansliStep, ...]
    capped: bool = False


# -- what waits on a person -----------------------------------------------------------------


def todo_for(app: App, *, forbund: str | None, viewer_email: str, limit: int = 10) -> Todo:
    """The cases where this person may take a step now, per state in the lifecycle's order:
    each state's count and its first `limit` cases, each with the steps and since when."""
    check_limit(limit, MAX_PER_GROUP)
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
        scopes = tuple(actionable_scopes(app, actor))
        acting = {state for scope in scopes for state in scope.states or lifecycle.states}
        states = [state for state in lifecycle.states if state in acting]
        counts = _counts_in_states(session, organisation, scopes, states)
        waiting = [state for state in states if counts.get(state)]
        first = _first_in_states(session, organisation, scopes, waiting, limit)
        views = {view.id: view for view in _views(session, app, first)}
        pages: list[tuple[str, int, list[CaseView]]] = [
            (state, counts[state], [views[c.id] for c in first if c.state == state])  # type: ignore[index]
            for state in waiting
        ]
    shown = _waiting(app, actor, lifecycle, [view for _, _, items in pages for view in items])
    return Todo(
        [
            TodoGroup(
                state,
                lifecycle.label_of(state),
                min(count, COUNT_CAP),
                [shown[v.id] for v in items],
                capped=count > COUNT_CAP,
            )
            for state, count, items in pages
        ]
    )


def own_scopes(app: App, actor: Actor) -> tuple[Scope, ...]:
    """The cases this person has to do with through a relation that lets them see a case
    (states/actions.yaml see_case): a handläggare's ideas, a projektägare's insatser. None
    for someone who sees every case by role alone (the kansli, the board)."""
    action = app.actions[SEE]
    relations = {
        relation for role in action.roles & actor.roles for relation in action.relations_for(role)
    }
    return tuple(
        Scope(None, **{RELATIONS[SUBJECT][relation].column: actor.id})
        for relation in sorted(relations)
    )


def mine_for(app: App, *, forbund: str | None, viewer_email: str, limit: int = 10) -> Mine | None:
    """The cases this person submitted or owns (their ideas; a projektägare's insatser), in
    list order, or None for someone without such a relation to cases."""
    check_limit(limit, MAX_PER_GROUP)
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
    scopes = own_scopes(app, actor)
    if not scopes:
        return None
    filters = CaseFilter(scopes=scopes)
    page = list_cases(app, forbund=organisation.slug, filters=filters, limit=limit)
    # One's own are few for most, but a handläggare who registers every idea of the förbund
    # has them all: counted up to COUNT_CAP, as a state's cases are.
    count = count_cases(app, forbund=organisation.slug, filters=filters, up_to=COUNT_CAP)
    shown = _waiting(app, actor, lifecycle, page.items)
    kind = "insatser" if Role.PROJEKTAGARE in actor.roles else "idéer"
    return Mine(
        kind,
        min(count, COUNT_CAP),
        [shown[view.id] for view in page.items],
        capped=count > COUNT_CAP,
    )


# -- what waits on the kansli ---------------------------------------------------------------


def kansli_overview(
    app: App, *, forbund: str | None, viewer_email: str
) -> list[KansliState] | None:
    """Every state in which a step waits on the kansli (on the case page or in a service),
    with how many of the förbund's cases are in it; None for someone who does not lead the
    kansli (OVERVIEW_ROLES)."""
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, viewer_email)
        actor = find_actor(session, organisation, viewer_email)
        if not actor.roles & OVERVIEW_ROLES:
            return None
        steps = {
            state: tuple(
                _kansli_step(lifecycle, transition)
                for transition in lifecycle.transitions
                if state in transition.sources and transition.roles & KANSLI_ROLES
            )
            for state in lifecycle.states
        }
        counts = _counts_in_states(session, organisation, None, [s for s in steps if steps[s]])
    return [
        KansliState(
            state,
            lifecycle.label_of(state),
            min(counts[state], COUNT_CAP),
            steps[state],
            capped=counts[state] > COUNT_CAP,
        )
        for state in lifecycle.states
        if counts.get(state)
    ]


def _kansli_step(lifecycle: Lifecycle, transition: TransitionDef) -> KansliStep:
    where = None
    if transition.service is not None:
        # "styrelsens protokoll ('finsam meetings decide' ...)": the place, not the commands.
        where = SERVICES[lifecycle.subject][transition.service].split(" ('")[0]
    return KansliStep(transition.label, who_may(lifecycle, [transition]), where)


# -- shared ---------------------------------------------------------------------------------


def _within(
    organisation: ForbundRef, scopes: tuple[Scope, ...] | None, state: str
) -> list[ColumnElement[bool]]:
    where = [INSATS_TABLE.c.forbund_id == organisation.id, INSATS_TABLE.c.state == state]
    within = scopes_clause(scopes)
    if within is not None:
        where.append(within)
    return where


def _counts_in_states(
    session: Session,
    organisation: ForbundRef,
    scopes: tuple[Scope, ...] | None,
    states: list[str],
) -> dict[str, int]:
    """How many of the förbund's cases in each state are within the scopes, each counted up to
    one more than COUNT_CAP (so the caller can tell "more than"): one query, reading at most
    that many rows of the state's index per state."""
    if not states:
        return {}
    parts = []
    for state in states:
        found = (
            select(INSATS_TABLE.c.id)
            .where(*_within(organisation, scopes, state))
            .limit(COUNT_CAP + 1)
            .subquery()
        )
        parts.append(
            select(literal(state).label("state"), func.count().label("n")).select_from(found)
        )
    rows = session.execute(union_all(*parts)).all()
    return {state: int(count) for state, count in rows}


def _first_in_states(
    session: Session,
    organisation: ForbundRef,
    scopes: tuple[Scope, ...],
    states: list[str],
    limit: int,
) -> list[Insats]:
    """The first `limit` cases of each state within the scopes: those that entered the state
    longest ago first (then by id), which ix_insats_forbund_state_since gives without sorting."""
    if not states:
        return []
    waited = (INSATS_TABLE.c.state_since, INSATS_TABLE.c.id)
    parts = [
        select(
            select(INSATS_TABLE.c.id)
            .where(*_within(organisation, scopes, state))
            .order_by(*waited)
            .limit(limit)
            .subquery()
        )
        for state in states
    ]
    ids = session.execute(union_all(*parts)).scalars().all()
    if not ids:
        return []
    query = sqlmodel_select(Insats).where(INSATS_TABLE.c.id.in_(ids)).order_by(*waited)
    return list(session.exec(query).all())


def _waiting(
    app: App, actor: Actor, lifecycle: Lifecycle, views: list[CaseView]
) -> dict[int, Waiting]:
    """These cases with the steps the person may take and since when each is in its state:
    one query for all of them."""
    if not views:
        return {}
    insats = INSATS_TABLE
    ids = sorted(view.id for view in views)
    with app.db.reading() as session:
        rows = session.execute(
            select(
                insats.c.id,
                insats.c.state,
                insats.c.project_owner_id,
                insats.c.submitted_by_id,
                insats.c.state_since,
            ).where(insats.c.id.in_(ids))
        ).all()
    zone = app.settings.zone
    today = local_date(app.clock(), zone)
    facts = {row.id: row for row in rows}
    shown: dict[int, Waiting] = {}
    for view in views:
        row = facts[view.id]
        case = SimpleNamespace(
            project_owner_id=row.project_owner_id, submitted_by_id=row.submitted_by_id
        )
        held = relations_held(SUBJECT, case, actor.id)
        steps = tuple(t.label for t in lifecycle.available(row.state, actor.roles, held))
        since = local(row.state_since, zone)
        shown[view.id] = Waiting(view, steps, since, max(0, (today - since.date()).days))
    return shown
