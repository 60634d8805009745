"""A new idea from a handläggargrupp: the first event of a case."""

from __future__ import annotations

from typing import Any

from workflow.app import App
from workflow.case_fields import FIELDS, FieldContext, apply_fields, field_label
from workflow.conditions import distinct_party_count
from workflow.errors import BadInput, FinsamError, NotPermitted
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


def too_few_parties(count: int) -> str:
    return (
        f"idén har {count} part(er); minst två parter krävs och alla kommuner räknas som en "
        "part – välj fler parter"
    )


def field_errors(
    app: App,
    *,
    values: dict[str, Any],
    forbund: str | None = None,
    actor_email: str | None = None,
    count_parties: bool = True,
) -> dict[str, str]:
    """Each given field read as `submit_idea` and `fire` read it, on a scratch case that is
    never written: field name -> the service's sentence, for the fields that are refused (a
    form shows each beside its field). `count_parties`: parties given must be at least two
    (all kommuner as one), as `submit_idea` demands. Nothing is written."""
    from workflow.services.organisation.forbund import resolve_forbund

    errors: dict[str, str] = {}
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund, actor_email)
        ctx = FieldContext(session, organisation.id, parties=[])  # type: ignore[arg-type]
        scratch = Insats(forbund_id=organisation.id, number=0, title="", state="")  # type: ignore[arg-type]
        for name, raw in values.items():
            if name not in FIELDS:
                errors[name] = f"okänt fält {name!r}"
                continue
            try:
                FIELDS[name].apply(scratch, raw, ctx)
            except FinsamError as error:
                errors[name] = str(error)
        if count_parties and "parties" in values and "parties" not in errors:
            count = distinct_party_count(ctx.parties)
            if count < 2:
                errors["parties"] = too_few_parties(count)
    return errors


def submit_idea(
    app: App,
    *,
    actor_email: str,
    values: dict[str, Any],
    forbund: str | None = None,
    comment: str | None = None,
) -> CaseView:
    """A new idea (state idé) from a handläggargrupp, with whatever is known so far.

    The two-party rule (an insats has at least two parties, all kommuner counting as one) is
    the same on every channel (CLI, web, API), here and in the lifecycle: an idea that names
    its parties names at least two; one that names none yet may get them later, and
    registration (`two_parties` on registrera in states/insats.yaml) refuses it until then."""
    if "title" not in values:
        raise BadInput(f"en idé behöver en {field_label('title')} (title)")
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
            state_since=now,
            submitted_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        ctx = FieldContext(session, organisation.id, parties=[])  # type: ignore[arg-type]
        recorded = apply_fields(case, values, None, ctx)
        if "parties" in values and distinct_party_count(ctx.parties) < 2:
            raise BadInput(too_few_parties(distinct_party_count(ctx.parties)))
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
