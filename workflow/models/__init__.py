"""All tables, each imported on first use.

`from workflow.models import Case` imports workflow/models/insats.py alone: a command pays
only for the tables it touches (building an SQLModel table class is the dearest part of
start-up). `load_all()` registers every table on SQLModel.metadata, for the migrations and
anything else that needs the whole schema.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Each name and the module of workflow.models that defines it.
_MODULES: dict[str, str] = {
    "LoginFailure": "access",
    "PasswordCredential": "access",
    "PasswordLink": "access",
    "WebSession": "access",
    "ApiToken": "api_access",
    "IdempotentRequest": "api_access",
    "PersonIdentity": "identity",
    "AuditChain": "audit_chain",
    "AuditEvent": "audit",
    "DiariumSecrecy": "diarium",
    "CalendarFeed": "personal",
    "DigestItem": "personal",
    "NotificationPreference": "personal",
    "Forbund": "forbund",
    "ForbundRef": "forbund",
    "ForbundRow": "forbund",
    "Party": "forbund",
    "Person": "forbund",
    "PersonRole": "roles",
    "Agreement": "funding",
    "Attachment": "attachments",
    "BudgetFrame": "funding",
    "BudgetLine": "funding",
    "FollowUpQuestion": "funding",
    "FrameContribution": "funding",
    "FrameItem": "funding",
    "Payment": "funding",
    "Report": "funding",
    "UppfoljningRecord": "funding",
    "Case": "insats",
    "CaseRow": "insats",
    "DnrSequence": "dnr",
    "Insats": "insats",
    "InsatsParty": "insats",
    "AgendaItem": "meetings",
    "Attendance": "meetings",
    "BeredningNote": "meetings",
    "Meeting": "meetings",
    "Organ": "meetings",
    "OrganMember": "meetings",
    "Paragraph": "meetings",
    "ParagraphSequence": "meetings",
    "Protocol": "meetings",
    "ProtocolSigner": "meetings",
    "Recommendation": "meetings",
    "AuditVerification": "operations",
    "RelayIncident": "operations",
    "RelayState": "operations",
    "SchedulerProcess": "operations",
    "OutboxMessage": "reminders",
    "PolicyDocument": "reminders",
    "Reminder": "reminders",
    "ReminderPlan": "reminders",
}

# The names are resolved by __getattr__ below (and listed for type checkers at the end).
__all__ = [
    "AgendaItem",
    "Agreement",
    "ApiToken",
    "Attachment",
    "Attendance",
    "AuditChain",
    "AuditEvent",
    "AuditVerification",
    "BeredningNote",
    "BudgetFrame",
    "BudgetLine",
    "CalendarFeed",
    "Case",
    "CaseRow",
    "DiariumSecrecy",
    "DigestItem",
    "DnrSequence",
    "FollowUpQuestion",
    "Forbund",
    "ForbundRef",
    "ForbundRow",
    "FrameContribution",
    "FrameItem",
    "IdempotentRequest",
    "Insats",
    "InsatsParty",
    "LoginFailure",
    "Meeting",
    "NotificationPreference",
    "Organ",
    "OrganMember",
    "OutboxMessage",
    "Paragraph",
    "ParagraphSequence",
    "Party",
    "PasswordCredential",
    "PasswordLink",
    "Payment",
    "Person",
    "PersonIdentity",
    "PersonRole",
    "PolicyDocument",
    "Protocol",
    "ProtocolSigner",
    "Recommendation",
    "RelayIncident",
    "RelayState",
    "Reminder",
    "ReminderPlan",
    "Report",
    "SchedulerProcess",
    "UppfoljningRecord",
    "WebSession",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES})


def load_all() -> None:
    """Import every table, so that SQLModel.metadata describes the whole schema."""
    for module in sorted(set(_MODULES.values())):
        importlib.import_module(f"{__name__}.{module}")


if TYPE_CHECKING:  # for type checkers and editors: the names as plain imports
    from workflow.models.access import LoginFailure, PasswordCredential, PasswordLink, WebSession
    from workflow.models.api_access import ApiToken, IdempotentRequest
    from workflow.models.attachments import Attachment
    from workflow.models.audit import AuditEvent
    from workflow.models.audit_chain import AuditChain
    from workflow.models.diarium import DiariumSecrecy
    from workflow.models.dnr import DnrSequence
    from workflow.models.forbund import Forbund, ForbundRef, ForbundRow, Party, Person
    from workflow.models.funding import (
        Agreement,
        BudgetFrame,
        BudgetLine,
        FollowUpQuestion,
        FrameContribution,
        FrameItem,
        Payment,
        Report,
        UppfoljningRecord,
    )
    from workflow.models.identity import PersonIdentity
    from workflow.models.insats import Case, CaseRow, Insats, InsatsParty
    from workflow.models.meetings import (
        AgendaItem,
        Attendance,
        BeredningNote,
        Meeting,
        Organ,
        OrganMember,
        Paragraph,
        ParagraphSequence,
        Protocol,
        ProtocolSigner,
        Recommendation,
    )
    from workflow.models.operations import (
        AuditVerification,
        RelayIncident,
        RelayState,
        SchedulerProcess,
    )
    from workflow.models.personal import CalendarFeed, DigestItem, NotificationPreference
    from workflow.models.reminders import OutboxMessage, PolicyDocument, Reminder, ReminderPlan
    from workflow.models.roles import PersonRole
