"""All tables; importing this module registers them on SQLModel.metadata."""

from workflow.models.access import LoginFailure, PasswordCredential, PasswordLink, WebSession
from workflow.models.api_access import ApiToken, IdempotentRequest  # noqa: F401
from workflow.models.audit import AuditChain, AuditEvent
from workflow.models.forbund import Forbund, ForbundRef, ForbundRow, Party, Person, PersonRole
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
from workflow.models.insats import Case, CaseRow, DnrSequence, Insats, InsatsParty
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
from workflow.models.operations import RelayIncident, RelayState, SchedulerProcess
from workflow.models.reminders import OutboxMessage, PolicyDocument, Reminder

__all__ = [
    "AgendaItem",
    "Attendance",
    "AuditChain",
    "AuditEvent",
    "BeredningNote",
    "Case",
    "CaseRow",
    "DnrSequence",
    "Forbund",
    "ForbundRef",
    "ForbundRow",
    "Insats",
    "InsatsParty",
    "Meeting",
    "Organ",
    "OrganMember",
    "OutboxMessage",
    "Paragraph",
    "ParagraphSequence",
    "Party",
    "Person",
    "PersonRole",
    "PolicyDocument",
    "Protocol",
    "ProtocolSigner",
    "Recommendation",
    "Reminder",
]
__all__ += ["RelayIncident", "RelayState", "SchedulerProcess"]
__all__ += [
    "Agreement",
    "BudgetFrame",
    "BudgetLine",
    "FollowUpQuestion",
    "FrameContribution",
    "FrameItem",
    "Payment",
    "Report",
    "UppfoljningRecord",
]
__all__ += ["LoginFailure", "PasswordCredential", "PasswordLink", "WebSession"]
__all__ += ["PersonIdentity"]
