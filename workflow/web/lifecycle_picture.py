"""The lifecycle as the case page draws it: every state of states/ in order, each with the
states it leads to and the step that leads there, the case's current state marked and the
states it has passed through shown as such.

An HTML list, not an image: a screen reader reads it as it is, it needs no script, and it is
drawn from the same lifecycle data the engine runs on (workflow/lifecycle/definition.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from workflow.lifecycle.definition import SERVICES, Lifecycle


@dataclass(frozen=True)
class Exit:
    to_label: str
    step_label: str
    # Where a service performs the step ("beredningen", "protokollet" ...), else "".
    where: str


@dataclass(frozen=True)
class StatePicture:
    name: str
    label: str
    current: bool
    passed: bool
    final: bool
    exits: tuple[Exit, ...]

    @property
    def css(self) -> str:
        if self.current:
            return "lifecycle__state lifecycle__state--current"
        if self.passed:
            return "lifecycle__state lifecycle__state--passed"
        return "lifecycle__state"


def picture(lifecycle: Lifecycle, current: str, passed: Iterable[str]) -> list[StatePicture]:
    """The states in the order of states/, the current one marked."""
    been = set(passed) - {current}
    services = SERVICES.get(lifecycle.subject, {})
    result = []
    for state in lifecycle.states.values():
        exits = tuple(
            Exit(
                lifecycle.label_of(t.dest),
                t.label,
                services.get(t.service, "") if t.service else "",
            )
            for t in lifecycle.transitions
            if state.name in t.sources
        )
        result.append(
            StatePicture(
                state.name,
                state.label,
                state.name == current,
                state.name in been,
                state.final,
                exits,
            )
        )
    return result
