"""The protocol of a meeting: §§ with decisions, justering and anslag.

utkast -> för_justering -> justerat -> anslaget. Each § is decided once; the case moves in the
same transaction as its § is written (through cases.fire_in), except that a bifall only
takes effect when the protocol is justerat: the case waits in vantar_justering and the last
approval fires `justera` on it. A justerat protocol never changes again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local, local_date
from workflow.errors import BadInput, Conflict, NotFound, NotPermitted
from workflow.models import (
    AgendaItem,
    Attendance,
    ForbundRef,
    Insats,
    Meeting,
    Organ,
    Paragraph,
    Person,
    Protocol,
    ProtocolSigner,
)
from workflow.models.meetings import (
    DecisionKind,
    OrganKind,
    Presence,
    ProtocolStatus,
    SignerRole,
)
from workflow.services.board.agenda import CASE_ITEM, amounts_text, place_case
from workflow.services.board.meetings import (
    MeetingView,
    find_meeting,
    guard_open,
    latest_recommendation,
    meeting_view,
    next_meeting,
    ordered_items,
    protocol_of,
)
from workflow.services.board.paragraphs import open_paragraph, paragraph_ref
from workflow.services.cases import audit, fire_in
from workflow.services.cases.audit import ChainHead, lock_chain
from workflow.services.cases.change import begin_change
from workflow.services.funding import budget
from workflow.services.organisation.people import Actor, find_actor
from workflow.text_guard import check_free_text
from workflow.vocabulary import Recommendation as Outcome
from workflow.vocabulary import parse_choice

SUBJECT = "protokoll"
PARAGRAPH_SUBJECT = "paragraf"
VOTING = {Presence.BESLUTANDE.value, Presence.TJANSTGORANDE_ERSATTARE.value}
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


@dataclass
class _Scope:
    session: Session
    forbund: ForbundRef
    head: ChainHead
    meeting: Meeting
    actor: Actor
    now: datetime


@contextmanager
def _scope(app: App, ref: str | int, actor_email: str, forbund: str | None) -> Iterator[_Scope]:
    """One transaction on one meeting: chain lock first, so what we read next stays true."""
    try:
        with app.db.transaction() as session:
            change = begin_change(session, forbund, actor_email)
            meeting = find_meeting(session, change.forbund, ref)
            yield _Scope(session, change.forbund, change.head, meeting, change.actor, app.clock())
    except StaleDataError:
        raise Conflict(
            "protokollet ändrades samtidigt av någon annan; läs om det med 'finsam meetings show' "
            "och försök igen"
        ) from None
    except IntegrityError as exc:
        raise Conflict(
            f"protokollet kunde inte sparas ({exc.orig.__class__.__name__}); försök igen"
        ) from None


def _audit(
    s: _Scope,
    *,
    kind: str,
    subject_id: int,
    ref: str,
    from_state: str | None,
    to_state: str,
    trigger: str,
    data: dict[str, Any] | None = None,
    comment: str | None = None,
) -> None:
    audit.append(
        s.session,
        s.head,
        subject_kind=kind,
        subject_id=subject_id,
        subject_ref=ref,
        from_state=from_state,
        to_state=to_state,
        trigger=trigger,
        actor=s.actor,
        at=s.now,
        comment=comment,
        data=data,
    )


def _meeting_ref(meeting: Meeting) -> str:
    return f"möte {meeting.number} {local(meeting.starts_at):%Y-%m-%d}"


def _attendance(session: Session, meeting: Meeting) -> list[Attendance]:
    return list(session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)))


def _voter(
    session: Session, forbund: ForbundRef, meeting: Meeting, email: str, what: str
) -> tuple[Actor, Attendance]:
    person = find_actor(session, forbund, email)
    row = next((a for a in _attendance(session, meeting) if a.person_id == person.id), None)
    if row is None or row.presence not in VOTING:
        raise BadInput(f"{person.email} är inte beslutande vid mötet och kan inte vara {what}")
    return person, row


# -- opening the protocol -------------------------------------------------------------------


def open_protocol(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    justerare: list[str],
    chair: str | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """Start the protocol: signers chosen, every agenda item gets its § number."""
    with _scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        guard_open(s.session, s.meeting)
        if protocol_of(s.session, s.meeting) is not None:
            raise Conflict(f"{_meeting_ref(s.meeting)} har redan ett protokoll")
        items = ordered_items(s.session, s.meeting)
        if not items:
            raise BadInput("mötet har ingen dagordning; bygg den med 'finsam meetings agenda'")
        need = app.settings.meetings.justerare_count
        if not need <= len(set(justerare)) <= 2:
            raise BadInput(f"ange {need} justerare med --justerare (högst två)")
        attendance = _attendance(s.session, s.meeting)
        chair_person: Actor | Person | None
        if chair:
            chair_person, _ = _voter(s.session, s.forbund, s.meeting, chair, "ordförande")
        else:
            row = next(
                (a for a in attendance if a.capacity == "ordförande" and a.presence in VOTING), None
            )
            if row is None or row.person_id is None:
                raise BadInput("ordföranden är inte närvarande; ange mötets ordförande med --chair")
            chair_person = s.session.get(Person, row.person_id)
        assert chair_person is not None
        organ = s.session.get(Organ, s.meeting.organ_id)
        # A styrelse justerare completes bifall decisions: only board members may (states/).
        board = organ is not None and organ.kind == OrganKind.STYRELSE
        checkers = []
        for email in dict.fromkeys(justerare):
            person, _ = _voter(s.session, s.forbund, s.meeting, email, "justerare")
            if person.id == chair_person.id:
                raise BadInput("ordföranden justerar redan; välj en annan ledamot som justerare")
            if board and not app.actions.allows(
                find_actor(s.session, s.forbund, person.email), "justera_board_protocol"
            ):
                raise BadInput(f"{person.email} sitter inte i styrelsen och kan inte justera")
            checkers.append(person)
        protocol = Protocol(
            forbund_id=s.forbund.id,  # type: ignore[arg-type]
            meeting_id=s.meeting.id,  # type: ignore[arg-type]
            status=ProtocolStatus.UTKAST.value,
            secretary_id=s.actor.id,  # type: ignore[arg-type]
            created_at=s.now,
        )
        s.session.add(protocol)
        s.session.flush()
        s.session.add(
            ProtocolSigner(
                protocol_id=protocol.id,  # type: ignore[arg-type]
                person_id=chair_person.id,  # type: ignore[arg-type]
                role=SignerRole.ORDFORANDE.value,
            )
        )
        for person in checkers:
            s.session.add(
                ProtocolSigner(
                    protocol_id=protocol.id,  # type: ignore[arg-type]
                    person_id=person.id,  # type: ignore[arg-type]
                    role=SignerRole.JUSTERARE.value,
                )
            )
        names = " och ".join(p.name for p in checkers)
        for item in items:
            if item.kind == "justerare" and item.proposal:
                item.proposal = item.proposal.replace("{justerare}", names)
                s.session.add(item)
            open_paragraph(s.session, protocol, s.meeting, item)
        _audit(
            s,
            kind=SUBJECT,
            subject_id=protocol.id,  # type: ignore[arg-type]
            ref=_meeting_ref(s.meeting),
            from_state=None,
            to_state=protocol.status,
            trigger="skapa",
            data={"ordforande": chair_person.email, "justerare": [p.email for p in checkers]},
        )
        s.session.flush()
        return meeting_view(s.session, app, s.meeting)


# -- deciding -------------------------------------------------------------------------------


def _open_draft(s: _Scope) -> Protocol:
    protocol = guard_open(s.session, s.meeting)
    if protocol is None:
        raise BadInput(
            f"{_meeting_ref(s.meeting)} har inget protokoll än; öppna det med 'finsam meetings protocol'"
        )
    if protocol.status != ProtocolStatus.UTKAST:
        raise NotPermitted(
            "protokollet är skickat för justering och kan inte ändras; "
            "ordföranden och justeraren justerar det som det står"
        )
    return protocol


def _find_paragraph(s: _Scope, protocol: Protocol, number: int) -> Paragraph:
    paragraph = s.session.exec(
        select(Paragraph).where(Paragraph.protocol_id == protocol.id, Paragraph.number == number)
    ).first()
    if paragraph is None:
        known = ", ".join(
            str(n)
            for n in s.session.exec(
                select(Paragraph.number)
                .where(Paragraph.protocol_id == protocol.id)
                .order_by(col(Paragraph.number))
            )
        )
        raise NotFound(f"protokollet har ingen § {number}; dess §§: {known}")
    return paragraph


def _att(text: str) -> str:
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
        return [_att(item.proposal or item.title)]
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
    }.get(kind, [_att(item.proposal or item.title)])


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


def _people(s: _Scope, emails: list[str] | None, what: str) -> list[tuple[Actor, str | None]]:
    found: list[tuple[Actor, str | None]] = []
    for raw in emails or []:
        email, _, text = raw.partition(":")
        person, _ = _voter(s.session, s.forbund, s.meeting, email.strip(), what)
        found.append((person, check_free_text(text.strip(), what) or None))
    return found


def _decide(
    s: _Scope,
    app: App,
    paragraph: Paragraph,
    given: DecisionInput,
    *,
    follows_proposal: bool = False,
) -> None:
    """Write one decision on its § and move its case (steps in the module doc)."""
    kind = parse_choice(DecisionKind, given.kind, "beslutstyp")
    item = s.session.get(AgendaItem, paragraph.agenda_item_id)
    assert item is not None
    case = s.session.get(Insats, paragraph.insats_id) if paragraph.insats_id else None
    trigger = CASE_TRIGGERS.get(kind)
    if case is not None and trigger is None:
        raise BadInput(
            f"§ {paragraph.number} gäller {case.dnr}: välj bifall, delvis_bifall, avslag, "
            "aterremiss eller bordlaggning"
        )
    if case is None and trigger is not None:
        raise BadInput(
            f"§ {paragraph.number} ({item.title}) gäller inget ärende; "
            "välj beslut eller lagga_till_handlingarna"
        )
    motivation = (
        check_free_text(given.motivation.strip(), "motiveringen") if given.motivation else None
    )
    if kind is DecisionKind.ATERREMISS and not motivation:
        raise BadInput("återremiss: ange vad som ska göras med --motivation")
    conditions = (
        check_free_text(given.conditions.strip(), "villkoren") if given.conditions else None
    )
    granted: dict[str, int] = {}
    if case is not None and kind in {DecisionKind.BIFALL, DecisionKind.DELVIS_BIFALL}:
        granted = _parse_granted(given.granted, case, kind)
    elif given.granted:
        raise BadInput("belopp beviljas bara vid bifall eller delvis bifall")
    if case is not None and granted and not given.over_frame:
        overrun = budget.frame_overrun(
            s.session,
            app,
            forbund=s.forbund,
            case=case,
            amounts=granted,
            decided_on=local_date(s.meeting.starts_at, app.settings.zone),
        )
        if overrun:
            raise BadInput(
                f"§ {paragraph.number} ({case.dnr}): {overrun}; minska beloppet eller "
                "besluta ändå med --over-frame"
            )
    jav = _people(s, given.jav, "jävig")
    jav_ids = {p.id for p, _ in jav}
    reservations = _people(s, given.reservations, "reservant")
    for person, _ in reservations:
        if person.id in jav_ids:
            raise BadInput(
                f"{person.email} är jävig i § {paragraph.number} och deltar inte i beslutet"
            )
    att_satser = [
        check_free_text(_att(a), "att-satsen") for a in (given.att_satser or []) if a.strip()
    ] or _default_att_satser(kind, item, case, granted, conditions, follows_proposal)
    if case is not None:
        values = {"decision_paragraph": paragraph_ref(paragraph)}
        fire_in(
            s.session,
            app,
            forbund=s.forbund,
            case=case,
            actor=s.actor,
            trigger=trigger,  # type: ignore[arg-type]
            now=s.now,
            values=values,
            comment=motivation,
        )
    paragraph.decision = kind.value
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
    _audit(
        s,
        kind=PARAGRAPH_SUBJECT,
        subject_id=paragraph.id,  # type: ignore[arg-type]
        ref=paragraph_ref(paragraph),
        from_state=None,
        to_state=kind.value,
        trigger="besluta",
        data={"dnr": case.dnr if case else None, "granted": granted, "att_satser": att_satser},
        comment=motivation,
    )
    if case is not None and kind is DecisionKind.BORDLAGGNING:
        later = next_meeting(s.session, s.meeting)
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
    with _scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        protocol = _open_draft(s)
        row = _find_paragraph(s, protocol, paragraph)
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


def _followed(s: _Scope, paragraph: Paragraph) -> DecisionInput:
    item = s.session.get(AgendaItem, paragraph.agenda_item_id)
    assert item is not None
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
    with _scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        protocol = _open_draft(s)
        if paragraphs:
            rows = [_find_paragraph(s, protocol, n) for n in dict.fromkeys(paragraphs)]
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
    with _scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "keep_protocol")
        protocol = _open_draft(s)
        row = _find_paragraph(s, protocol, paragraph)
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
                check_free_text(_att(a), "att-satsen") for a in att_satser if a.strip()
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
            row.jav = [{"name": p.name, "email": p.email} for p, _ in _people(s, jav, "jävig")]
            changed["jav"] = [j["email"] for j in row.jav]
        if reservations is not None:
            people = _people(s, reservations, "reservant")
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
        _audit(
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


# -- justering and anslag -------------------------------------------------------------------


def _set_status(
    s: _Scope,
    protocol: Protocol,
    status: ProtocolStatus,
    trigger: str,
    data: dict[str, Any] | None = None,
) -> None:
    before = protocol.status
    protocol.status = status.value
    s.session.add(protocol)
    s.session.flush()
    _audit(
        s,
        kind=SUBJECT,
        subject_id=protocol.id,  # type: ignore[arg-type]
        ref=_meeting_ref(s.meeting),
        from_state=before,
        to_state=status.value,
        trigger=trigger,
        data=data,
    )


def send_for_justering(
    app: App, *, ref: str | int, actor_email: str, forbund: str | None = None
) -> MeetingView:
    with _scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "send_protocol")
        protocol = _open_draft(s)
        open_numbers = [
            str(n)
            for n in s.session.exec(
                select(Paragraph.number)
                .where(Paragraph.protocol_id == protocol.id, col(Paragraph.decision).is_(None))
                .order_by(col(Paragraph.number))
            )
        ]
        if open_numbers:
            raise BadInput(
                f"§ {', '.join(open_numbers)} saknar beslut; besluta dem med 'finsam meetings decide' "
                "eller 'finsam meetings follow'"
            )
        protocol.sent_for_justering_at = s.now
        _set_status(s, protocol, ProtocolStatus.FOR_JUSTERING, "skicka_for_justering")
        return meeting_view(s.session, app, s.meeting)


def approve(
    app: App, *, ref: str | int, actor_email: str, forbund: str | None = None
) -> MeetingView:
    """Ordförande or justerare approves; the last approval makes the protocol justerat and
    gives every bifall of it effect on its case, in the same transaction."""
    with _scope(app, ref, actor_email, forbund) as s:
        protocol = guard_open(s.session, s.meeting)
        if protocol is None or protocol.status != ProtocolStatus.FOR_JUSTERING:
            raise NotPermitted(
                "protokollet är inte skickat för justering; sekreteraren skickar det med "
                "'finsam meetings send'"
            )
        signers = list(
            s.session.exec(select(ProtocolSigner).where(ProtocolSigner.protocol_id == protocol.id))
        )
        mine = next((x for x in signers if x.person_id == s.actor.id), None)
        if mine is None:
            raise NotPermitted(
                f"{s.actor.email} är varken ordförande eller justerare för protokollet"
            )
        if mine.signed_at is not None:
            raise Conflict(f"{s.actor.email} har redan justerat protokollet")
        mine.signed_at = s.now
        s.session.add(mine)
        if any(x.signed_at is None for x in signers):
            s.session.add(protocol)
            s.session.flush()
            _audit(
                s,
                kind=SUBJECT,
                subject_id=protocol.id,  # type: ignore[arg-type]
                ref=_meeting_ref(s.meeting),
                from_state=protocol.status,
                to_state=protocol.status,
                trigger="justera",
                data={"signer": s.actor.email, "role": mine.role},
            )
            return meeting_view(s.session, app, s.meeting)
        protocol.justerat_at = s.now
        _set_status(
            s,
            protocol,
            ProtocolStatus.JUSTERAT,
            "justera",
            {"signer": s.actor.email, "role": mine.role},
        )
        waiting = s.session.exec(
            select(Insats, Paragraph)
            .join(Paragraph, col(Paragraph.insats_id) == col(Insats.id))
            .where(
                Paragraph.protocol_id == protocol.id,
                col(Paragraph.decision).in_(
                    [DecisionKind.BIFALL.value, DecisionKind.DELVIS_BIFALL.value]
                ),
                Insats.state == "vantar_justering",
            )
            .order_by(col(Paragraph.number))
        ).all()
        decided_on = local_date(s.meeting.starts_at, app.settings.zone)
        for case, paragraph in waiting:
            fire_in(
                s.session,
                app,
                forbund=s.forbund,
                case=case,
                actor=s.actor,
                trigger="justera",
                now=s.now,
            )
            # The granted amounts become the insats's budget lines with the justering; a
            # decision beyond the frame is the board's to make, so it is kept with its
            # warning in the audit trail rather than refused here.
            if paragraph.granted:
                budget.grant_in(
                    s.session,
                    app,
                    forbund=s.forbund,
                    head=lock_chain(s.session, s.forbund.id),  # type: ignore[arg-type]
                    case=case,
                    actor=s.actor,
                    amounts={str(y): int(v) for y, v in paragraph.granted.items()},
                    paragraph=f"§ {paragraph.number}",
                    decided_on=decided_on,
                    now=s.now,
                    over_frame=True,
                )
        return meeting_view(s.session, app, s.meeting)


def return_to_draft(
    app: App, *, ref: str | int, actor_email: str, reason: str, forbund: str | None = None
) -> MeetingView:
    """Take a protocol back from justering to utkast (the justerare found an error); every
    approval given so far lapses, as the text may change."""
    reason = check_free_text((reason or "").strip(), "skälet")
    if not reason:
        raise BadInput("ange varför protokollet tas tillbaka med --reason")
    with _scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "reopen_protocol")
        protocol = guard_open(s.session, s.meeting)
        if protocol is None or protocol.status != ProtocolStatus.FOR_JUSTERING:
            raise BadInput("bara ett protokoll som är skickat för justering kan tas tillbaka")
        for signer in s.session.exec(
            select(ProtocolSigner).where(ProtocolSigner.protocol_id == protocol.id)
        ):
            signer.signed_at = None
            s.session.add(signer)
        protocol.sent_for_justering_at = None
        before = protocol.status
        protocol.status = ProtocolStatus.UTKAST.value
        s.session.add(protocol)
        s.session.flush()
        _audit(
            s,
            kind=SUBJECT,
            subject_id=protocol.id,  # type: ignore[arg-type]
            ref=_meeting_ref(s.meeting),
            from_state=before,
            to_state=protocol.status,
            trigger="ta_tillbaka",
            comment=reason,
        )
        return meeting_view(s.session, app, s.meeting)


def post_anslag(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    posted_on: date | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """The justerat protocol goes up on the anslagstavla for the appeal window."""
    settings = app.settings.meetings
    with _scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "post_anslag")
        protocol = protocol_of(s.session, s.meeting)
        if protocol is None or protocol.status != ProtocolStatus.JUSTERAT:
            state = protocol.status if protocol else "saknas"
            raise NotPermitted(f"bara ett justerat protokoll kan anslås (protokollet: {state})")
        day = posted_on or local_date(s.now, app.settings.zone)
        assert protocol.justerat_at is not None
        justerad = local_date(protocol.justerat_at, app.settings.zone)
        if day < justerad:
            raise BadInput(f"anslaget kan inte sättas upp före justeringen {justerad}")
        protocol.posted_on = day
        protocol.taken_down_on = day + timedelta(weeks=settings.appeal_weeks)
        protocol.storage_place = settings.storage_place
        _set_status(
            s,
            protocol,
            ProtocolStatus.ANSLAGET,
            "anslag",
            {"posted_on": day.isoformat(), "taken_down_on": protocol.taken_down_on.isoformat()},
        )
        return meeting_view(s.session, app, s.meeting)
