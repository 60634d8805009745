"""The dagordning: standard items plus the cases ready for the board's decision.

Each case item carries the dnr, the recommendation and a draft decision ("Styrelsen beslutar
att ...") the förbundschef may rewrite. Putting a case on an agenda fires `satt_pa_dagordning`
in the same transaction as the item is written: the agenda is the only way a case gets there
(`service: agenda` in states/insats.yaml). An item added after the protocol is opened gets its
§ at once, and the organ's draft §§ are numbered again in meeting order (paragraphs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, literal, union_all, update
from sqlalchemy import select as core_select
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, func, select

from workflow.app import App
from workflow.errors import BadInput, Conflict, NotFound, NotPermitted
from workflow.models import (
    AgendaItem,
    ForbundRef,
    Insats,
    Meeting,
    Organ,
    Paragraph,
    Protocol,
    Recommendation,
)
from workflow.models.meetings import OrganKind, ProtocolStatus
from workflow.services.board.meetings import SUBJECT as MEETING
from workflow.services.board.meetings import touch
from workflow.services.board.paragraphs import (
    add_paragraph,
    refuse_new_paragraphs,
    renumber,
)
from workflow.services.board.records import (
    find_meeting,
    guard_open,
    latest_recommendation,
    ordered_items,
    paragraph_of,
)
from workflow.services.board.views import MeetingView, meeting_view
from workflow.services.cases import audit, find_case, fire_in
from workflow.services.cases.audit import lock_chain
from workflow.services.cases.change import begin_change
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import Actor, find_actor
from workflow.services.paging import bytewise, check_limit
from workflow.text_guard import check_free_text, check_one_line
from workflow.vocabulary import Recommendation as Outcome

# (key, title, section, proposal). Sections: 0 opening items, 1 matters for decision,
# 2 information and reports, 3 closing items.
STANDARD_ITEMS = [
    ("oppnande", "Mötets öppnande", 0, "att förklara mötet öppnat"),
    ("dagordning", "Godkännande av dagordningen", 0, "att godkänna dagordningen"),
    (
        "justerare",
        "Val av justerare",
        0,
        "att utse {justerare} att jämte ordföranden justera protokollet",
    ),
    (
        "foregaende_protokoll",
        "Föregående protokoll",
        0,
        "att lägga föregående protokoll till handlingarna",
    ),
    (
        "delegationsbeslut",
        "Delegationsbeslut att anmäla",
        3,
        "att lägga anmälda delegationsbeslut till handlingarna",
    ),
    ("meddelanden", "Meddelanden", 3, "att lägga meddelandena till handlingarna"),
    ("avslutning", "Mötets avslutande", 3, "att förklara mötet avslutat"),
]
CASE_ITEM = "arende"
# Matters without a case: a decision of the board's own (budget, VP) or information to note.
MATTER_KINDS = ("beslutsarende", "information")
READY = ("rekommenderad", "bordlagd")


def amounts_text(amounts: dict[str, int]) -> str:
    """'1 500 tkr för 2013 och 750 tkr för 2014'."""
    parts = [f"{int(v):,} tkr för {year}".replace(",", " ") for year, v in sorted(amounts.items())]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " och " + parts[-1]


def draft_proposal(session: Session, case: Insats) -> str:
    """The förbundschef's draft decision, from the latest recommendation."""
    rec = latest_recommendation(session, case.id)  # type: ignore[arg-type]
    name = f"{case.title} ({case.dnr})"
    if rec is not None and rec.outcome == Outcome.AVSLA:
        return f"Styrelsen beslutar att avslå ansökan om medel till {name}"
    text = f"Styrelsen beslutar att bevilja {name} {amounts_text(case.budget_requested)}"
    if rec is not None and rec.outcome == Outcome.BEVILJA_MED_VILLKOR and rec.conditions:
        text += f", på villkor att {rec.conditions.removeprefix('att ')}"
    return text


