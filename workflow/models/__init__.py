"""All tables; importing this module registers them on SQLModel.metadata."""

from workflow.models.audit import AuditChain, AuditEvent
from workflow.models.forbund import Forbund, Party, Person, PersonRole
from workflow.models.insats import DnrSequence, Insats, InsatsParty

__all__ = [
    "AuditChain",
    "AuditEvent",
    "DnrSequence",
    "Forbund",
    "Insats",
    "InsatsParty",
    "Party",
    "Person",
    "PersonRole",
]
