"""One shared `transitions` machine per lifecycle; a case is attached only for one call.

The machine owns the graph and the condition check; the service owns the transaction. Nothing
with side effects runs in a machine callback (an exception there would not roll back the state).
The machine is built by the first fire (lifecycle/machine.py says why).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workflow.conditions import CONDITIONS, Facts
from workflow.lifecycle.definition import Lifecycle, TransitionDef

if TYPE_CHECKING:  # `transitions` is imported by the first fire (lifecycle/machine.py)
    from workflow.lifecycle.machine import SharedMachine


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


class Engine:
    """Fires triggers of one lifecycle. Thread-safe; shared by every case of that lifecycle."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self._lock = threading.Lock()
        self._machine: SharedMachine | None = None

    def _guards(self, transition: TransitionDef) -> list[Callable[[Any], bool]]:
        if not transition.conditions:
            return []
        return [_conditions_of(transition, self.lifecycle.subject)]

    def fire(
        self, state: str, trigger: str, facts: Facts
    ) -> tuple[str | None, list[tuple[str, str]]]:
        """Return (new state, []) or (None, failed conditions as (name, problem))."""
        # Imported here, not at start-up: a command that only reads never loads `transitions`.
        from workflow.lifecycle.machine import MachineError, build_machine

        attached = _Attached(state)
        check = _Check(facts)
        with self._lock:
            if self._machine is None:
                self._machine = build_machine(self.lifecycle, self._guards)
            machine = self._machine
            machine.add_model(attached, initial=state)
            try:
                moved = machine.events[trigger].trigger(attached, check=check)
            except MachineError:
                return None, [("transition", f"{trigger!r} går inte från {state!r}")]
            finally:
                machine.remove_model(attached)
        return (attached.state, []) if moved else (None, check.failures)

    def attached_count(self) -> int:
        return len(self._machine.models) if self._machine is not None else 0
