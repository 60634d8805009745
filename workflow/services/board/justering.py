"""Justering: the secretary sends the decided protocol for justering, the ordförande and the
justerare chosen for it sign it, and the last signature makes it justerat and gives every
bifall of it effect on its case (the granted amounts become the insats's budget lines; `justera`
is a step only this performs); or the secretary takes it back to utkast and every signature
given lapses. Nothing of it happens before the meeting has begun, and sending fixes the
protocol's § numbers (paragraphs.py)."""

from __future__ import annotations

from sqlmodel import col, select

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput, Conflict, NotPermitted
from workflow.models import Insats, Paragraph, ProtocolSigner
from workflow.models.meetings import DecisionKind, ProtocolStatus
from workflow.services.board import papers, utdrag
from workflow.services.board.paragraphs import unopened_before
from workflow.services.board.protocol import (
    SUBJECT,
    meeting_ref,
    open_draft,
    record,
    require_held,
    scope,
    set_status,
)
from workflow.services.board.records import guard_open
from workflow.services.board.views import MeetingView, meeting_view
from workflow.services.cases import fire_in
from workflow.services.cases.audit import lock_chain
from workflow.services.funding import budget
from workflow.text_guard import check_free_text


def send_for_justering(
    app: App, *, ref: str | int, actor_email: str, forbund: str | None = None
) -> MeetingView:
    """Send the decided protocol to its signers; from now on its § numbers are fixed.

    Steps: the meeting has begun; every § is decided; no earlier meeting of the organ that
    year has an agenda without a protocol (it could never get §§ in date order after this);
    the protocol is för justering.
    """
    with scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "send_protocol")
        protocol = open_draft(s)
        require_held(s, "protokollet skickas för justering")
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
        earlier = unopened_before(s.session, s.meeting)
        if earlier is not None:
            raise NotPermitted(
                f"{meeting_ref(earlier)} har en dagordning men inget protokoll; öppna det först "
                f"('finsam meetings protocol {earlier.id}') så att §§ följer mötenas datum"
            )
        protocol.sent_for_justering_at = s.now
        set_status(s, protocol, ProtocolStatus.FOR_JUSTERING, "skicka_for_justering")
        return meeting_view(s.session, app, s.meeting)


def approve(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    forbund: str | None = None,
    expected_version: int | None = None,
    expected_digest: str | None = None,
) -> MeetingView:
    """Ordförande or justerare approves; the last approval makes the protocol justerat and
    gives every bifall of it effect on its case, in the same transaction, and sends each
    case's projektägare the utdrag of its § (utdrag.py).

    `expected_version` / `expected_digest`: the protocol's version and the digest of its text
    (papers.digest) as the signer saw them; an approval of anything else is refused, so that
    one signs exactly the text one was shown."""
    with scope(app, ref, actor_email, forbund) as s:
        require_held(s, "protokollet justeras")
        protocol = guard_open(s.session, s.meeting)
        if protocol is None or protocol.status != ProtocolStatus.FOR_JUSTERING:
            raise NotPermitted(
                "protokollet är inte skickat för justering; sekreteraren skickar det med "
                "'finsam meetings send'"
            )
        if expected_version is not None and protocol.version != expected_version:
            raise Conflict(
                f"protokollet har ändrats (version {protocol.version}, du såg "
                f"{expected_version}); läs det igen innan du justerar"
            )
        if expected_digest is not None:
            shown = papers.digest(app, meeting_view(s.session, app, s.meeting))
            if shown != expected_digest:
                raise Conflict(
                    "protokollets text är inte den du läste; läs det igen innan du justerar"
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
            record(
                s,
                kind=SUBJECT,
                subject_id=protocol.id,  # type: ignore[arg-type]
                ref=meeting_ref(s.meeting),
                from_state=protocol.status,
                to_state=protocol.status,
                trigger="justera",
                data={"signer": s.actor.email, "role": mine.role},
            )
            return meeting_view(s.session, app, s.meeting)
        protocol.justerat_at = s.now
        set_status(
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
                service="protocol",
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
        utdrag.queue_utdrag(
            s.session,
            app,
            forbund_id=s.forbund.id,  # type: ignore[arg-type]
            forbund_name=s.forbund.name,
            head=lock_chain(s.session, s.forbund.id),  # type: ignore[arg-type]
            actor=s.actor,
            meeting=s.meeting,
            protocol=protocol,
            now=s.now,
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
    with scope(app, ref, actor_email, forbund) as s:
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
        record(
            s,
            kind=SUBJECT,
            subject_id=protocol.id,  # type: ignore[arg-type]
            ref=meeting_ref(s.meeting),
            from_state=before,
            to_state=protocol.status,
            trigger="ta_tillbaka",
            comment=reason,
        )
        return meeting_view(s.session, app, s.meeting)