def next_position(session: Session, meeting: Meeting, section: int) -> int:
    last = session.exec(
        select(func.max(AgendaItem.position)).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.section == section
        )
    ).one()
    return (last or 0) + 1


def _on_open_agenda(session: Session, case: Insats) -> bool:
    """Is the case already an item not yet decided on some agenda?"""
    for item in session.exec(select(AgendaItem).where(AgendaItem.insats_id == case.id)):
        paragraph = session.exec(
            select(Paragraph).where(Paragraph.agenda_item_id == item.id)
        ).first()
        if paragraph is None or paragraph.decision is None:
            return True
    return False


def open_for_items(session: Session, meeting: Meeting, what: str) -> Protocol | None:
    """The meeting's protocol, if opened, when `what` may still be added to its agenda."""
    protocol = guard_open(session, meeting)
    if protocol is not None and protocol.status != ProtocolStatus.UTKAST:
        raise NotPermitted(
            "protokollet är skickat för justering; nya ärenden tas upp vid ett senare möte"
        )
    refuse_new_paragraphs(session, meeting, what)
    return protocol


def board_meeting(session: Session, meeting: Meeting) -> Organ:
    organ = session.get(Organ, meeting.organ_id)
    assert organ is not None
    if organ.kind != OrganKind.STYRELSE:
        raise BadInput(f"{organ.name} beslutar inte om medel; ärenden tas upp på styrelsens möten")
    return organ


def add_item(
    session: Session,
    meeting: Meeting,
    protocol: Protocol | None,
    item: AgendaItem,
    *,
    forbund: ForbundRef,
    actor: Actor,
    now: datetime,
) -> AgendaItem:
    """Write an agenda item; with the protocol opened, its § too (and renumber the drafts)."""
    session.add(item)
    session.flush()
    if protocol is not None:
        add_paragraph(session, protocol, meeting, item)
        head = lock_chain(session, forbund.id)  # type: ignore[arg-type]
        renumber(session, meeting, head=head, actor=actor, now=now)
    return item


def place_case(
    session: Session,
    app: App,
    *,
    forbund: ForbundRef,
    meeting: Meeting,
    case: Insats,
    actor: Actor,
    now: datetime,
    proposal: str | None = None,
    deferred_from: AgendaItem | None = None,
) -> AgendaItem:
    """Put one case on the meeting's agenda (inside the caller's transaction)."""
    board_meeting(session, meeting)
    protocol = open_for_items(session, meeting, "ett ärende vid mötet")
    if case.state in READY:
        fire_in(
            session,
            app,
            forbund=forbund,
            case=case,
            actor=actor,
            trigger="satt_pa_dagordning",
            now=now,
            service="agenda",
        )
    elif case.state != "pa_dagordning":
        raise BadInput(
            f"{case.dnr} är inte redo för styrelsen (tillstånd {case.state}); "
            "den behöver beredningsgruppens rekommendation först"
        )
    elif _on_open_agenda(session, case):
        raise BadInput(f"{case.dnr} står redan på en dagordning som inte är beslutad")
    item = AgendaItem(
        meeting_id=meeting.id,  # type: ignore[arg-type]
        section=1,
        position=next_position(session, meeting, 1),
        kind=CASE_ITEM,
        title=f"Ansökan om medel till insatsen {case.title}",
        insats_id=case.id,
        proposal=check_free_text(proposal.strip(), "förslaget till beslut")
        if proposal
        else draft_proposal(session, case),
        deferred_from_id=deferred_from.id if deferred_from else None,
    )
    return add_item(session, meeting, protocol, item, forbund=forbund, actor=actor, now=now)


