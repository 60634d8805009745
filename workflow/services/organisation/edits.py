"""An edit of a förbund's organisation: who acts, the chain head it appends to, what it did.

Every change of a party, a person, a role or an organ is one audit event in the förbund's hash
chain, named after the person who acted (`--as`). Only a förbund's creation has no such person
yet: it is recorded as done by the installation (INSTALLATION) on behalf of the operator who ran
the command, whose name is kept in each event's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from workflow.models import ForbundRef

if TYPE_CHECKING:  # only for annotations: the App imports the services' modules
    from workflow.app import App
    from workflow.services.cases.audit import ChainHead
    from workflow.services.organisation.people import Actor

# The audit chain and begin_change (services/cases) are imported where they are used: the
# cases package builds on organisation.people, which builds on this module.

# The actor of the events that create a förbund, before it has any person of its own.
INSTALLATION = "installation@finsam"

# The audit subjects of the organisation; `history` reads exactly these.
SUBJECTS = ("forbund", "party", "person", "organ", "organ_member")


@dataclass
class Edit:
    """One transaction's change of a förbund's organisation."""

    app: App
    session: Session
    forbund: ForbundRef
    head: ChainHead
    actor: Actor | str
    now: datetime
    # Added to every event's data: the operator and channel of an installation-level change.
    context: dict[str, Any] = field(default_factory=dict)
    # What was done, one Swedish sentence per change, for the command's report.
    done: list[str] = field(default_factory=list)
    # An import checks once, at its end, that someone may still manage the förbund (the file
    # may take the role from one person before it gives it to another).
    manager_check_at_end: bool = False

    def record(
        self,
        *,
        kind: str,
        row_id: int,
        ref: str,
        trigger: str,
        to_state: str,
        said: str,
        from_state: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Exactly one audit event for one change, and its sentence in the report."""
        from workflow.services.cases import audit

        self.session.flush()
        audit.append(
            self.session,
            self.head,
            subject_kind=kind,
            subject_id=row_id,
            subject_ref=ref[:60],
            from_state=from_state,
            to_state=to_state,
            trigger=trigger,
            actor=self.actor,
            at=self.now,
            comment=said,
            data={**(data or {}), **self.context},
        )
        self.done.append(said)


def open_edit(app: App, session: Session, forbund: str | None, actor_email: str) -> Edit:
    """The förbund's change by a person who may manage its organisation."""
    from workflow.services.cases.change import begin_change

    organisation, head, actor = begin_change(session, forbund, actor_email)
    app.actions.require(actor, "manage_organisation")
    return Edit(app, session, organisation, head, actor, app.clock())


def installation_edit(
    app: App, session: Session, forbund: ForbundRef, *, operator: str, channel: str
) -> Edit:
    """The change that creates a förbund: done by the installation for `operator`."""
    from workflow.services.cases import audit

    head = audit.lock_chain(session, forbund.id)  # type: ignore[arg-type]
    return Edit(
        app,
        session,
        forbund,
        head,
        INSTALLATION,
        app.clock(),
        context={"operator": operator, "channel": channel},
    )
