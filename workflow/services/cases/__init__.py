"""Cases (insatser): ideas, the one way a case changes state, reading and listing them, and
the machinery every change shares (opening a change, the audit chain, diarienummer).

The case API is re-exported here, so callers write `cases.fire(...)`, `cases.get_case(...)`.
"""

from workflow.services.cases.fire import fire, fire_in
from workflow.services.cases.ideas import field_errors, submit_idea, too_few_parties
from workflow.services.cases.records import SUBJECT, case_ref, find_case, read_case
from workflow.services.cases.rights import Scope, actionable_scopes, can_see, visible_scopes
from workflow.services.cases.steps import OthersCan, Step, others_can, steps_for
from workflow.services.cases.views import (
    CaseFilter,
    CaseView,
    EventView,
    count_cases,
    get_case,
    iter_cases,
    list_cases,
)
from workflow.services.paging import Page

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
