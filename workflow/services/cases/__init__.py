"""Cases (insatser): ideas, the one way a case changes state, reading and listing them, and
the machinery every change shares (opening a change, the audit chain, diarienummer).

The case API is re-exported here, so callers write `cases.fire(...)`, `cases.get_case(...)`.
"""

from workflow.services.cases.fire import fire, fire_in
from workflow.services.cases.ideas import submit_idea
from workflow.services.cases.records import SUBJECT, case_ref, find_case, read_case
from workflow.services.cases.views import (
    CaseView,
    EventView,
    available_triggers,
    get_case,
    list_cases,
)

__all__ = [
    "SUBJECT",
    "CaseView",
    "EventView",
    "available_triggers",
    "case_ref",
    "find_case",
    "fire",
    "fire_in",
    "get_case",
    "list_cases",
    "read_case",
    "submit_idea",
]
