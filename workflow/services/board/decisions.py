"""The board's decisions on the §§ of a draft protocol: one § at a time, or every open § as
the beredning recommended and the agenda proposed (corrections of a draft: corrections.py).

Nothing is decided before the meeting has begun. Each § is decided once; the case moves in the
same transaction as its § is written (through cases.fire_in: bifall, avslag, återremiss and
bordläggning are steps only the protocol performs, `service: protocol` in states/insats.yaml),
except that a bifall only takes effect when the protocol is justerat: the case waits in
vantar_justering and the last signature fires `justera` on it (justering.py). A closing § ends
its insats at once (closing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput, Conflict, NotPermitted
from workflow.models import AgendaItem, Insats, Meeting, Paragraph
from workflow.models.meetings import DecisionKind, ProtocolStatus
from workflow.services.board.agenda import CASE_ITEM, amounts_text, place_case
from workflow.services.board.closing import (
    CLOSING_ITEM,
    DECISIONS,
    ClosingDecision,
    closing_decision,
)
from workflow.services.board.closing import att_satser as closing_att_satser
from workflow.services.board.paragraphs import paragraph_ref, refuse_new_paragraphs
from workflow.services.board.protocol import (
    PARAGRAPH_SUBJECT,
    Scope,
    find_paragraph,
    open_draft,
    record,
    require_held,
    scope,
    voter,
)
from workflow.services.board.records import later_meetings, latest_recommendation
from workflow.services.board.views import MeetingView, meeting_view
from workflow.services.cases import fire_in
from workflow.services.funding import budget
from workflow.services.funding.closure import final_report, record_closing
from workflow.services.organisation.people import Actor
from workflow.text_guard import check_free_text
from workflow.vocabulary import Recommendation as Outcome
from workflow.vocabulary import parse_choice

# What the case does when its § is decided; None: the decision does not move a case.
CASE_TRIGGERS = {
    DecisionKind.BIFALL: "bifall",
    DecisionKind.DELVIS_BIFALL: "bifall",
    DecisionKind.AVSLAG: "avslag",
    DecisionKind.ATERREMISS: "aterremiss",
    DecisionKind.BORDLAGGNING: "bordlagg",
}
# Standard items end with these decisions when the board follows the proposal.
STANDARD_DECISIONS = {
    "information": DecisionKind.LAGGA_TILL_HANDLINGARNA,
    "foregaende_protokoll": DecisionKind.LAGGA_TILL_HANDLINGARNA,
    "delegationsbeslut": DecisionKind.LAGGA_TILL_HANDLINGARNA,
    "meddelanden": DecisionKind.LAGGA_TILL_HANDLINGARNA,
}
FOLLOW = {
    Outcome.BEVILJA: DecisionKind.BIFALL,
    Outcome.BEVILJA_MED_VILLKOR: DecisionKind.BIFALL,
    Outcome.AVSLA: DecisionKind.AVSLAG,
}


@dataclass
class DecisionInput:
    """What the secretary records on one §; empty parts are filled from the agenda."""

    kind: str
    att_satser: list[str] | None = None
    granted: dict[str, int] | None = None
    conditions: str | None = None
    motivation: str | None = None
    reservations: list[str] | None = None
    jav: list[str] | None = None
    # A grant beyond the budget frame is refused unless the board's decision says so.
    over_frame: bool = False
    # A closing §'s outcome (implementerad, ej_implementerad, avbruten); else the proposal's.
    outcome: str | None = None


def att_text(text: str) -> str:
    """'Styrelsen beslutar att bevilja ...' -> 'att bevilja ...'."""
    cleaned = text.strip()
    for prefix in ("Styrelsen beslutar ", "styrelsen beslutar "):
        cleaned = cleaned.removeprefix(prefix)
    return cleaned if cleaned.startswith("att ") else f"att {cleaned}"


def _default_att_satser(
    kind: DecisionKind,
    item: AgendaItem,
    case: Insats | None,
    granted: dict[str, int],
    conditions: str | None,
    follows_proposal: bool,
) -> list[str]:
    if case is None or (follows_proposal and item.proposal):
        return [att_text(item.proposal or item.title)]
    name = f"{case.title} ({case.dnr})"
    if kind in {DecisionKind.BIFALL, DecisionKind.DELVIS_BIFALL}:
        lines = [f"att bevilja {name} {amounts_text(granted)}"]
        if conditions:
            lines.append(f"att medlen betalas ut på villkor att {conditions.removeprefix('att ')}")
        return lines
    return {
        DecisionKind.AVSLAG: [f"att avslå ansökan om medel till {name}"],
        DecisionKind.ATERREMISS: [f"att återremittera ärendet {case.dnr} till beredningen"],
        DecisionKind.BORDLAGGNING: [f"att bordlägga ärendet {case.dnr} till nästa sammanträde"],
    }.get(kind, [att_text(item.proposal or item.title)])


def _parse_granted(raw: dict[str, Any] | None, case: Insats, kind: DecisionKind) -> dict[str, int]:
    requested = {k: int(v) for k, v in case.budget_requested.items()}
    if not raw:
        if kind is DecisionKind.DELVIS_BIFALL:
            raise BadInput("delvis bifall: ange beviljat belopp per år med --granted ÅR=TKR")
        return requested
    granted: dict[str, int] = {}
    for year, amount in raw.items():
        text = str(amount).replace(" ", "")
        if not str(year).isdigit() or len(str(year)) != 4 or not text.isdigit():
            raise BadInput(f"beviljat belopp {year}={amount!r}: skriv ÅR=TKR med hela tkr")
        if str(year) not in requested:
            raise BadInput(
                f"{case.dnr} har inte sökt medel för {year}; sökta år: {', '.join(sorted(requested))}"
            )
        granted[str(year)] = int(text)
    over = [y for y, v in granted.items() if v > requested[y]]
    if over:
        raise BadInput(f"beviljat belopp för {', '.join(over)} är större än det sökta")
    return dict(sorted(granted.items()))


def voters(s: Scope, emails: list[str] | None, what: str) -> list[tuple[Actor, str | None]]:
    found: list[tuple[Actor, str | None]] = []
    for raw in emails or []:
        email, _, text = raw.partition(":")
        person, _ = voter(s.session, s.forbund, s.meeting, email.strip(), what)
        found.append((person, check_free_text(text.strip(), what) or None))
    return found


def _case_step(
    s: Scope,
    app: App,
    paragraph: Paragraph,
    item: AgendaItem,
    case: Insats | None,
    kind: DecisionKind,
    given: DecisionInput,
) -> tuple[str | None, str | None, ClosingDecision | None]:
    """Which lifecycle step the decision takes on its case (and through which service), or
    none; a decision that does not fit the § is refused here."""
    if case is None:
        if kind in CASE_TRIGGERS or kind is DecisionKind.UTGAR or given.outcome:
            raise BadInput(
                f"§ {paragraph.number} ({item.title}) gäller inget ärende; "
                "välj beslut eller lagga_till_handlingarna"
            )
        return None, None, None
    if item.kind == CLOSING_ITEM:
        closing = closing_decision(
            s.session, app, paragraph, case, kind, given.outcome, item.outcome
        )
        return closing.trigger, "closure", closing
    trigger = CASE_TRIGGERS.get(kind)
    if trigger is None:
        raise BadInput(
            f"§ {paragraph.number} gäller {case.dnr}: välj bifall, delvis_bifall, avslag, "
            "aterremiss eller bordlaggning"
        )
    if given.outcome:
        raise BadInput("--outcome gäller bara avslutet av en insats")
    if case.state != "pa_dagordning":
        state = app.lifecycles["insats"].lifecycle.label_of(case.state)
        raise NotPermitted(
            f"§ {paragraph.number}: {case.dnr} är inte längre på dagordningen (tillstånd "
            f"'{state}'), så {trigger} kan inte beslutas; ta bort § med 'finsam meetings withdraw "
            f"{s.meeting.number} {paragraph.number} --reason ...'"
        )
    return trigger, "protocol", None


def _decide(
    s: Scope,
    app: App,
    paragraph: Paragraph,
    given: DecisionInput,
    *,
    follows_proposal: bool = False,
) -> None:
    """Write one decision on its § and move its case, in the caller's transaction.

    Steps: check the decision against the § (a case item takes a board outcome, a closing
    item its outcome, other items none) and the budget frame; write the § (the lifecycle's
    `paragraph_recorded` reads it); fire the case's step through the protocol; audit the §;
    a bordlagt case goes on the next meeting that takes items, a closing § notes the
    slutrapport and plans the follow-up.
    """
    kind = parse_choice(DecisionKind, given.kind, "beslutstyp")
    if kind is DecisionKind.UTGAR:
        raise BadInput("ett ärende utgår med 'finsam meetings withdraw', med skälet")
    item = s.session.get(AgendaItem, paragraph.agenda_item_id)
    assert item is not None
    case = s.session.get(Insats, paragraph.insats_id) if paragraph.insats_id else None
    trigger, service, closing = _case_step(s, app, paragraph, item, case, kind, given)
    motivation = (
        check_free_text(given.motivation.strip(), "motiveringen") if given.motivation else None
    )
    if kind is DecisionKind.ATERREMISS and not motivation:
        raise BadInput("återremiss: ange vad som ska göras med --motivation")
    if closing is not None and closing.outcome == "avbruten" and not motivation:
        raise BadInput("avbryta en insats: ange skälet med --motivation")
    conditions = (
        check_free_text(given.conditions.strip(), "villkoren") if given.conditions else None
    )
    decided_on = local_date(s.meeting.starts_at, app.settings.zone)
    granted: dict[str, int] = {}
    if case is not None and kind in {DecisionKind.BIFALL, DecisionKind.DELVIS_BIFALL}:
        granted = _parse_granted(given.granted, case, kind)
    elif given.granted:
        raise BadInput("belopp beviljas bara vid bifall eller delvis bifall")
    if case is not None and granted and not given.over_frame:
        overrun = budget.frame_overrun(
            s.session, app, forbund=s.forbund, case=case, amounts=granted, decided_on=decided_on
        )
        if overrun:
            raise BadInput(
                f"§ {paragraph.number} ({case.dnr}): {overrun}; minska beloppet eller "
                "besluta ändå med --over-frame"
            )
    jav = voters(s, given.jav, "jävig")
    jav_ids = {p.id for p, _ in jav}
    reservations = voters(s, given.reservations, "reservant")
    for person, _ in reservations:
        if person.id in jav_ids:
            raise BadInput(
                f"{person.email} är jävig i § {paragraph.number} och deltar inte i beslutet"
            )
    att_satser = [
        check_free_text(att_text(a), "att-satsen") for a in (given.att_satser or []) if a.strip()
    ]
    if not att_satser and closing is not None and not follows_proposal:
        att_satser = closing_att_satser(case, closing.outcome)  # type: ignore[arg-type]
    att_satser = att_satser or _default_att_satser(
        kind, item, case, granted, conditions, follows_proposal
    )
    paragraph.decision = kind.value
    paragraph.outcome = closing.outcome if closing else None
    paragraph.att_satser = att_satser
    paragraph.granted = granted
    paragraph.conditions = conditions
    paragraph.motivation = motivation
    paragraph.jav = [{"name": p.name, "email": p.email} for p, _ in jav]
    paragraph.reservations = [
        {"name": p.name, "email": p.email, "text": t} for p, t in reservations
    ]
    paragraph.decided_at = s.now
    paragraph.decided_by_id = s.actor.id
    s.session.add(paragraph)
    s.session.flush()
    if case is not None and trigger is not None:
        values: dict[str, Any] = {}
        if closing is None:
            # The case's 'Beslut §' mirrors the § that decided it; a closing § leaves it.
            values["decision_paragraph"] = paragraph_ref(paragraph)
        elif closing.outcome != "avbruten":
            report = final_report(s.session, case)
            assert report is not None and report.submitted_on is not None
            values["final_report_on"] = report.submitted_on.isoformat()
        fire_in(
            s.session,
            app,
            forbund=s.forbund,
            case=case,
            actor=s.actor,
            trigger=trigger,
            now=s.now,
            values=values,
            comment=motivation,
            service=service,
        )
    record(
        s,
        kind=PARAGRAPH_SUBJECT,
        subject_id=paragraph.id,  # type: ignore[arg-type]
        ref=paragraph_ref(paragraph),
        from_state=None,
        to_state=kind.value,
        trigger="besluta",
        data={
            "dnr": case.dnr if case else None,
            "granted": granted,
            "att_satser": att_satser,
            **({"outcome": closing.outcome} if closing else {}),
        },
        comment=motivation,
    )
    if case is not None and closing is not None:
        record_closing(
            s.session,
            forbund=s.forbund,
            head=s.head,
            case=case,
            actor=s.actor,
            outcome=closing.outcome,
            paragraph=paragraph_ref(paragraph),
            decided_on=decided_on,
            now=s.now,
            followup_months=list(app.settings.funding.followup_months),
        )
    if case is not None and kind is DecisionKind.BORDLAGGNING:
        later = _next_taking_items(s.session, s.meeting)
        if later is not None:
            place_case(
                s.session,
                app,
                forbund=s.forbund,
                meeting=later,
                case=case,
                actor=s.actor,
                now=s.now,
                proposal=item.proposal,
                deferred_from=item,
            )


def _next_taking_items(session: Session, meeting: Meeting) -> Meeting | None:
    """The organ's next meeting that can still take a case: its protocol not yet sent for
    justering, and no protocol after it sent either (paragraphs.py). None: the bordlagt case
    waits for the next agenda that is built."""
    for later, protocol in later_meetings(session, meeting):
        if protocol is not None and protocol.status != ProtocolStatus.UTKAST:
            continue
        try:
            refuse_new_paragraphs(session, later, "ett ärende vid mötet")
        except NotPermitted:
            continue
        return later
    return None


def record_decision(
    app: App,
    *,
    ref: str | int,
    paragraph: int,
    decision: DecisionInput,
    actor_email: str,
    expected_version: int | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """The secretary records the board's decision on one §."""
    with scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        protocol = open_draft(s)
        require_held(s, "beslut registreras")
        row = find_paragraph(s, protocol, paragraph)
        if expected_version is not None and row.version != expected_version:
            raise Conflict(
                f"§ {paragraph} har ändrats (version {row.version}, du såg {expected_version}); "
                "läs om protokollet och försök igen"
            )
        if row.decision is not None:
            raise Conflict(
                f"§ {paragraph} har redan beslutet {row.decision} (version {row.version}); "
                "läs om protokollet med 'finsam meetings show'"
            )
        _decide(s, app, row, decision)
        return meeting_view(s.session, app, s.meeting)


