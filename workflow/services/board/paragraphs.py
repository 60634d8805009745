"""§ numbers: continuous through the calendar year for each organ, in the order of the meetings'
dates (within a meeting, in agenda order), restarting on 1 January.

The year is the meeting's year in local time (a meeting at 00:30 on 1 January belongs to the new
year). While a protocol is an utkast its numbers are provisional: whenever §§ are added (a
protocol opened, an item added to an opened one) the organ's draft §§ of that year after the
last protocol sent for justering are numbered again in meeting order, so a meeting held on
1 December has lower numbers than one held on 8 December whichever protocol was opened first.
A protocol sent for justering keeps its numbers for good: from then on no meeting dated before
it may get new §§, and it may be sent only when every earlier meeting with an agenda has its
protocol opened. A renumbered § is audited, and the cases and slutrapporter that name it follow. A förbund
that starts using the system during a year continues the numbering of its paper protocols
(`reserve`).
(organ, year, number) is unique in the database, and every change of a förbund's board takes
its audit chain's lock first, so two protocols can never share a number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from workflow.clock import local
from workflow.errors import NotPermitted
from workflow.models import (
    AgendaItem,
    Insats,
    Meeting,
    Paragraph,
    ParagraphSequence,
    Protocol,
    Report,
)
from workflow.models.meetings import ProtocolStatus
from workflow.services.cases import audit
from workflow.services.cases.audit import ChainHead
from workflow.services.organisation.people import Actor

SUBJECT = "paragraf"
# A number no § keeps: rows being renumbered wait here so that no two share one on the way.
_PARKED = -(10**9)


def paragraph_ref(paragraph: Paragraph) -> str:
    """How a case names the § that decided it: '§ 12/2013'."""
    return f"§ {paragraph.number}/{paragraph.year}"


def _year_of(meeting: Meeting) -> int:
    return local(meeting.starts_at).year


def _meetings_of_year(session: Session, meeting: Meeting) -> list[tuple[Meeting, str | None]]:
    """The organ's meetings in the meeting's year with their protocol's status, by date."""
    year = _year_of(meeting)
    rows = session.exec(
        select(Meeting, Protocol.status)
        .join(Protocol, col(Protocol.meeting_id) == col(Meeting.id), isouter=True)
        .where(Meeting.organ_id == meeting.organ_id)
        .order_by(col(Meeting.starts_at), col(Meeting.id))
    ).all()
    return [(m, status) for m, status in rows if _year_of(m) == year]


def fixed_until(session: Session, meeting: Meeting) -> Meeting | None:
    """The organ's latest meeting of the year whose protocol is sent for justering or later:
    its numbers, and those of every meeting before it, are fixed."""
    sent = [m for m, status in _meetings_of_year(session, meeting) if is_fixed(status)]
    return sent[-1] if sent else None


def refuse_new_paragraphs(session: Session, meeting: Meeting, what: str) -> None:
    """Refuse `what` (new §§, or agenda items that would get them) at a meeting dated before a
    protocol of its organ and year that is already sent for justering."""
    fixed = fixed_until(session, meeting)
    if fixed is None or fixed.id == meeting.id or meeting.starts_at > fixed.starts_at:
        return
    raise NotPermitted(
        f"protokollet från {local(fixed.starts_at):%Y-%m-%d} är redan skickat för justering och "
        f"dess §§ ligger fast; {what} den {local(meeting.starts_at):%Y-%m-%d} skulle få §§ utanför "
        "mötenas datumordning – ta upp ärendet vid ett senare möte"
    )


def unopened_before(session: Session, meeting: Meeting) -> Meeting | None:
    """An earlier meeting of the organ that year with an agenda but no protocol: once this
    meeting's numbers are fixed, it could never get §§ in date order."""
    for other, status in _meetings_of_year(session, meeting):
        if other.starts_at >= meeting.starts_at:
            return None
        if (
            status is None
            and session.exec(
                select(AgendaItem.id).where(AgendaItem.meeting_id == other.id).limit(1)
            ).first()
        ):
            return other
    return None


def add_paragraph(
    session: Session, protocol: Protocol, meeting: Meeting, item: AgendaItem
) -> Paragraph:
    """A § for one agenda item, with a provisional number until `renumber` runs."""
    paragraph = Paragraph(
        protocol_id=protocol.id,  # type: ignore[arg-type]
        meeting_id=meeting.id,  # type: ignore[arg-type]
        agenda_item_id=item.id,  # type: ignore[arg-type]
        organ_id=meeting.organ_id,
        year=_year_of(meeting),
        number=-int(item.id),  # type: ignore[arg-type]
        title=item.title,
        insats_id=item.insats_id,
    )
    session.add(paragraph)
    session.flush()
    return paragraph


