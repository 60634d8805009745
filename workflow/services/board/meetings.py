"""Meetings of any organ: calling one, its attendance, and the kallelse sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import as_utc, local
from workflow.errors import BadInput, Conflict, NotPermitted
from workflow.models import AgendaItem, Attendance, Meeting, Organ, Party, Person
from workflow.models.meetings import ORGAN_NAMES, MemberRole, OrganKind, Presence
from workflow.services.board.paragraphs import refuse_new_paragraphs
from workflow.services.board.records import find_meeting, guard_open
from workflow.services.board.views import MeetingView, meeting_view
from workflow.services.cases import audit
from workflow.services.cases.change import begin_change
from workflow.services.cases.registration import next_number
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.organs import ensure_organ, members
from workflow.services.organisation.people import find_actor
from workflow.services.reminders import planner as reminders
from workflow.text_guard import check_one_line

SUBJECT = "mote"


def parse_local(text: str | datetime, app: App, what: str) -> datetime:
    """'2013-02-22 13:00' (local time) or an aware datetime, as aware UTC."""
    if isinstance(text, datetime):
        value = text
    else:
        try:
            value = datetime.fromisoformat(text.strip().replace("T", " "))
        except ValueError:
            raise BadInput(f"{what}: {text!r} är ingen tid; skriv ÅÅÅÅ-MM-DD TT:MM") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=app.settings.zone)
    return value


def _default_attendance(session: Session, meeting: Meeting, organ: Organ) -> None:
    """Everyone of the organ, as the protocol lists them until the secretary says otherwise."""
    presence = {
        MemberRole.ORDFORANDE: (Presence.BESLUTANDE, "ordförande"),
        MemberRole.VICE_ORDFORANDE: (Presence.BESLUTANDE, "vice ordförande"),
        MemberRole.LEDAMOT: (Presence.BESLUTANDE, None),
        MemberRole.ERSATTARE: (Presence.ERSATTARE, None),
        MemberRole.SEKRETERARE: (Presence.OVRIG, "sekreterare"),
        MemberRole.ADJUNGERAD: (Presence.OVRIG, "förbundschef"),
    }
    for position, (person, role) in enumerate(members(session, organ)):
        kind, capacity = presence[MemberRole(role)]
        if capacity is None and person.party_id is not None:
            party = session.get(Party, person.party_id)
            capacity = party.name if party else None
        session.add(
            Attendance(
                meeting_id=meeting.id,  # type: ignore[arg-type]
                person_id=person.id,
                name=person.name,
                presence=kind.value,
                capacity=capacity,
                position=position,
            )
        )


def create_meeting(
    app: App,
    *,
    actor_email: str,
    starts: str | datetime,
    place: str,
    organ: str = "styrelse",
    organ_name: str | None = None,
    ends: str | datetime | None = None,
    kind: str = "ordinarie",
    forbund: str | None = None,
) -> MeetingView:
    now = app.clock()
    starts_at = parse_local(starts, app, "mötets start")
    ends_at = parse_local(ends, app, "mötets slut") if ends else None
    if ends_at is not None and ends_at <= starts_at:
        raise BadInput("mötets slut måste ligga efter dess start")
    if kind not in {"ordinarie", "extra"}:
        raise BadInput(f"okänd mötestyp {kind!r}; välj ordinarie eller extra")
    place = check_one_line(place, "mötesplatsen")
    try:
        with app.db.transaction() as session:
            organisation, head, actor = begin_change(session, forbund, actor_email)
            app.actions.require(actor, "call_meeting")
            body = ensure_organ(session, organisation, organ, organ_name)
            meeting = Meeting(
                forbund_id=organisation.id,  # type: ignore[arg-type]
                organ_id=body.id,  # type: ignore[arg-type]
                starts_at=starts_at,
                ends_at=ends_at,
                place=place,
                kind=kind,
                number=next_number(session, Meeting.__table__, organisation.id),  # type: ignore[attr-defined]
                created_at=now,
            )
            session.add(meeting)
            session.flush()
            # §§ follow the meetings' dates: none may come before numbers already fixed.
            refuse_new_paragraphs(session, meeting, "ett möte")
            _default_attendance(session, meeting, body)
            audit.append(
                session,
                head,
                subject_kind=SUBJECT,
                subject_id=meeting.id,  # type: ignore[arg-type]
                subject_ref=f"{body.name} {local(starts_at, app.settings.zone):%Y-%m-%d}",
                from_state=None,
                to_state="planerat",
                trigger="skapa",
                actor=actor,
                at=now,
                data={"place": place, "starts_at": starts_at.isoformat()},
            )
            session.flush()
            reminders.replan_meeting(session, app, organisation, meeting.id)  # type: ignore[arg-type]
            return meeting_view(session, app, meeting)
    except IntegrityError:
        raise Conflict(
            f"{organ} har redan ett möte {local(starts_at, app.settings.zone):%Y-%m-%d %H:%M}"
        ) from None


def set_attendance(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    absent: list[str] | None = None,
    serving: list[str] | None = None,
    present: list[str] | None = None,
    others: list[str] | None = None,
    serving_for: dict[str, str] | None = None,
    expected_version: int | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """Record who is absent, which ersättare serve (`serving_for`: ersättare's e-mail ->
    the absent ledamot's, "tjänstgör för ..."), and others present ("Namn, funktion")."""
    now = app.clock()
    serving = list(dict.fromkeys([*(serving or []), *(serving_for or {})]))
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        meeting = find_meeting(session, organisation, ref)
        app.actions.require(actor, "keep_attendance")
        guard_open(session, meeting)
        if expected_version is not None:
            touch(session, meeting, expected_version)
        rows = list(session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)))

        def row_of(email: str) -> Attendance:
            person = find_actor(session, organisation, email)
            found = next((r for r in rows if r.person_id == person.id), None)
            if found is None:
                raise BadInput(
                    f"{person.email} hör inte till organet; lägg till som övrig med --other 'Namn, funktion'"
                )
            return found

        changes: dict[str, list[str]] = {}
        for email in absent or []:
            row_of(email).presence = Presence.FRANVARANDE.value
            changes.setdefault("absent", []).append(email)
        for email in present or []:
            row = row_of(email)
            if row.presence == Presence.FRANVARANDE.value:
                row.presence = Presence.BESLUTANDE.value
            elif row.presence == Presence.TJANSTGORANDE_ERSATTARE.value:
                # Present as ersättare again, no longer serving for anyone.
                row.presence = Presence.ERSATTARE.value
                person = session.get(Person, row.person_id)
                party = session.get(Party, person.party_id) if person and person.party_id else None
                row.capacity = party.name if party else None
            changes.setdefault("present", []).append(email)
        for email in serving or []:
            row = row_of(email)
            if row.presence not in {
                Presence.ERSATTARE.value,
                Presence.TJANSTGORANDE_ERSATTARE.value,
            }:
                raise BadInput(f"{email} är inte ersättare i organet")
            row.presence = Presence.TJANSTGORANDE_ERSATTARE.value
            changes.setdefault("serving", []).append(email)
            instead = (serving_for or {}).get(email)
            if instead:
                absent_row = row_of(instead)
                if absent_row.presence != Presence.FRANVARANDE.value:
                    raise BadInput(
                        f"{row.name} kan inte tjänstgöra för {absent_row.name}, "
                        "som inte är frånvarande"
                    )
                row.capacity = f"tjänstgör för {absent_row.name}"
                changes.setdefault("serving_for", []).append(f"{email} för {instead}")
        position = max((r.position for r in rows), default=0)
        for text in others or []:
            name, _, capacity = check_one_line(text, "övrig närvarande").partition(",")
            position += 1
            session.add(
                Attendance(
                    meeting_id=meeting.id,  # type: ignore[arg-type]
                    name=name.strip(),
                    presence=Presence.OVRIG.value,
                    capacity=capacity.strip() or None,
                    position=position,
                )
            )
            changes.setdefault("others", []).append(text)
        serving_count = sum(1 for r in rows if r.presence == Presence.TJANSTGORANDE_ERSATTARE.value)
        absent_count = sum(
            1 for r in rows if r.presence == Presence.FRANVARANDE.value and r.person_id is not None
        )
        if serving_count > absent_count:
            raise BadInput(
                f"{serving_count} ersättare tjänstgör men bara {absent_count} ledamöter är frånvarande"
            )
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=meeting.id,  # type: ignore[arg-type]
            subject_ref=str(meeting.number),
            from_state="planerat",
            to_state="planerat",
            trigger="narvaro",
            actor=actor,
            at=now,
            data=changes,
        )
        try:
            session.flush()
        except IntegrityError:
            raise BadInput("samma namn finns redan i närvarolistan") from None
        return meeting_view(session, app, meeting)