def _followed(s: Scope, paragraph: Paragraph) -> DecisionInput:
    item = s.session.get(AgendaItem, paragraph.agenda_item_id)
    assert item is not None
    if item.kind == CLOSING_ITEM and item.outcome:
        # Stopping an insats needs its reason: the proposal gives it.
        reason = att_text(item.proposal or "") if item.outcome == "avbruten" else None
        return DecisionInput(
            kind=DECISIONS[item.outcome].value, outcome=item.outcome, motivation=reason
        )
    if item.kind != CASE_ITEM or paragraph.insats_id is None:
        return DecisionInput(kind=STANDARD_DECISIONS.get(item.kind, DecisionKind.BESLUT).value)
    rec = latest_recommendation(s.session, paragraph.insats_id)
    kind = FOLLOW.get(Outcome(rec.outcome)) if rec else None
    if rec is None or kind is None:
        raise BadInput(
            f"§ {paragraph.number} har ingen rekommendation att följa; besluta den med 'finsam meetings decide'"
        )
    return DecisionInput(kind=kind.value, conditions=rec.conditions)


def follow_recommendations(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    paragraphs: list[int] | None = None,
    forbund: str | None = None,
    over_frame: bool = False,
) -> MeetingView:
    """Decide §§ as the beredning recommended and the agenda proposed: the given §§, or every
    undecided one. All or nothing; each case is still checked by its lifecycle and the frame."""
    with scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        protocol = open_draft(s)
        require_held(s, "beslut registreras")
        if paragraphs:
            rows = [find_paragraph(s, protocol, n) for n in dict.fromkeys(paragraphs)]
            decided = [str(r.number) for r in rows if r.decision is not None]
            if decided:
                raise Conflict(f"§ {', '.join(decided)} är redan beslutade")
        else:
            rows = [
                r
                for r in s.session.exec(
                    select(Paragraph)
                    .where(Paragraph.protocol_id == protocol.id)
                    .order_by(col(Paragraph.number))
                )
                if r.decision is None
            ]
        if not rows:
            raise BadInput("alla §§ är redan beslutade")
        for row in rows:
            decision = _followed(s, row)
            decision.over_frame = over_frame
            _decide(s, app, row, decision, follows_proposal=True)
        return meeting_view(s.session, app, s.meeting)


