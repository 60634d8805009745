"""One shared `transitions` machine per lifecycle; a case is attached only for one call.

The machine owns the graph and the condition check; the service owns the transaction. Nothing
with side effects runs in a machine callback (an exception there would not roll back the state).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine, MachineError

from workflow.conditions import CONDITIONS, Facts
from workflow.lifecycle.definition import Lifecycle, TransitionDef


@dataclass
class _Attached:
    """The plain object the machine moves; the sqlmodel row is written from it afterwards."""

    state: str


@dataclass
class _Check:
    facts: Facts
    failures: list[tuple[str, str]] = field(default_factory=list)


def _conditions_of(transition: TransitionDef, subject: str) -> Callable[[Any], bool]:
    conditions = [CONDITIONS[subject][name] for name in transition.conditions]

    def all_hold(event: Any) -> bool:
        # Evaluate every condition (not just up to the first failure) so the user sees all.
        check: _Check = event.kwargs["check"]
        for condition in conditions:
            problem = condition.check(check.facts)
            if problem is not None:
                check.failures.append((condition.name, problem))
        return not check.failures

    return all_hold


class _SharedMachine(Machine):
    """A machine whose models are attached for one call and fired through `machine.events`.

    `transitions` binds a method per trigger and an `is_<state>` per state onto every model it
    is given, and looks for `on_enter_<state>` methods on it. Our model is a throwaway
    `_Attached` that is never called that way, so binding would only cost time on every fire
    (about a third of the machine's share) and risk a trigger name shadowing an attribute.
    """

    def _checked_assignment(self, model: Any, name: str, func: Any) -> None:
        pass

    def _add_trigger_to_model(self, trigger: str, model: Any) -> None:
        pass

    def _add_model_to_state(self, state: Any, model: Any) -> None:
        pass


class Engine:
    """Fires triggers of one lifecycle. Thread-safe; shared by every case of that lifecycle."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self._lock = threading.Lock()
        self.machine = _SharedMachine(
            model=None,
            states=list(lifecycle.states),
            initial=lifecycle.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for t in lifecycle.transitions:
            self.machine.add_transition(
                t.trigger,
                list(t.sources),
                t.dest,
                conditions=[_conditions_of(t, lifecycle.subject)] if t.conditions else [],
            )

    def fire(
        self, state: str, trigger: str, facts: Facts
    ) -> tuple[str | None, list[tuple[str, str]]]:
        """Return (new state, []) or (None, failed conditions as (name, problem))."""
        attached = _Attached(state)
        check = _Check(facts)
        with self._lock:
            self.machine.add_model(attached, initial=state)
            try:
                moved = self.machine.events[trigger].trigger(attached, check=check)
            except MachineError:
                return None, [("transition", f"{trigger!r} går inte från {state!r}")]
            finally:
                self.machine.remove_model(attached)
        return (attached.state, []) if moved else (None, check.failures)

    def attached_count(self) -> int:
        return len(self.machine.models)
