"""Every role x trigger x state x relation the definition does not allow is refused, for the
real reason, and changes nothing; what it allows is never refused for who acts or where.

The combinations are generated from states/insats.yaml, not listed by hand. The relation is
the person's tie to the case: their own (they submitted it and own it) or someone else's.
A step the definition marks as performed by a service (`service:`) is refused to everyone
through `cases.fire`, and the refusal says where it happens.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import func, select

from tests.support import World, email, sqlite_by_default
from workflow.errors import ConditionFailed, Conflict, FinsamError, NotPermitted
from workflow.lifecycle.definition import SERVICES, Lifecycle
from workflow.models import AuditEvent, Insats, Person
from workflow.services import cases
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import add_person
from workflow.vocabulary import ROLE_LABELS, Role

RELATIONS = ("own", "other")


def _expected(
    lifecycle: Lifecycle, state: str, trigger: str, role: Role, relation: str
) -> type[FinsamError] | None:
    """The error the definition calls for (the order of lifecycle/refusals.py), or None when
    roles, state and relation allow the step and only its conditions decide."""
    steps = [t for t in lifecycle.transitions if t.trigger == trigger]
    if not any(role.value in t.roles for t in steps):
        return NotPermitted
    transition = lifecycle.transition(trigger, state)
    if transition is None:
        return Conflict
    if role.value not in transition.roles:
        return NotPermitted
    if transition.relations_for(role.value) and relation == "other":
        return NotPermitted
    if transition.service is not None:
        return NotPermitted
    return None


def _combinations(lifecycle: Lifecycle) -> list[tuple[str, str, Role, str]]:
    return [
        (state, trigger, role, relation)
        for state in lifecycle.states
        for trigger in lifecycle.triggers()
        for role in Role
        for relation in RELATIONS
    ]


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


def _place(world: World, case_id: int, state: str, person_id: int) -> None:
    """Put the case in `state`, submitted and owned by `person_id`: this test is about who may
    act where, not about getting there."""
    with world.app.db.transaction() as session:
        session.execute(
            update(Insats)
            .where(Insats.id == case_id)  # type: ignore[arg-type]
            .values(state=state, project_owner_id=person_id, submitted_by_id=person_id)
        )


def _person_ids(world: World) -> dict[str, int]:
    """Everyone's id, with one more person who may act as projektägare or handläggare: the
    owner and submitter of "someone else's case"."""
    with world.app.db.transaction() as session:
        add_person(
            session,
            resolve_forbund(session, world.slug),
            name="Någon annan",
            email="annan@test.example",
            roles=[Role.PROJEKTAGARE.value, Role.HANDLAGGARE.value],
        )
        return {p.email: p.id for p in session.exec(select(Person)) if p.id is not None}


def _values(trigger: str) -> dict[str, str] | None:
    return {"decision_paragraph": "§ 1"} if trigger in {"bifall", "avslag"} else None


# Every role against every trigger in every state: about the rules, not the database (the
# locks and the SQL of a step are tested on both elsewhere), and long; PostgreSQL under -m full.
@sqlite_by_default
def test_every_combination_is_refused_for_its_real_reason_or_not_at_all(world: World) -> None:
    lifecycle = world.app.lifecycles["insats"].lifecycle
    ref = world.idea()
    case_id = world.show(ref).id
    people = _person_ids(world)
    refused = [c for c in _combinations(lifecycle) if _expected(lifecycle, *c) is not None]
    assert len(refused) > 5000  # the full cross product, less what is allowed
    relation_refusals = 0
    for state in lifecycle.states:
        for relation in RELATIONS:
            for role in Role:
                owner = people[email(role) if relation == "own" else "annan@test.example"]
                _place(world, case_id, state, owner)
                before = _snapshot(world, case_id)
                for trigger in lifecycle.triggers():
                    where = (state, trigger, role.value, relation)
                    expected = _expected(lifecycle, state, trigger, role, relation)
                    if expected is None:  # before a step that may succeed: nothing so far
                        assert _snapshot(world, case_id) == before, where
                    try:
                        cases.fire(
                            world.app,
                            ref=ref,
                            trigger=trigger,
                            actor_email=email(role),
                            forbund=world.slug,
                            values=_values(trigger),
                            comment="motivering",
                        )
                    except ConditionFailed as error:
                        # Allowed by role, state and relation: only a condition may stand in
                        # the way.
                        assert expected is None, (where, error)
                    except FinsamError as error:
                        assert type(error) is expected, (where, error)
                        _assert_names_the_reason(lifecycle, where, str(error))
                        if relation == "other" and (
                            _expected(lifecycle, state, trigger, role, "own") is None
                        ):
                            relation_refusals += 1
                            assert "bara " in str(error) and ROLE_LABELS[role] in str(error)
                    else:
                        assert expected is None, where
                        _place(world, case_id, state, owner)  # it moved: back for the next
                        before = _snapshot(world, case_id)
                # Refusals write nothing (versions and events only ever grow).
                assert _snapshot(world, case_id) == before, (state, role.value, relation)

    # Every step limited by a relation was refused to someone without it.
    limited = {
        (state, t.trigger, role)
        for t in lifecycle.transitions
        if t.service is None
        for state in t.sources
        for role, _ in t.relations
    }
    assert relation_refusals == len(limited) > 0


def _assert_names_the_reason(
    lifecycle: Lifecycle, where: tuple[str, str, str, str], message: str
) -> None:
    state, trigger, _, _ = where
    transition = lifecycle.transition(trigger, state) or next(
        t for t in lifecycle.transitions if t.trigger == trigger
    )
    assert f"”{transition.label}”" in message, (where, message)
    if "går inte från tillståndet" in message:
        assert f"”{lifecycle.label_of(state)}”" in message, (where, message)
    elif "eget steg" not in message:
        assert "det får:" in message, (where, message)


def test_a_refusal_names_what_the_actor_may_do_here(world: World) -> None:
    ref = world.idea()
    with pytest.raises(NotPermitted) as refused:
        world.fire(ref, "registrera", Role.HANDLAGGARE)
    assert "handlaggare@test.example kan här: ”Sökande tar tillbaka ansökan” (ta_tillbaka)" in str(
        refused.value
    )
    with pytest.raises(NotPermitted) as nothing:
        world.fire(ref, "registrera", Role.STYRELSE_LEDAMOT)
    assert "styrelse_ledamot@test.example kan inget här; det kan: " in str(nothing.value)
    assert "förbundschef" in str(nothing.value)


def test_a_project_owner_acts_only_on_the_insatser_they_own(world: World) -> None:
    mine = world.idea()
    theirs = world.idea(project_owner=email(Role.FORBUNDSCHEF))
    with pytest.raises(NotPermitted) as refused:
        world.fire(theirs, "ta_tillbaka", Role.PROJEKTAGARE, comment="Fel ansökan")
    assert "bara projektägaren för insatsen eller den som lämnade in idén" in str(refused.value)
    assert world.show(theirs).state == "ide"
    assert world.fire(mine, "ta_tillbaka", Role.PROJEKTAGARE).state == "atertagen"
