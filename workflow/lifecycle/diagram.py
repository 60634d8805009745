"""Render a lifecycle as a Mermaid state diagram, from the same data the engine runs on."""

from __future__ import annotations

from workflow.lifecycle.definition import Lifecycle


def mermaid(lifecycle: Lifecycle) -> str:
    lines = ["stateDiagram-v2"]
    for state in lifecycle.states.values():
        lines.append(f'    state "{state.label}" as {state.name}')
    lines.append(f"    [*] --> {lifecycle.initial}")
    for t in lifecycle.transitions:
        for source in t.sources:
            lines.append(f"    {source} --> {t.dest} : {t.trigger}")
    for state in lifecycle.states.values():
        if state.final:
            lines.append(f"    {state.name} --> [*]")
    return "\n".join(lines)
