"""The end of an insats at the board: one path, through a § of a real protocol.

1. The insats has reached its end (the förbundschef's `avsluta`), its slutrapport is submitted
   and approved (services/funding/reports.py).
2. The förbundschef puts it on a board meeting's agenda with the proposed outcome (`propose`):
   implementerad or ej_implementerad, the slutrapport to be laid to the records; or avbruten,
   to stop an insats early, with the reason.
3. At the meeting its § is decided like any other (decisions.py): 'lägga till handlingarna'
   with the outcome, or 'beslut' to stop it. The case ends in the same transaction, the
   slutrapport is noted with the § and an implemented insats gets its follow-up questions
   (services/funding/closure.py). The § that granted the insats stays its 'Beslut §'.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

from sqlmodel import Session, select

from workflow.app import App
from workflow.clock import local
from workflow.errors import BadInput, NotPermitted
from workflow.models import AgendaItem, Insats, Paragraph
from workflow.models.meetings import DecisionKind
from workflow.services.board.agenda import add_item, board_meeting, next_position, open_for_items
from workflow.services.board.records import find_meeting
from workflow.services.cases import case_ref, find_case
from workflow.services.cases.change import begin_change
from workflow.services.funding.closure import OUTCOMES, final_report
from workflow.text_guard import check_free_text
from workflow.vocabulary import parse_choice

CLOSING_ITEM = "avslut"


class _Outcome(StrEnum):
    IMPLEMENTERAD = "implementerad"
    EJ_IMPLEMENTERAD = "ej_implementerad"
    AVBRUTEN = "avbruten"


# The decision a closing § takes for each outcome.
DECISIONS = {
    "implementerad": DecisionKind.LAGGA_TILL_HANDLINGARNA,
    "ej_implementerad": DecisionKind.LAGGA_TILL_HANDLINGARNA,
    "avbruten": DecisionKind.BESLUT,
}
_FINDING = {
    "implementerad": "att konstatera att insatsen är implementerad i ordinarie verksamhet",
    "ej_implementerad": "att konstatera att insatsen inte är implementerad i ordinarie verksamhet",
}


def _name(case: Insats) -> str:
    return f"{case.title} ({case_ref(case)})"


def att_satser(case: Insats, outcome: str) -> list[str]:
    """The decision's wording when the secretary gives none of their own."""
    if outcome == "avbruten":
        return [f"att avbryta insatsen {_name(case)}"]
    return [f"att lägga slutrapporten för {_name(case)} till handlingarna", _FINDING[outcome]]


def _proposal(case: Insats, outcome: str, reason: str | None) -> str:
    text = "Styrelsen beslutar " + " och ".join(a for a in att_satser(case, outcome))
    return f"{text}, eftersom {reason}" if reason else text


def ready_for(session: Session, app: App, case: Insats, outcome: str) -> None:
    """Refuse a closing § the insats is not ready for: its lifecycle step must lead from its
    state, and an end that lays the slutrapport to the records needs it approved."""
    trigger = OUTCOMES[outcome]
    lifecycle = app.lifecycles["insats"].lifecycle
    if lifecycle.transition(trigger, case.state) is None:
        state = lifecycle.label_of(case.state)
        if outcome != "avbruten" and case.state == "pagaende":
            raise NotPermitted(
                f"{case_ref(case)} är {state.lower()}; när insatsen har nått sitt slut "
                f"registrerar förbundschefen det med 'finsam cases fire {case_ref(case)} avsluta'"
            )
        raise NotPermitted(
            f"{case_ref(case)} kan inte avslutas som {outcome} i tillståndet '{state}'"
        )
    if outcome != "avbruten" and final_report(session, case) is None:
        raise NotPermitted(
            f"{case_ref(case)} har ingen godkänd slutrapport; den lämnas in med 'finsam reports "
            "submit' och godkänns med 'finsam reports approve' innan styrelsen lägger den till "
            "handlingarna"
        )


