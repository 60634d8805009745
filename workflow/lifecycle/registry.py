"""The lifecycles a deployment runs, loaded once from its states/ folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workflow.errors import DefinitionError
from workflow.lifecycle.definition import load_lifecycle
from workflow.lifecycle.engine import Engine

REQUIRED = ("insats", "styrdokument")


@dataclass(frozen=True)
class Lifecycles:
    engines: dict[str, Engine]

    def __getitem__(self, name: str) -> Engine:
        return self.engines[name]

    @property
    def insats(self) -> Engine:
        return self.engines["insats"]


def _find(folder: Path, name: str) -> Path:
    for suffix in (".yaml", ".yml"):
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    raise DefinitionError(f"{folder}: livscykeln {name!r} saknas ({name}.yaml)")


def load_lifecycles(folder: Path) -> Lifecycles:
    engines: dict[str, Engine] = {}
    for name in REQUIRED:
        lifecycle = load_lifecycle(_find(folder, name))
        if lifecycle.name != name:
            raise DefinitionError(f"{lifecycle.path}: lifecycle: ska vara {name!r}")
        engines[name] = Engine(lifecycle)
    return Lifecycles(engines)