def mark_kallelse_sent(session: Session, meeting: Meeting, when: datetime) -> None:
    """Record that the kallelse went out (for whoever sends it, inside their transaction)."""
    if meeting.kallelse_sent_at is None:
        meeting.kallelse_sent_at = when
        session.add(meeting)
        session.flush()


def record_kallelse_sent(
    app: App, *, ref: str | int, actor_email: str, forbund: str | None = None
) -> MeetingView:
    """The kallelse was sent by hand (or before the system was used); reminders stop."""
    now = app.clock()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        meeting = find_meeting(session, organisation, ref)
        app.actions.require(actor, "record_kallelse")
        if meeting.kallelse_sent_at is not None:
            raise Conflict(f"kallelsen till möte {meeting.number} är redan skickad")
        mark_kallelse_sent(session, meeting, now)
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=meeting.id,  # type: ignore[arg-type]
            subject_ref=str(meeting.number),
            from_state="planerat",
            to_state="kallat",
            trigger="kallelse_skickad",
            actor=actor,
            at=now,
        )
        session.flush()
        reminders.replan_meeting(session, app, organisation, meeting.id)  # type: ignore[arg-type]
        return meeting_view(session, app, meeting)


def organ_choices(app: App, *, forbund: str | None = None) -> list[tuple[str, str]]:
    """The organs a meeting can be of: (value for `create_meeting(organ=)`, name). The
    förbund's organs by name, then the kinds it has none of yet (made on first use)."""
    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        organs = list(
            session.exec(
                select(Organ).where(Organ.forbund_id == organisation.id).order_by(col(Organ.id))
            )
        )
    kinds = {o.kind for o in organs}
    choices = [(f"{o.kind}:{o.name}", o.name) for o in organs]
    choices += [(k.value, ORGAN_NAMES[k]) for k in OrganKind if k.value not in kinds]
    return choices