def _add_standard_items(session: Session, meeting: Meeting) -> None:
    existing = set(session.exec(select(AgendaItem.kind).where(AgendaItem.meeting_id == meeting.id)))
    for key, title, section, proposal in STANDARD_ITEMS:
        if key in existing:
            continue
        session.add(
            AgendaItem(
                meeting_id=meeting.id,  # type: ignore[arg-type]
                section=section,
                position=next_position(session, meeting, section),
                kind=key,
                title=title,
                proposal=proposal,
            )
        )
        session.flush()


def build_agenda(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    add: list[str] | None = None,
    include_ready: bool = True,
    forbund: str | None = None,
) -> MeetingView:
    """Standard items, then every case ready for decision (or only those in `add`)."""
    now = app.clock()
    try:
        with app.db.transaction() as session:
            organisation, _, actor = begin_change(session, forbund, actor_email)
            meeting = find_meeting(session, organisation, ref)
            app.actions.require(actor, "build_agenda")
            protocol = open_for_items(session, meeting, "en dagordning för mötet")
            if protocol is None:
                _add_standard_items(session, meeting)
            elif not add:
                raise BadInput(
                    "protokollet är redan påbörjat; lägg till enstaka ärenden med --add DNR"
                )
            organ = session.get(Organ, meeting.organ_id)
            cases: list[Insats] = [find_case(session, organisation, dnr) for dnr in add or []]
            if include_ready and not add and organ is not None and organ.kind == OrganKind.STYRELSE:
                cases = _all_ready(session, organisation, app.settings.meetings.max_ready_on_agenda)
            for case in cases:
                place_case(
                    session,
                    app,
                    forbund=organisation,
                    meeting=meeting,
                    case=case,
                    actor=actor,
                    now=now,
                )
            session.flush()
            return meeting_view(session, app, meeting)
    except StaleDataError:
        raise Conflict("ett ärende ändrades samtidigt av någon annan; försök igen") from None


def set_proposal(
    app: App,
    *,
    ref: str | int,
    dnr: str,
    proposal: str,
    actor_email: str,
    forbund: str | None = None,
) -> MeetingView:
    """The förbundschef's own wording of the draft decision for one case item."""
    text = check_free_text(proposal.strip(), "förslaget till beslut")
    if not text:
        raise BadInput("förslaget till beslut är tomt")
    with app.db.transaction() as session:
        organisation = resolve_forbund(session, forbund, actor_email)
        meeting = find_meeting(session, organisation, ref)
        actor = find_actor(session, organisation, actor_email)
        app.actions.require(actor, "write_proposal")
        guard_open(session, meeting)
        case = find_case(session, organisation, dnr)
        item = session.exec(
            select(AgendaItem).where(
                AgendaItem.meeting_id == meeting.id, AgendaItem.insats_id == case.id
            )
        ).first()
        if item is None:
            raise NotFound(f"{dnr} står inte på mötets dagordning; lägg till med --add {dnr}")
        item.proposal = text
        session.add(item)
        session.flush()
        return meeting_view(session, app, meeting)


def add_matter(
    app: App,
    *,
    ref: str | int,
    title: str,
    actor_email: str,
    proposal: str | None = None,
    information: bool = False,
    forbund: str | None = None,
) -> MeetingView:
    """A matter without a case: a decision of the board's own or a report to take note of."""
    title = check_one_line(title, "ärendets rubrik", 300)
    text = check_free_text(proposal.strip(), "förslaget till beslut") if proposal else None
    if information and text is None:
        text = "att lägga informationen till handlingarna"
    if text is None:
        raise BadInput("ett beslutsärende behöver ett förslag till beslut; ange --proposal")
    now = app.clock()
    with app.db.transaction() as session:
        organisation, _, actor = begin_change(session, forbund, actor_email)
        meeting = find_meeting(session, organisation, ref)
        app.actions.require(actor, "build_agenda")
        protocol = open_for_items(session, meeting, "ett ärende vid mötet")
        section = 2 if information else 1
        item = AgendaItem(
            meeting_id=meeting.id,  # type: ignore[arg-type]
            section=section,
            position=next_position(session, meeting, section),
            kind=MATTER_KINDS[1] if information else MATTER_KINDS[0],
            title=title,
            proposal=text,
        )
        add_item(session, meeting, protocol, item, forbund=organisation, actor=actor, now=now)
        return meeting_view(session, app, meeting)