def renumber(
    session: Session, meeting: Meeting, *, head: ChainHead, actor: Actor, now: datetime
) -> None:
    """Number the organ's draft §§ of the meeting's year after its last fixed protocol, in
    meeting order and agenda order (steps in the module doc).

    1. Find the fixed line (the latest protocol sent for justering) and the highest number
       at or before it; every draft § after it is numbered from there on.
    2. Park the §§ whose number changes outside the range, then give each its number.
    3. Audit each § that had a number before, and let the case and the slutrapport that name
       it follow.
    """
    year = _year_of(meeting)
    meetings = _meetings_of_year(session, meeting)
    fixed = fixed_until(session, meeting)
    line = fixed.starts_at if fixed is not None else None
    fixed_ids = [m.id for m, _ in meetings if line is not None and m.starts_at <= line]
    order = {m.id: index for index, (m, _) in enumerate(meetings)}
    draft_ids = [m.id for m, _ in meetings if m.id not in set(fixed_ids)]
    reserved = session.get(ParagraphSequence, (meeting.organ_id, year))
    highest = (
        session.exec(
            select(func.max(Paragraph.number)).where(col(Paragraph.meeting_id).in_(fixed_ids))
        ).one()
        if fixed_ids
        else None
    )
    base = highest if highest is not None else (reserved.last if reserved else 0)
    rows = session.exec(
        select(Paragraph, AgendaItem.section, AgendaItem.position)
        .join(AgendaItem, col(AgendaItem.id) == col(Paragraph.agenda_item_id))
        .where(col(Paragraph.meeting_id).in_(draft_ids))
    ).all()
    draft = sorted(rows, key=lambda row: (order[row[0].meeting_id], row[1], row[2], row[0].id))
    wanted = {p.id: base + index for index, (p, _, _) in enumerate(draft, start=1)}
    moving = [p for p, _, _ in draft if p.number != wanted[p.id]]
    if not moving:
        return
    connection = session.connection()
    table = Paragraph.__table__  # type: ignore[attr-defined]
    for paragraph in moving:
        connection.execute(
            update(table)
            .where(table.c.id == paragraph.id)
            .values(number=_PARKED - (paragraph.id or 0))
        )
    for paragraph in moving:
        before = paragraph.number
        old_ref = paragraph_ref(paragraph)
        new_version = paragraph.version + (1 if before > 0 else 0)
        connection.execute(
            update(table)
            .where(table.c.id == paragraph.id)
            .values(number=wanted[paragraph.id], version=new_version)
        )
        # What was written is now the row's committed state, not a change for the ORM to flush.
        session.expire(paragraph, ["number", "version"])
        if before <= 0:
            continue  # a new § gets its first number; its creation is the record
        new_ref = paragraph_ref(paragraph)
        _follow(session, paragraph, old_ref, new_ref)
        audit.append(
            session,
            head,
            subject_kind=SUBJECT,
            subject_id=paragraph.id,  # type: ignore[arg-type]
            subject_ref=new_ref,
            from_state=paragraph.decision,
            to_state=paragraph.decision or "oppen",
            trigger="omnumrera",
            actor=actor,
            at=now,
            data={"from": before, "to": paragraph.number},
        )


def _follow(session: Session, paragraph: Paragraph, old_ref: str, new_ref: str) -> None:
    """The case's 'Beslut §' and the slutrapport's § mirror the § row: they follow its number."""
    if paragraph.insats_id is None:
        return
    # The case's mirror is written without a new version: the case itself did not change.
    cases = Insats.__table__  # type: ignore[attr-defined]
    written = session.connection().execute(
        update(cases)
        .where(cases.c.id == paragraph.insats_id, cases.c.decision_paragraph == old_ref)
        .values(decision_paragraph=new_ref)
    )
    if written.rowcount:
        case = session.get(Insats, paragraph.insats_id)
        if case is not None:
            session.expire(case, ["decision_paragraph"])
    for report in session.exec(
        select(Report).where(
            Report.insats_id == paragraph.insats_id, Report.noted_paragraph == old_ref
        )
    ):
        report.noted_paragraph = new_ref
        session.add(report)


def reserve(session: Session, organ_id: int, year: int, last: int) -> None:
    """Continue a year's numbering after `last` (§§ used before the förbund used this system)."""
    row = session.get(ParagraphSequence, (organ_id, year))
    if row is None:
        session.add(ParagraphSequence(organ_id=organ_id, year=year, last=last))
    else:
        row.last = max(row.last, last)
    session.flush()


def is_fixed(status: str | None) -> bool:
    """Has a protocol in this status fixed its numbers (sent for justering or later)?"""
    return status is not None and status != ProtocolStatus.UTKAST
