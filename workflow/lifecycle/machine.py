"""The `transitions` machine an Engine fires through, built when a lifecycle first fires.

In a module of its own so that `transitions` is imported by the first state change, not at
start-up: a command that only reads (`cases show`) never builds a machine (workflow/cli/main.py,
start-up). The definition was checked when it was loaded (lifecycle/definition.py), so
building the machine later cannot find a new fault in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from transitions import Machine, MachineError

from workflow.lifecycle.definition import Lifecycle, TransitionDef

__all__ = ["MachineError", "SharedMachine", "build_machine"]


class SharedMachine(Machine):
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


def build_machine(
    lifecycle: Lifecycle,
    guards: Callable[[TransitionDef], Sequence[Callable[[Any], bool]]],
) -> SharedMachine:
    """The lifecycle's graph as one shared machine; `guards` gives each transition's checks."""
    machine = SharedMachine(
        model=None,
        states=list(lifecycle.states),
        initial=lifecycle.initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
    for t in lifecycle.transitions:
        machine.add_transition(t.trigger, list(t.sources), t.dest, conditions=list(guards(t)))
    return machine