def move_item(
    app: App,
    *,
    ref: str | int,
    item_id: int,
    direction: str,
    actor_email: str,
    expected_version: int | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """Move one agenda item a step up or down within its section (audited).

    The item swaps places with its neighbour; an opened protocol's draft §§ follow the new
    order (`renumber`). A protocol sent for justering keeps its order.
    """
    if direction not in {"upp", "ned"}:
        raise BadInput(f"okänd riktning {direction!r}; välj upp eller ned")
    now = app.clock()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        meeting = find_meeting(session, organisation, ref)
        app.actions.require(actor, "build_agenda")
        protocol = guard_open(session, meeting)
        if protocol is not None and protocol.status != ProtocolStatus.UTKAST:
            raise NotPermitted("protokollet är skickat för justering; dagordningen ligger fast")
        touch(session, meeting, expected_version)
        items = ordered_items(session, meeting)
        item = next((i for i in items if i.id == item_id), None)
        if item is None:
            raise NotFound(f"mötet har ingen punkt {item_id} på dagordningen")
        same = [i for i in items if i.section == item.section]
        index = same.index(item)
        other_index = index - 1 if direction == "upp" else index + 1
        if not 0 <= other_index < len(same):
            where = "först" if direction == "upp" else "sist"
            raise BadInput(f"”{item.title}” står redan {where} i sin del av dagordningen")
        other = same[other_index]
        mine, theirs = item.position, other.position
        # (meeting, section, position) is unique: park one row while the other moves.
        table = AgendaItem.__table__  # type: ignore[attr-defined]
        connection = session.connection()
        connection.execute(update(table).where(table.c.id == item.id).values(position=-1))
        connection.execute(update(table).where(table.c.id == other.id).values(position=mine))
        connection.execute(update(table).where(table.c.id == item.id).values(position=theirs))
        session.expire(item, ["position"])
        session.expire(other, ["position"])
        audit.append(
            session,
            head,
            subject_kind=MEETING,
            subject_id=meeting.id,  # type: ignore[arg-type]
            subject_ref=str(meeting.number),
            from_state="planerat",
            to_state="planerat",
            trigger="flytta_punkt",
            actor=actor,
            at=now,
            data={"item_id": item.id, "title": item.title, "direction": direction},
        )
        if protocol is not None:
            renumber(session, meeting, head=head, actor=actor, now=now)
        session.flush()
        return meeting_view(session, app, meeting)


@dataclass
class ReadyCase:
    """A case the board may take up: recommended (or bordlagd) and on no open agenda."""

    dnr: str
    title: str
    state: str
    recommendation_label: str


@dataclass(frozen=True)
class ReadyState:
    """How many of a state's cases are ready, counted up to COUNT_CAP (more: `capped`)."""

    state: str
    state_label: str
    count: int
    capped: bool = False


@dataclass(frozen=True)
class ReadyCases:
    """The first cases ready for the board (by dnr) and how many are ready per state: the
    meeting page lists the first and links each state to the case list for the rest."""

    items: list[ReadyCase]
    states: list[ReadyState]
    # What "Ta med alla redo" takes at most ([meetings] max_ready_on_agenda).
    agenda_max: int

    @property
    def count(self) -> int:
        return sum(state.count for state in self.states)

    @property
    def capped(self) -> bool:
        return any(state.capped for state in self.states)

    @property
    def more(self) -> bool:
        return self.count > len(self.items)

    @property
    def more_than_agenda_takes(self) -> str:
        """The page's words for more ready than an agenda takes (as the refusal's)."""
        return more_than(self.agenda_max)

    @property
    def fit_one_agenda(self) -> bool:
        """Whether "Ta med alla redo" takes them all: no more than agenda_max."""
        return self.count <= self.agenda_max


# The meeting page shows this many of the ready cases; a förbund with years of history can
# have thousands in these states (cases put on an agenda that was never held).
READY_SHOWN = 20
MAX_READY_SHOWN = 100
# Each state's ready cases are counted up to this many, reading at most that many index rows.
COUNT_CAP = 1000

_INSATS = Insats.__table__  # type: ignore[attr-defined]
_ITEM = AgendaItem.__table__  # type: ignore[attr-defined]
_PARAGRAPH = Paragraph.__table__  # type: ignore[attr-defined]
_RECOMMENDATION = Recommendation.__table__  # type: ignore[attr-defined]


def _ready_in(organisation: ForbundRef, state: str) -> list[ColumnElement[bool]]:
    """The förbund's cases in the state that are no item of an open agenda (_on_open_agenda
    in SQL: an item without a decided §), as WHERE conditions on the insats table."""
    decided = (
        select(_PARAGRAPH.c.id)
        .where(_PARAGRAPH.c.agenda_item_id == _ITEM.c.id, _PARAGRAPH.c.decision.is_not(None))
        .exists()
    )
    on_open_agenda = select(_ITEM.c.id).where(_ITEM.c.insats_id == _INSATS.c.id, ~decided).exists()
    return [_INSATS.c.forbund_id == organisation.id, _INSATS.c.state == state, ~on_open_agenda]


def _first_ready(
    connection: Connection, organisation: ForbundRef, states: list[str], limit: int
) -> list[int]:
    """The ids of the first `limit` cases ready in `states` and on no open agenda, by dnr: each
    state's first `limit` by dnr from ix_insats_list_state in one UNION ALL, the first `limit`
    of them all kept."""
    order = (bytewise(_INSATS.c.dnr), _INSATS.c.id)
    firsts = [
        core_select(
            core_select(_INSATS.c.id, _INSATS.c.dnr)
            .where(*_ready_in(organisation, state))
            .order_by(*order)
            .limit(limit)
            .subquery()
        )
        for state in states
    ]
    rows = connection.execute(union_all(*firsts)).all() if firsts else []
    # Python orders str by code point, as bytewise() orders the UTF-8 bytes.
    return [row.id for row in sorted(rows, key=lambda r: (r.dnr or "", r.id))][:limit]


def more_than(most: int) -> str:
    """ "fler än N ärenden är" in Swedish, singular for one."""
    return "fler än ett ärende är" if most == 1 else f"fler än {most} ärenden är"


def _all_ready(session: Session, organisation: ForbundRef, most: int) -> list[Insats]:
    """Every case ready for the board and on no open agenda, by dnr, in two queries whatever
    the number of cases; BadInput when more than `most` are ([meetings] max_ready_on_agenda).
    A board decides on a handful of insatser a meeting; more ready at once are cases left from
    agendas never held, or a backlog, and which of them this meeting takes up is the
    förbundschef's choice, not the diarienummer's (each case is a transition, an audit event
    and a § of its own).

    Steps: take each state's first `most` + 1 by dnr from ix_insats_list_state (one UNION
    ALL, as `ready_cases`), keep the first of them all, read those cases."""
    ids = _first_ready(session.connection(), organisation, [*READY, "pa_dagordning"], most + 1)
    if len(ids) > most:
        raise BadInput(
            f"{more_than(most)} redo för beslut och en dagordning tar "
            f"med högst {most} på en gång; välj vilka styrelsen ska ta upp: "
            "ställ upp dagordningen utan att ta med alla och lägg på ärendena ett i taget "
            "(finsam meetings agenda --add DNR)"
        )
    if not ids:
        return []
    found = {c.id: c for c in session.exec(select(Insats).where(_INSATS.c.id.in_(ids)))}
    return [found[i] for i in ids]


def ready_cases(app: App, *, forbund: str | None = None, limit: int = READY_SHOWN) -> ReadyCases:
    """The first `limit` cases ready for the board's decision that no agenda holds yet, by
    dnr, and how many there are per state: three queries after the förbund's, whatever the
    number of cases.

    Steps: count each state's ready cases up to COUNT_CAP (one UNION ALL); take each state's
    first `limit` by dnr from ix_insats_list_state (one UNION ALL) and keep the first `limit`
    of them all; read their titles and latest recommendations (one query)."""
    from workflow.vocabulary import recommendation_label

    check_limit(limit, MAX_READY_SHOWN)
    lifecycle = app.lifecycles["insats"].lifecycle
    states = [*READY, "pa_dagordning"]
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        connection = session.connection()
        counted = [
            core_select(literal(state).label("state"), func.count().label("n")).select_from(
                core_select(_INSATS.c.id)
                .where(*_ready_in(organisation, state))
                .limit(COUNT_CAP + 1)
                .subquery()
            )
            for state in states
        ]
        counts = {row.state: int(row.n) for row in connection.execute(union_all(*counted))}
        ids = _first_ready(connection, organisation, [s for s in states if counts.get(s)], limit)
        latest = (
            core_select(_RECOMMENDATION.c.outcome)
            .where(_RECOMMENDATION.c.insats_id == _INSATS.c.id)
            .order_by(_RECOMMENDATION.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        found: dict[int, Any] = {}
        if ids:
            shown = core_select(
                _INSATS.c.id,
                _INSATS.c.dnr,
                _INSATS.c.title,
                _INSATS.c.state,
                latest.label("outcome"),
            ).where(_INSATS.c.id.in_(ids))
            found = {row.id: row for row in connection.execute(shown)}
    items = [
        ReadyCase(
            found[i].dnr or "",
            found[i].title,
            found[i].state,
            recommendation_label(found[i].outcome) if found[i].outcome else "",
        )
        for i in ids
        if i in found
    ]
    return ReadyCases(
        items,
        [
            ReadyState(
                state,
                lifecycle.label_of(state),
                min(counts[state], COUNT_CAP),
                capped=counts[state] > COUNT_CAP,
            )
            for state in states
            if counts.get(state)
        ],
        app.settings.meetings.max_ready_on_agenda,
    )


def write_proposal(
    app: App,
    *,
    ref: str | int,
    item_id: int,
    proposal: str,
    actor_email: str,
    expected_version: int | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """The draft decision of one agenda item, written from the meeting page (audited; the
    meeting's version guards against two people writing at once)."""
    text = check_free_text(proposal.strip(), "förslaget till beslut")
    if not text:
        raise BadInput("förslaget till beslut är tomt; skriv vad styrelsen föreslås besluta")
    now = app.clock()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        meeting = find_meeting(session, organisation, ref)
        app.actions.require(actor, "write_proposal")
        guard_open(session, meeting)
        item = session.get(AgendaItem, item_id)
        if item is None or item.meeting_id != meeting.id:
            raise NotFound(f"mötet har ingen punkt {item_id} på dagordningen")
        paragraph = paragraph_of(session, item)
        if paragraph is not None and paragraph.decision:
            raise NotPermitted(f"”{item.title}” är redan beslutad; förslaget kan inte ändras")
        touch(session, meeting, expected_version)
        if item.proposal == text:
            return meeting_view(session, app, meeting)
        item.proposal = text
        session.add(item)
        audit.append(
            session,
            head,
            subject_kind=MEETING,
            subject_id=meeting.id,  # type: ignore[arg-type]
            subject_ref=str(meeting.number),
            from_state="planerat",
            to_state="planerat",
            trigger="forslag_till_beslut",
            actor=actor,
            at=now,
            data={"item_id": item.id, "title": item.title},
        )
        session.flush()
        return meeting_view(session, app, meeting)
