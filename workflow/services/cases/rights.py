"""Who may see a case and who may act on it: plain functions, per case and as SQL filters.

The rules are data. Seeing is the action `see_case` in states/actions.yaml: the roles that
see every case of their förbund (the kansli, the board, the beredningsgrupp) hold it without
a relation; a projektägare sees the insatser they own or submitted and a handläggare the
ideas they submitted (`relations:`). Acting is the lifecycle's steps (states/insats.yaml):
their roles, and the relation a role needs there. A case of another förbund is never seen:
every lookup is inside the person's förbund already, and a case someone may not see is
"not found", with the same words as a case that does not exist.

A `Scope` describes a set of cases the way a query filters them; a list of scopes is their
union. `visible_scopes` and `actionable_scopes` answer in scopes, so that a list of cases
(`cases/views.py::list_cases`, `CaseFilter.scopes`) filters in SQL and never loads a case
the person may not see.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Table, and_, false, or_, true
from sqlmodel import Session

from workflow.conditions import RELATIONS
from workflow.models import ForbundRef, Insats
from workflow.services.cases.records import INSATS_TABLE, SUBJECT, find_case, no_case

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules, and a
    # command that names no person (`cases show`) needs neither the people nor their roles
    from workflow.app import App
    from workflow.services.organisation.people import Actor

SEE = "see_case"


@dataclass(frozen=True)
class Scope:
    """Cases whose state is in `states` (None: any state) and whose person columns hold the
    ids given (None: anyone). A case matches a list of scopes when it matches any of them."""

    states: frozenset[str] | None
    project_owner_id: int | None = None
    submitted_by_id: int | None = None

    def matches(self, case: Any) -> bool:
        return (
            (self.states is None or case.state in self.states)
            and (self.project_owner_id is None or case.project_owner_id == self.project_owner_id)
            and (self.submitted_by_id is None or case.submitted_by_id == self.submitted_by_id)
        )

    def clause(self, table: Table = INSATS_TABLE) -> ColumnElement[bool]:
        """This scope as a WHERE condition on the insats table."""
        parts: list[ColumnElement[bool]] = []
        if self.states is not None:
            parts.append(table.c.state.in_(sorted(self.states)))
        if self.project_owner_id is not None:
            parts.append(table.c.project_owner_id == self.project_owner_id)
        if self.submitted_by_id is not None:
            parts.append(table.c.submitted_by_id == self.submitted_by_id)
        return and_(*parts) if parts else true()


def matches_any(scopes: Sequence[Scope] | None, case: Any) -> bool:
    """Whether the case is in the union of these scopes (None: every case)."""
    return scopes is None or any(scope.matches(case) for scope in scopes)


def scopes_clause(
    scopes: Sequence[Scope] | None, table: Table = INSATS_TABLE
) -> ColumnElement[bool] | None:
    """The union of scopes as one WHERE condition (None: no filter; []: no case at all)."""
    if scopes is None:
        return None
    if not scopes:
        return false()
    return or_(*(scope.clause(table) for scope in scopes))


def _relation_scope(states: frozenset[str] | None, relation: str, actor: Actor) -> Scope:
    """The cases (in these states) where the person holds the relation: its case column, a
    Scope field of the same name, holds their id."""
    column = RELATIONS[SUBJECT][relation].column
    return Scope(states, **{column: actor.id})


def _merge(scopes: Iterable[Scope]) -> list[Scope]:
    """One scope per person condition, its states united; in a stable order."""
    merged: dict[tuple[int | None, int | None], frozenset[str] | None] = {}
    for scope in scopes:
        key = (scope.project_owner_id, scope.submitted_by_id)
        if key in merged:
            before = merged[key]
            merged[key] = None if before is None or scope.states is None else before | scope.states
        else:
            merged[key] = scope.states
    return [
        Scope(states, owner, submitter)
        for (owner, submitter), states in sorted(
            merged.items(), key=lambda item: (item[0][0] or 0, item[0][1] or 0)
        )
    ]


def visible_scopes(app: App, actor: Actor) -> list[Scope] | None:
    """The cases of their förbund this person may see: None for every case (the kansli, the
    board, the beredningsgrupp); otherwise the scopes of their relations (a projektägare: the
    insatser they own or submitted; a handläggare: what they submitted); [] for none."""
    action = app.actions[SEE]
    scopes: list[Scope] = []
    for role in sorted(action.roles & actor.roles):
        relations = action.relations_for(role)
        if not relations:
            return None
        scopes.extend(_relation_scope(None, relation, actor) for relation in relations)
    return _merge(scopes)


def can_see(app: App, actor: Actor, case: Any) -> bool:
    """Whether this person may see this case (of their own förbund: the caller found it
    there)."""
    return matches_any(visible_scopes(app, actor), case)


def _intersect(first: Scope, second: Scope) -> Scope | None:
    """The cases in both scopes, or None when no case can be in both."""
    if first.states is None:
        states = second.states
    elif second.states is None:
        states = first.states
    else:
        states = first.states & second.states
    people: list[int | None] = []
    for mine, theirs in (
        (first.project_owner_id, second.project_owner_id),
        (first.submitted_by_id, second.submitted_by_id),
    ):
        if mine is not None and theirs is not None and mine != theirs:
            return None
        people.append(mine if mine is not None else theirs)
    if states is not None and not states:
        return None
    return Scope(states, people[0], people[1])


def actionable_scopes(app: App, actor: Actor) -> list[Scope]:
    """The cases where this person may take a step now (roles, state and relation; not the
    conditions): the states where one of their roles has a step people take, limited to
    their own cases where the lifecycle says so, and to the cases they may see."""
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    scopes: list[Scope] = []
    for transition in lifecycle.transitions:
        if transition.service is not None:
            continue
        states = frozenset(transition.sources)
        for role in transition.roles & actor.roles:
            needed = transition.relations_for(role)
            if not needed:
                scopes.append(Scope(states))
            scopes.extend(_relation_scope(states, relation, actor) for relation in needed)
    acting = _merge(scopes)
    visible = visible_scopes(app, actor)
    if visible is None:
        return acting
    both = (_intersect(a, v) for a in acting for v in visible)
    return _merge(scope for scope in both if scope is not None)


def visible_case(session: Session, app: App, forbund: ForbundRef, ref: str, actor: Actor) -> Insats:
    """The case, if this person may see it; otherwise not found, in the same words as a case
    that does not exist (never tell the two apart)."""
    case = find_case(session, forbund, ref)
    if not can_see(app, actor, case):
        raise no_case(forbund, ref.strip())
    return case


WATCH = "watch_forbund"


def require_watch(app: App, actor: Any) -> None:
    """The förbund's own machinery (reminders, outbox, health, audit trail, diarium) is watched
    by its förbundschef and administrators (action watch_forbund); anyone else is refused."""
    app.actions.require_role(actor, WATCH)
