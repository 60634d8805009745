"""Why a person may not take a step, in Swedish, and who may instead.

One judgement for every path that takes a step (a case's `fire`, a styrdokument's, the dry run
of `services/cases/steps.py`), so that a refusal always names its real reason, each with the
error (and exit code) that means it:

  1. a step the lifecycle does not know                     -> BadInput
  2. a step none of the person's roles ever takes            -> NotPermitted
  3. a step that does not go from the record's state         -> Conflict
  4. a step this state allows, but not for the person's roles -> NotPermitted
  5. a role limited by a relation the person does not have   -> NotPermitted
  6. a step a service performs (`service:`)                  -> NotPermitted
  7. conditions that do not hold                             -> ConditionFailed (`unmet`)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workflow.conditions import RELATIONS
from workflow.errors import BadInput, ConditionFailed, Conflict, FinsamError, NotPermitted
from workflow.lifecycle.definition import SERVICES, Lifecycle, TransitionDef
from workflow.vocabulary import role_label, roles_text


@dataclass(frozen=True)
class Attempt:
    """Who tries a step on what: the record as people name it, its state, the person."""

    ref: str
    state: str
    who: str
    roles: frozenset[str]
    # The person's relations to the record (conditions.RELATIONS names).
    held: frozenset[str] = frozenset()


def quoted(text: str) -> str:
    return f"”{text}”"


def step_text(transition: TransitionDef) -> str:
    """A step as a refusal offers it: its label, and the word to type."""
    return f"{quoted(transition.label)} ({transition.trigger})"


def _relation_text(lifecycle: Lifecycle, names: Iterable[str]) -> str:
    relations = RELATIONS[lifecycle.subject]
    return " eller ".join(relations[name].label for name in names)


def who_may(lifecycle: Lifecycle, transitions: Sequence[TransitionDef]) -> str:
    """The roles that may take these steps, each with the relation it needs:
    'förbundschef, projektägare (bara projektägaren för insatsen)'."""
    free: set[str] = set()
    limited: dict[str, list[str]] = {}
    for transition in transitions:
        for role in transition.roles:
            names = transition.relations_for(role)
            if not names:
                free.add(role)
            wanted = limited.setdefault(role, []) if names else []
            wanted.extend(name for name in names if name not in wanted)
    parts = []
    for role in sorted(free | limited.keys(), key=role_label):
        parts.append(
            role_label(role)
            if role in free
            else f"{role_label(role)} (bara {_relation_text(lifecycle, limited[role])})"
        )
    return ", ".join(parts) or "ingen"


def role_reason(lifecycle: Lifecycle, transition: TransitionDef) -> str:
    return f"det får: {who_may(lifecycle, [transition])}"


def relation_reason(lifecycle: Lifecycle, transition: TransitionDef, roles: frozenset[str]) -> str:
    """'bara projektägaren för insatsen': what the person's roles need for this step."""
    names: list[str] = []
    for role in sorted(transition.roles & roles):
        for name in transition.relations_for(role):
            if name not in names:
                names.append(name)
    return f"bara {_relation_text(lifecycle, names)}"


def can_here(lifecycle: Lifecycle, attempt: Attempt) -> str:
    """What the person may do in this state, or who may when they may not."""
    mine = lifecycle.available(attempt.state, attempt.roles, attempt.held)
    if mine:
        return f"{attempt.who} kan här: {', '.join(step_text(t) for t in mine)}"
    others = lifecycle.people_steps(attempt.state)
    if not others:
        return f"i tillståndet {quoted(lifecycle.label_of(attempt.state))} tar ingen några steg"
    return f"{attempt.who} kan inget här; det kan: {who_may(lifecycle, others)}"


def refusal(
    lifecycle: Lifecycle, attempt: Attempt, trigger: str, service: str | None = None
) -> FinsamError | None:
    """The error for this attempt (steps 1-6 of the module doc), or None if the person may
    take the step here; its conditions are checked by the caller (`unmet`). `service` names
    the service taking the step on the person's behalf, for the steps only it performs."""
    state_label = quoted(lifecycle.label_of(attempt.state))
    steps = [t for t in lifecycle.transitions if t.trigger == trigger]
    if not steps:
        return BadInput(f"okänt steg {trigger!r} för {attempt.ref}; {can_here(lifecycle, attempt)}")
    label = quoted(steps[0].label)
    if not any(t.roles & attempt.roles for t in steps):
        return NotPermitted(
            f"{attempt.who} ({roles_text(attempt.roles, 'inga roller')}) får inte ta steget "
            f"{label}; det får: {who_may(lifecycle, steps)}; {can_here(lifecycle, attempt)}"
        )
    transition = lifecycle.transition(trigger, attempt.state)
    if transition is None:
        sources = sorted({quoted(lifecycle.label_of(s)) for t in steps for s in t.sources})
        return Conflict(
            f"{label} går inte från tillståndet {state_label}, där {attempt.ref} är nu; "
            f"det går från: {', '.join(sources)}; {can_here(lifecycle, attempt)}"
        )
    if not transition.roles & attempt.roles:
        return NotPermitted(
            f"{attempt.who} ({roles_text(attempt.roles, 'inga roller')}) får inte ta steget "
            f"{label} för {attempt.ref} i tillståndet {state_label}; "
            f"{role_reason(lifecycle, transition)}; {can_here(lifecycle, attempt)}"
        )
    if not transition.permits(attempt.roles, attempt.held):
        return NotPermitted(
            f"{label} för {attempt.ref}: {relation_reason(lifecycle, transition, attempt.roles)}"
            f", och det är inte {attempt.who}; {role_reason(lifecycle, transition)}"
        )
    if transition.service is not None and transition.service != service:
        where = SERVICES[lifecycle.subject][transition.service]
        return NotPermitted(f"{label} görs inte som ett eget steg för {attempt.ref} utan i {where}")
    return None


def unmet(
    transition: TransitionDef, ref: str, failures: Sequence[tuple[str, str]]
) -> ConditionFailed:
    """The error for conditions that do not hold: each one's own sentence, no names."""
    reasons = "; ".join(problem for _, problem in failures)
    return ConditionFailed(
        f"{quoted(transition.label)} kan inte tas för {ref} än: {reasons}", tuple(failures)
    )
