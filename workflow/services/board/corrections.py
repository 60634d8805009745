"""Corrections of a draft protocol: the wording of a decided § (its decision stays; a
different decision is a new § at a later meeting), and a § whose case has moved on, which
leaves the agenda undecided ('utgår') with the reason, so that the meeting can be finished.
"""

from __future__ import annotations

from typing import Any

from workflow.app import App
from workflow.errors import BadInput, Conflict, NotPermitted
from workflow.models import AgendaItem, Insats
from workflow.models.meetings import DecisionKind
from workflow.services.board.closing import CLOSING_ITEM
from workflow.services.board.decisions import att_text, voters
from workflow.services.board.paragraphs import paragraph_ref
from workflow.services.board.protocol import (
    PARAGRAPH_SUBJECT,
    find_paragraph,
    open_draft,
    record,
    scope,
)
from workflow.services.board.views import MeetingView, meeting_view
from workflow.services.funding.closure import OUTCOMES
from workflow.text_guard import check_free_text


def amend_decision(
    app: App,
    *,
    ref: str | int,
    paragraph: int,
    actor_email: str,
    att_satser: list[str] | None = None,
    conditions: str | None = None,
    motivation: str | None = None,
    reservations: list[str] | None = None,
    jav: list[str] | None = None,
    expected_version: int | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """Correct the wording of a decided § while the protocol is an utkast.

    The decision itself (and so the case's move) stays: a different decision is a new § at a
    later meeting. Only the parts given are replaced.
    """
    with scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        protocol = open_draft(s)
        row = find_paragraph(s, protocol, paragraph)
        if expected_version is not None and row.version != expected_version:
            raise Conflict(
                f"§ {paragraph} har ändrats (version {row.version}, du såg {expected_version}); "
                "läs om protokollet och försök igen"
            )
        if row.decision is None:
            raise BadInput(
                f"§ {paragraph} saknar beslut; registrera det med 'finsam meetings decide'"
            )
        changed: dict[str, Any] = {}
        if att_satser:
            row.att_satser = [
                check_free_text(att_text(a), "att-satsen") for a in att_satser if a.strip()
            ]
            changed["att_satser"] = list(row.att_satser)
        if conditions is not None:
            row.conditions = check_free_text(conditions.strip(), "villkoren") or None
            changed["conditions"] = row.conditions
        if motivation is not None:
            text = check_free_text(motivation.strip(), "motiveringen") or None
            if row.decision == DecisionKind.ATERREMISS and not text:
                raise BadInput("återremiss: vad som ska göras kan inte tas bort")
            row.motivation = text
            changed["motivation"] = text
        if jav is not None:
            row.jav = [{"name": p.name, "email": p.email} for p, _ in voters(s, jav, "jävig")]
            changed["jav"] = [j["email"] for j in row.jav]
        if reservations is not None:
            people = voters(s, reservations, "reservant")
            barred = {j["email"] for j in row.jav}
            for person, _ in people:
                if person.email in barred:
                    raise BadInput(
                        f"{person.email} är jävig i § {paragraph} och deltar inte i beslutet"
                    )
            row.reservations = [{"name": p.name, "email": p.email, "text": t} for p, t in people]
            changed["reservations"] = [r["email"] for r in row.reservations]
        if not changed:
            raise BadInput(
                "inget att ändra; ange --att, --conditions, --motivation, --reservation eller --jav"
            )
        s.session.add(row)
        s.session.flush()
        record(
            s,
            kind=PARAGRAPH_SUBJECT,
            subject_id=row.id,  # type: ignore[arg-type]
            ref=paragraph_ref(row),
            from_state=row.decision,
            to_state=row.decision,
            trigger="andra",
            data=changed,
        )
        return meeting_view(s.session, app, s.meeting)


def withdraw_paragraph(
    app: App,
    *,
    ref: str | int,
    paragraph: int,
    reason: str,
    actor_email: str,
    expected_version: int | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """Let an undecided § whose case has moved on leave a draft protocol ('utgår').

    Steps: check the reason; the protocol must be a draft and the § undecided; its case must
    no longer be where the agenda put it (a case item no longer på dagordning, a closing item
    whose insats can no longer end so); the § is marked as gone with the reason, audited, and
    the case is left as it is.
    """
    text = check_free_text((reason or "").strip(), "skälet")
    if not text:
        raise BadInput("ange varför ärendet utgår med --reason")
    lifecycle = app.lifecycles["insats"].lifecycle
    with scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        protocol = open_draft(s)
        row = find_paragraph(s, protocol, paragraph)
        if expected_version is not None and row.version != expected_version:
            raise Conflict(
                f"§ {paragraph} har ändrats (version {row.version}, du såg {expected_version}); "
                "läs om protokollet och försök igen"
            )
        if row.decision is not None:
            raise Conflict(f"§ {paragraph} har redan beslutet {row.decision}")
        item = s.session.get(AgendaItem, row.agenda_item_id)
        case = s.session.get(Insats, row.insats_id) if row.insats_id else None
        assert item is not None
        if case is None:
            raise BadInput(
                f"§ {paragraph} ({item.title}) gäller inget ärende; besluta den i stället"
            )
        if item.kind == CLOSING_ITEM and item.outcome:
            still = lifecycle.transition(OUTCOMES[item.outcome], case.state) is not None
        else:
            still = case.state == "pa_dagordning"
        if still:
            raise NotPermitted(
                f"§ {paragraph}: {case.dnr} står kvar på dagordningen "
                f"(tillstånd '{lifecycle.label_of(case.state)}') och ska beslutas, "
                "t.ex. bordläggas"
            )
        row.decision = DecisionKind.UTGAR.value
        row.att_satser = [f"att ärendet {case.dnr} utgår från dagordningen"]
        row.motivation = text
        row.decided_at = s.now
        row.decided_by_id = s.actor.id
        s.session.add(row)
        s.session.flush()
        record(
            s,
            kind=PARAGRAPH_SUBJECT,
            subject_id=row.id,  # type: ignore[arg-type]
            ref=paragraph_ref(row),
            from_state=None,
            to_state=row.decision,
            trigger="utga",
            data={"dnr": case.dnr, "case_state": case.state},
            comment=text,
        )
        return meeting_view(s.session, app, s.meeting)