def split_organ(value: str) -> tuple[str, str | None]:
    """'styrelse' or 'styrelse:Styrelsen' (an organ_choices value) as (kind, name)."""
    kind, _, name = value.partition(":")
    return kind.strip(), name.strip() or None


def _check_version(meeting: Meeting, expected: int | None) -> None:
    if expected is not None and meeting.version != expected:
        raise Conflict(
            f"möte {meeting.number} har ändrats sedan du läste det (version {meeting.version}, "
            f"du såg {expected})"
        )


def touch(session: Session, meeting: Meeting, expected: int | None) -> None:
    """Claim the meeting for a change of its agenda or attendance (rows of their own): its
    version moves on with a conditional UPDATE, so two people editing from the same page
    cannot both succeed; the second is told of a conflict (nothing of theirs saved)."""
    _check_version(meeting, expected)
    table = Meeting.__table__  # type: ignore[attr-defined]
    moved = (
        session.connection()
        .execute(
            update(table)
            .where(table.c.id == meeting.id, table.c.version == meeting.version)
            .values(version=meeting.version + 1)
        )
        .rowcount
    )
    if moved != 1:
        raise Conflict(f"möte {meeting.number} ändrades samtidigt av någon annan; försök igen")
    session.expire(meeting, ["version"])


def update_meeting(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    starts: str | datetime,
    place: str,
    ends: str | datetime | None = None,
    organ: str | None = None,
    organ_name: str | None = None,
    kind: str | None = None,
    expected_version: int | None = None,
    forbund: str | None = None,
) -> MeetingView:
    """Change a meeting's time, place, kind or organ (audited with what changed).

    A meeting whose protocol is opened keeps its time and organ (its §§ are numbered by
    them); one with an agenda keeps its organ (the agenda is the organ's).
    """
    now = app.clock()
    starts_at = parse_local(starts, app, "mötets start")
    ends_at = parse_local(ends, app, "mötets slut") if ends else None
    if ends_at is not None and ends_at <= starts_at:
        raise BadInput("mötets slut måste ligga efter dess start")
    if kind is not None and kind not in {"ordinarie", "extra"}:
        raise BadInput(f"okänd mötestyp {kind!r}; välj ordinarie eller extra")
    place = check_one_line(place, "mötesplatsen")
    try:
        with app.db.transaction() as session:
            organisation, head, actor = begin_change(session, forbund, actor_email)
            meeting = find_meeting(session, organisation, ref)
            app.actions.require(actor, "call_meeting")
            _check_version(meeting, expected_version)
            protocol = guard_open(session, meeting)
            body = session.get(Organ, meeting.organ_id)
            assert body is not None
            if organ is not None:
                body = ensure_organ(session, organisation, organ, organ_name)
            changes: dict[str, list[str | None]] = {}
            if body.id != meeting.organ_id:
                if (
                    protocol is not None
                    or session.exec(
                        select(AgendaItem.id).where(AgendaItem.meeting_id == meeting.id).limit(1)
                    ).first()
                ):
                    raise NotPermitted(
                        "mötet har redan en dagordning; organet kan inte bytas – "
                        "kalla till ett nytt möte i stället"
                    )
                old = session.get(Organ, meeting.organ_id)
                changes["organ"] = [old.name if old else None, body.name]
                meeting.organ_id = body.id  # type: ignore[assignment]
                for row in session.exec(
                    select(Attendance).where(Attendance.meeting_id == meeting.id)
                ):
                    session.delete(row)
                session.flush()
                _default_attendance(session, meeting, body)
            if as_utc(meeting.starts_at) != starts_at:
                if protocol is not None:
                    raise NotPermitted(
                        "mötets protokoll är påbörjat och dess §§ följer mötets datum; "
                        "tiden kan inte ändras"
                    )
                changes["starts_at"] = [
                    as_utc(meeting.starts_at).isoformat(),
                    starts_at.isoformat(),
                ]
                meeting.starts_at = starts_at
            if (as_utc(meeting.ends_at) if meeting.ends_at else None) != ends_at:
                changes["ends_at"] = [
                    as_utc(meeting.ends_at).isoformat() if meeting.ends_at else None,
                    ends_at.isoformat() if ends_at else None,
                ]
                meeting.ends_at = ends_at
            if meeting.place != place:
                changes["place"] = [meeting.place, place]
                meeting.place = place
            if kind is not None and meeting.kind != kind:
                changes["kind"] = [meeting.kind, kind]
                meeting.kind = kind
            if not changes:
                return meeting_view(session, app, meeting)
            session.add(meeting)
            session.flush()
            refuse_new_paragraphs(session, meeting, "ett möte")
            audit.append(
                session,
                head,
                subject_kind=SUBJECT,
                subject_id=meeting.id,  # type: ignore[arg-type]
                subject_ref=str(meeting.number),
                from_state="planerat",
                to_state="planerat",
                trigger="andra",
                actor=actor,
                at=now,
                data=changes,
            )
            reminders.replan_meeting(session, app, organisation, meeting.id)  # type: ignore[arg-type]
            return meeting_view(session, app, meeting)
    except StaleDataError:
        raise Conflict(f"möte {ref} ändrades samtidigt av någon annan; försök igen") from None
    except IntegrityError:
        raise Conflict(
            f"organet har redan ett möte {local(starts_at, app.settings.zone):%Y-%m-%d %H:%M}"
        ) from None


