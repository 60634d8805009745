"""Cases (insatser): ideas, the one way a case changes state, reading and listing them, and
the machinery every change shares (opening a change, the audit chain, diarienummer).

The case API is re-exported here, so callers write `cases.fire(...)`, `cases.get_case(...)`.
Each name is imported on first use: `cases show` loads the views, not the fire path
(workflow/cli/main.py, start-up).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

# Each name and the module of workflow.services.cases that defines it.
_MODULES: dict[str, str] = {
    "fire": "fire",
    "fire_in": "fire",
    "submit_idea": "ideas",
    "field_errors": "ideas",
    "too_few_parties": "ideas",
    "SUBJECT": "records",
    "case_ref": "records",
    "find_case": "records",
    "read_case": "records",
    "Scope": "rights",
    "actionable_scopes": "rights",
    "can_see": "rights",
    "visible_scopes": "rights",
    "OthersCan": "steps",
    "Step": "steps",
    "others_can": "steps",
    "steps_for": "steps",
    "CaseView": "views",
    "EventView": "views",
    "get_case": "views",
    "list_cases": "views",
    "CaseFilter": "views",
    "count_cases": "views",
    "iter_cases": "views",
    "Page": "views",  # workflow.services.paging's, as the views give it out
}

__all__ = [
    "SUBJECT",
    "CaseFilter",
    "CaseView",
    "EventView",
    "OthersCan",
    "Page",
    "Scope",
    "Step",
    "actionable_scopes",
    "can_see",
    "case_ref",
    "count_cases",
    "field_errors",
    "find_case",
    "fire",
    "fire_in",
    "get_case",
    "iter_cases",
    "list_cases",
    "others_can",
    "read_case",
    "steps_for",
    "submit_idea",
    "too_few_parties",
    "visible_scopes",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES})


class _Package(types.ModuleType):
    """This package, keeping its API names when a submodule of the same name is imported.

    Importing workflow.services.cases.fire binds the module to the package's name `fire`;
    here that name stays the function, as it was when the package imported it eagerly.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _MODULES.get(name) == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

if TYPE_CHECKING:
    from workflow.services.cases.fire import fire, fire_in
    from workflow.services.cases.ideas import field_errors, submit_idea, too_few_parties
    from workflow.services.cases.records import SUBJECT, case_ref, find_case, read_case
    from workflow.services.cases.rights import Scope, actionable_scopes, can_see, visible_scopes
    from workflow.services.cases.steps import OthersCan, Step, others_can, steps_for
    from workflow.services.cases.views import (
        CaseFilter,
        CaseView,
        EventView,
        Page,
        count_cases,
        get_case,
        iter_cases,
        list_cases,
    )
