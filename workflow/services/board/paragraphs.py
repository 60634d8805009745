"""§ numbers: continuous through the calendar year for each organ, restarting on 1 January.

The year is the meeting's year in local time (a meeting at 00:30 on 1 January belongs to the new
year). The counter row is incremented atomically, and (organ, year, number) is unique in the
database, so two protocols opened at once can never share a number.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from workflow.clock import local
from workflow.models import AgendaItem, Meeting, Paragraph, ParagraphSequence, Protocol


def next_number(session: Session, organ_id: int, year: int) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(ParagraphSequence)
        .values(organ_id=organ_id, year=year, last=0)
        .on_conflict_do_nothing()
    )
    return session.execute(
        update(ParagraphSequence)
        .where(ParagraphSequence.organ_id == organ_id, ParagraphSequence.year == year)  # type: ignore[arg-type]
        .values(last=ParagraphSequence.last + 1)
        .returning(col(ParagraphSequence.last))
    ).scalar_one()


def reserve(session: Session, organ_id: int, year: int, last: int) -> None:
    """Continue a year's numbering after `last` (§§ used before the förbund used this system)."""
    row = session.get(ParagraphSequence, (organ_id, year))
    if row is None:
        session.add(ParagraphSequence(organ_id=organ_id, year=year, last=last))
    else:
        row.last = max(row.last, last)
    session.flush()


def open_paragraph(
    session: Session, protocol: Protocol, meeting: Meeting, item: AgendaItem
) -> Paragraph:
    year = local(meeting.starts_at).year
    paragraph = Paragraph(
        protocol_id=protocol.id,  # type: ignore[arg-type]
        meeting_id=meeting.id,  # type: ignore[arg-type]
        agenda_item_id=item.id,  # type: ignore[arg-type]
        organ_id=meeting.organ_id,
        year=year,
        number=next_number(session, meeting.organ_id, year),
        title=item.title,
        insats_id=item.insats_id,
    )
    session.add(paragraph)
    session.flush()
    return paragraph


def paragraph_ref(paragraph: Paragraph) -> str:
    """How a case names the § that decided it: '§ 12/2013'."""
    return f"§ {paragraph.number}/{paragraph.year}"