def _on_open_agenda(session: Session, case: Insats) -> bool:
    for item in session.exec(
        select(AgendaItem).where(AgendaItem.insats_id == case.id, AgendaItem.kind == CLOSING_ITEM)
    ):
        paragraph = session.exec(
            select(Paragraph).where(Paragraph.agenda_item_id == item.id)
        ).first()
        if paragraph is None or paragraph.decision is None:
            return True
    return False


@dataclass(frozen=True)
class Proposed:
    """The end of an insats as it stands on a meeting's agenda."""

    ref: str
    meeting_id: int
    meeting: str
    title: str
    outcome: str
    proposal: str
    # Its § when the protocol is already open.
    paragraph: int | None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def propose(
    app: App,
    *,
    ref: str,
    meeting: str | int,
    outcome: str,
    actor_email: str,
    reason: str | None = None,
    proposal: str | None = None,
    forbund: str | None = None,
) -> Proposed:
    """Put the end of an insats on a board meeting's agenda (step 2 of the module doc).

    Steps: check the outcome and the reason; open the change (the chain lock, the actor may
    build agendas); the meeting must be the board's and still take items; the insats must be
    ready for that end and not already on an open agenda; write the item, and its § if the
    protocol is open.
    """
    choice = parse_choice(_Outcome, outcome, "utfall").value
    why = check_free_text(reason.strip(), "skälet") if reason else None
    if choice == "avbruten" and not why:
        raise BadInput("avbruten: ange varför insatsen avbryts med --reason")
    text = check_free_text(proposal.strip(), "förslaget till beslut") if proposal else None
    now = app.clock()
    with app.db.transaction() as session:
        organisation, _, actor = begin_change(session, forbund, actor_email)
        app.actions.require(actor, "build_agenda")
        held = find_meeting(session, organisation, meeting)
        board_meeting(session, held)
        protocol = open_for_items(session, held, "ett ärende vid mötet")
        case = find_case(session, organisation, ref)
        ready_for(session, app, case, choice)
        if _on_open_agenda(session, case):
            raise BadInput(
                f"{case_ref(case)}: avslutet står redan på en dagordning som inte är beslutad"
            )
        title = (
            f"Avbrytande av insatsen {case.title}"
            if choice == "avbruten"
            else f"Slutrapport för insatsen {case.title}"
        )
        item = AgendaItem(
            meeting_id=held.id,  # type: ignore[arg-type]
            section=1,
            position=next_position(session, held, 1),
            kind=CLOSING_ITEM,
            title=title,
            insats_id=case.id,
            proposal=text or _proposal(case, choice, why),
            outcome=choice,
        )
        add_item(session, held, protocol, item, forbund=organisation, actor=actor, now=now)
        paragraph = session.exec(
            select(Paragraph.number).where(Paragraph.agenda_item_id == item.id)
        ).first()
        return Proposed(
            ref=case_ref(case),
            meeting_id=held.id,  # type: ignore[arg-type]
            meeting=f"{local(held.starts_at):%Y-%m-%d %H:%M}",
            title=item.title,
            outcome=choice,
            proposal=item.proposal or "",
            paragraph=paragraph,
        )


@dataclass(frozen=True)
class ClosingDecision:
    """What a closing § decides: the outcome, the lifecycle step, the case fields it records."""

    outcome: str
    trigger: str


def closing_decision(
    session: Session,
    app: App,
    paragraph: Paragraph,
    case: Insats,
    kind: DecisionKind,
    outcome: str | None,
    proposed: str | None,
) -> ClosingDecision:
    """Check the decision the secretary records on a closing §: 'lägga till handlingarna' with
    implementerad or ej_implementerad, or 'beslut' with avbruten."""
    chosen = parse_choice(_Outcome, outcome, "utfall").value if outcome else proposed
    if chosen is None or DECISIONS[chosen] is not kind:
        raise BadInput(
            f"§ {paragraph.number} gäller avslutet av {case_ref(case)}: besluta "
            "lagga_till_handlingarna med --outcome implementerad eller ej_implementerad, "
            "eller beslut med --outcome avbruten"
        )
    ready_for(session, app, case, chosen)
    return ClosingDecision(chosen, OUTCOMES[chosen])