@dataclass
class Skipped:
    """A § that 'follow every recommendation' left undecided, and why."""

    paragraph: int
    title: str
    reason: str


@dataclass
class FollowResult:
    view: MeetingView
    decided: list[int]
    skipped: list[Skipped]


def _why_not_followed(s: Scope, app: App, paragraph: Paragraph) -> str | None:
    """Why this § cannot take its recommendation as it stands (no writes), or None."""
    try:
        given = _followed(s, paragraph)
        kind = parse_choice(DecisionKind, given.kind, "beslutstyp")
        item = s.session.get(AgendaItem, paragraph.agenda_item_id)
        assert item is not None
        case = s.session.get(Insats, paragraph.insats_id) if paragraph.insats_id else None
        _case_step(s, app, paragraph, item, case, kind, given)
        if case is not None and kind in {DecisionKind.BIFALL, DecisionKind.DELVIS_BIFALL}:
            overrun = budget.frame_overrun(
                s.session,
                app,
                forbund=s.forbund,
                case=case,
                amounts=_parse_granted(given.granted, case, kind),
                decided_on=local_date(s.meeting.starts_at, app.settings.zone),
            )
            if overrun:
                return f"bifall går utöver budgetramen ({overrun}); besluta § för sig"
    except (BadInput, NotPermitted, Conflict) as refused:
        return str(refused)
    return None