@dataclass
class KallelseSent:
    """That the kallelse went: when, by whom, to whom, and how each message fared."""

    sent_at: datetime
    by: str
    recipients: list[tuple[str, str]]  # (address, outbox status: pending, sent, failed)
    by_hand: bool = False


def _kallelse_text(view: MeetingView) -> str:
    lines = [
        f"Kallelse till {view.organ.lower()}s sammanträde",
        "",
        f"Tid: {view.starts_at:%Y-%m-%d} kl. {view.starts_at:%H.%M}",
        f"Plats: {view.place}",
        "",
        "Dagordning",
    ]
    for item in view.items:
        line = f"{item.agenda_no}. {item.title}"
        if item.dnr:
            line += f" (dnr {item.dnr})"
        lines.append(line)
        if item.dnr and item.recommendation_label:
            lines.append(f"   Beredningsgruppens rekommendation: {item.recommendation_label}")
        if item.dnr and item.proposal:
            lines.append(f"   Förslag till beslut: {item.proposal}")
    lines += ["", "Förhinder anmäls till sekreteraren, som kallar ersättare."]
    return "\n".join(lines) + "\n"


def send_kallelse(
    app: App,
    *,
    ref: str | int,
    actor_email: str,
    expected_version: int | None = None,
    forbund: str | None = None,
) -> KallelseSent:
    """Send the kallelse with its agenda to everyone called, through the outbox, in one
    transaction with the record that it went (the reminders to send it stop).

    Steps: check the person may and the meeting is open, has an agenda and is not called
    yet; render the paper; queue one message per person called; mark the meeting called and
    audit it with the recipients and their messages.
    """
    from workflow.reminder_rules import Rendered
    from workflow.services.board.papers import render_view
    from workflow.services.reminders import outbox

    now = app.clock()
    with app.db.transaction() as session:
        organisation, head, actor = begin_change(session, forbund, actor_email)
        meeting = find_meeting(session, organisation, ref)
        app.actions.require(actor, "record_kallelse")
        _check_version(meeting, expected_version)
        guard_open(session, meeting)
        if meeting.kallelse_sent_at is not None:
            raise Conflict(f"kallelsen till möte {meeting.number} är redan skickad")
        view = meeting_view(session, app, meeting)
        if not view.items:
            raise BadInput("mötet har ingen dagordning än; ställ upp dagordningen först")
        paper = render_view(app, view, "kallelse")
        called = {a.email: a.name for a in view.attendance if a.email}
        if not called:
            raise BadInput("ingen i organet har en e-postadress; lägg till organets ledamöter")
        subject = f"Kallelse till {view.organ.lower()} {view.starts_at:%Y-%m-%d} i {view.place}"
        rendered = Rendered(subject=subject, text=_kallelse_text(view), html=paper.html)
        messages = [
            outbox.queue(
                session,
                app,
                forbund_id=organisation.id,  # type: ignore[arg-type]
                kind="kallelse",
                to_address=address,
                to_name=name,
                rendered=rendered,
                now=now,
            )
            for address, name in sorted(called.items())
        ]
        touch(session, meeting, None)
        mark_kallelse_sent(session, meeting, now)
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=meeting.id,  # type: ignore[arg-type]
            subject_ref=str(meeting.number),
            from_state="planerat",
            to_state="kallat",
            trigger="kallelse_skickad",
            actor=actor,
            at=now,
            data={
                "recipients": [m.to_address for m in messages],
                "outbox_ids": [m.id for m in messages],
            },
        )
        session.flush()
        reminders.replan_meeting(session, app, organisation, meeting.id)  # type: ignore[arg-type]
        return KallelseSent(
            local(now, app.settings.zone),
            actor.name,
            [(m.to_address, m.status) for m in messages],
        )


def kallelse_sent(app: App, *, ref: str | int, forbund: str | None = None) -> KallelseSent | None:
    """How the meeting's kallelse went (None while it has not): from its audit event and the
    outbox messages that carried it."""
    from workflow.models import AuditEvent, OutboxMessage

    with app.db.reading() as session:
        organisation = resolve_forbund(session, forbund)
        meeting = find_meeting(session, organisation, ref)
        if meeting.kallelse_sent_at is None:
            return None
        event = session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.forbund_id == organisation.id,
                AuditEvent.subject_kind == SUBJECT,
                AuditEvent.subject_id == meeting.id,
                AuditEvent.trigger == "kallelse_skickad",
            )
            .order_by(col(AuditEvent.seq).desc())
        ).first()
        data = dict(event.data or {}) if event is not None else {}
        ids = [int(i) for i in data.get("outbox_ids", [])]
        status = {
            m.id: (m.to_address, m.status)
            for m in session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))
        }
        by = event.actor_email if event is not None else ""
        return KallelseSent(
            local(meeting.kallelse_sent_at, app.settings.zone),
            by or "",
            [status[i] for i in ids if i in status],
            by_hand=not ids,
        )
