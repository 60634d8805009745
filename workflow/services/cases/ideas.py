"""A new idea from a handläggargrupp: the first event of a case."""

from __future__ import annotations

from typing import Any

from workflow.app import App
from workflow.case_fields import FieldContext, apply_fields
from workflow.errors import BadInput, NotPermitted
from workflow.models import (
    Insats,
)
from workflow.services.cases.change import begin_change
from workflow.services.cases.fire import record_event
from workflow.services.cases.records import CREATE_TRIGGER, SUBJECT, save_parties
from workflow.services.cases.registration import next_number
from workflow.services.cases.views import CaseView, view
from workflow.text_guard import check_free_text
from workflow.vocabulary import roles_text


def submit_idea(
    app: App,
    *,
    actor_email: str,
    values: dict[str, Any],
    forbund: str | None = None,
    comment: str | None = None,
) -> CaseView:
    """A new idea (state idé) from a handläggargrupp, with whatever is known so far."""
    if "title" not in values:
        raise BadInput("en idé behöver en titel (title)")
    now = app.clock()
    lifecycle = app.lifecycles[SUBJECT].lifecycle
    with app.db.transaction() as session, session.no_autoflush:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        if not actor.roles & lifecycle.create_roles:
            raise NotPermitted(
                f"{actor.email} ({roles_text(actor.roles, 'inga roller')}) får inte lämna in idéer; "
                f"det får: {roles_text(lifecycle.create_roles)}"
            )
        case = Insats(
            forbund_id=organisation.id,  # type: ignore[arg-type]
            number=next_number(session, Insats.__table__, organisation.id),  # type: ignore[attr-defined]
            title="",
            state=lifecycle.initial,
            submitted_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        ctx = FieldContext(session, organisation.id, parties=[])  # type: ignore[arg-type]
        recorded = apply_fields(case, values, None, ctx)
        if comment:
            check_free_text(comment, "kommentaren")
        session.add(case)
        session.flush()
        if ctx.parties_changed:
            save_parties(session, case, ctx.parties)
        record_event(
            session, head, case, actor, now, None, CREATE_TRIGGER, comment, {"fields": recorded}
        )
        return view(session, app, case, with_history=True, parties=ctx.parties)