def follow_all(
    app: App, *, ref: str | int, actor_email: str, forbund: str | None = None
) -> FollowResult:
    """Follow the recommendation on every undecided § that can take it, and say which could
    not and why (as OpenSlides does for a block of motions): a § without a recommendation, a
    case that has moved on, a bifall beyond the budget frame is left for the secretary to
    decide on its own. The §§ that can are decided in one transaction."""
    with scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        protocol = open_draft(s)
        require_held(s, "beslut registreras")
        rows = [
            r
            for r in s.session.exec(
                select(Paragraph)
                .where(Paragraph.protocol_id == protocol.id)
                .order_by(col(Paragraph.number))
            )
            if r.decision is None
        ]
        if not rows:
            raise BadInput("alla §§ är redan beslutade")
        decided: list[int] = []
        skipped: list[Skipped] = []
        for row in rows:
            reason = _why_not_followed(s, app, row)
            if reason is not None:
                skipped.append(Skipped(row.number, row.title, reason))
                continue
            _decide(s, app, row, _followed(s, row), follows_proposal=True)
            decided.append(row.number)
        return FollowResult(meeting_view(s.session, app, s.meeting), decided, skipped)


def frame_warnings(app: App, *, ref: str | int, forbund: str | None = None) -> dict[int, str]:
    """Per undecided case § of the meeting's protocol: the warning a bifall of the amounts
    applied for would give against the budget frame, shown before anything is recorded."""
    from workflow.services.board.records import find_meeting, protocol_of
    from workflow.services.organisation.forbund import resolve_forbund

    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        meeting = find_meeting(session, organisation, ref)
        protocol = protocol_of(session, meeting)
        if protocol is None:
            return {}
        decided_on = local_date(meeting.starts_at, app.settings.zone)
        warnings: dict[int, str] = {}
        for row, item in session.exec(
            select(Paragraph, AgendaItem)
            .join(AgendaItem, col(AgendaItem.id) == col(Paragraph.agenda_item_id))
            .where(Paragraph.protocol_id == protocol.id, col(Paragraph.decision).is_(None))
        ):
            if item.kind != CASE_ITEM or row.insats_id is None:
                continue
            case = session.get(Insats, row.insats_id)
            if case is None or not case.budget_requested:
                continue
            amounts = {str(k): int(v) for k, v in case.budget_requested.items()}
            overrun = budget.frame_overrun(
                session,
                app,
                forbund=organisation,
                case=case,
                amounts=amounts,
                decided_on=decided_on,
            )
            if overrun:
                warnings[row.number] = overrun
        return warnings
