"""Every role x trigger x state the definition does not allow is refused and changes nothing.

The combinations are generated from states/insats.yaml, not listed by hand. A step the
definition marks as performed by a service (`service:`) is refused to everyone through
`cases.fire`, and the refusal says where it happens.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from tests.support import World, email
from workflow.errors import NotPermitted
from workflow.lifecycle.definition import SERVICES
from workflow.models import AuditEvent, Insats
from workflow.services import cases
from workflow.vocabulary import Role


def _refused_combinations(world: World) -> list[tuple[str, str, Role]]:
    lifecycle = world.app.lifecycles["insats"].lifecycle
    combos = []
    for state in lifecycle.states:
        for trigger in lifecycle.triggers():
            transition = lifecycle.transition(trigger, state)
            for role in Role:
                if (
                    transition is None
                    or role.value not in transition.roles
                    or transition.service is not None
                ):
                    combos.append((state, trigger, role))
    return combos


def _named(world: World, state: str, trigger: str, refusal: str) -> bool:
    """A refusal names the step: its trigger, or for a service's step its label and where."""
    transition = world.app.lifecycles["insats"].lifecycle.transition(trigger, state)
    if trigger in refusal:
        return True
    assert transition is not None and transition.service is not None, refusal
    where = SERVICES["insats"][transition.service]
    return transition.label in refusal and where in refusal


def _snapshot(world: World, case_id: int) -> tuple[object, ...]:
    with world.app.db.reading() as session:
        case = session.get(Insats, case_id)
        assert case is not None
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
        return (
            case.state,
            case.version,
            case.dnr,
            case.decision_paragraph,
            case.recommendation,
            events,
        )


def test_every_combination_the_definition_does_not_allow_is_refused(world: World) -> None:
    ref = world.idea()
    case_id = world.show(ref).id
    combos = _refused_combinations(world)
    assert len(combos) > 2000  # the full cross product, less what is allowed
    lifecycle = world.app.lifecycles["insats"].lifecycle
    service_steps = {t.trigger for t in lifecycle.transitions if t.service is not None}
    # Every step the board, the beredning, the avtal or the closing performs is in there, for
    # every role that acts through it too.
    assert {
        "bifall",
        "avslag",
        "aterremiss",
        "bordlagg",
        "rekommendera",
        "justera",
    } <= service_steps
    assert {
        (state, t.trigger, Role(role))
        for t in lifecycle.transitions
        if t.service is not None
        for state in t.sources
        for role in t.roles
    } <= set(combos)
    current_state = None
    for state, trigger, role in combos:
        if state != current_state:
            # Put the case in `state` directly: this test is about refusal, not about getting there.
            with world.app.db.transaction() as session:
                session.execute(update(Insats).where(Insats.id == case_id).values(state=state))
            current_state = state
            before = _snapshot(world, case_id)
        with pytest.raises(NotPermitted) as refused:
            cases.fire(
                world.app,
                ref=ref,
                trigger=trigger,
                actor_email=email(role),
                forbund=world.slug,
                values={"decision_paragraph": "§ 1"} if trigger in {"bifall", "avslag"} else None,
                comment="motivering",
            )
        assert _named(world, state, trigger, str(refused.value)), (state, trigger, role)
        assert _snapshot(world, case_id) == before, (state, trigger, role)


def test_a_refusal_names_what_the_actor_may_do_here(world: World) -> None:
    ref = world.idea()
    with pytest.raises(NotPermitted) as refused:
        world.fire(ref, "registrera", Role.HANDLAGGARE)
    assert "handlaggare@test.example kan här: ta_tillbaka" in str(refused.value)
    with pytest.raises(NotPermitted) as nothing:
        world.fire(ref, "registrera", Role.STYRELSE_LEDAMOT)
    assert "kan inte göra något i detta tillstånd" in str(nothing.value)
