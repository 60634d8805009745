"""Anslag: the justerat protocol goes up on the anslagstavla for the appeal window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models import Forbund, Meeting, Organ, Protocol
from workflow.models.meetings import ProtocolStatus
from workflow.services.board.papers import Paper, render_view
from workflow.services.board.protocol import require_held, scope, set_status
from workflow.services.board.records import protocol_of
from workflow.services.board.views import MeetingView, meeting_view


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
    with scope(app, ref, actor_email, forbund) as s:
        app.actions.require(s.actor, "post_anslag")
        require_held(s, "protokollet anslås")
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
        set_status(
            s,
            protocol,
            ProtocolStatus.ANSLAGET,
            "anslag",
            {"posted_on": day.isoformat(), "taken_down_on": protocol.taken_down_on.isoformat()},
        )
        return meeting_view(s.session, app, s.meeting)


# -- the public anslagstavla ------------------------------------------------------------------


@dataclass
class Notice:
    """One justerat protocol as the public sees it: its ANSLAG/BEVIS, nothing more."""

    number: int
    organ: str
    meeting_day: date
    place: str
    justerat_on: date | None
    posted_on: date
    taken_down_on: date
    storage_place: str


@dataclass
class Board:
    """The förbund's anslagstavla: what is posted now, and the public archive after it."""

    forbund: str
    forbund_name: str
    today: date
    posted: list[Notice]
    archive: list[Notice]


def _public_forbund(session: Session, slug: str) -> Forbund:
    forbund = session.exec(select(Forbund).where(Forbund.slug == slug)).first()
    if forbund is None:
        raise NotFound(f"ingen anslagstavla {slug[:60]!r}")
    return forbund


def _notices(session: Session, app: App, forbund: Forbund) -> list[tuple[Notice, Meeting]]:
    """Every protocol of the förbund that has been posted (only those are public here)."""
    zone = app.settings.zone
    rows = session.exec(
        select(Protocol, Meeting, Organ)
        .join(Meeting, col(Meeting.id) == col(Protocol.meeting_id))
        .join(Organ, col(Organ.id) == col(Meeting.organ_id))
        .where(
            Protocol.forbund_id == forbund.id,
            Protocol.status == ProtocolStatus.ANSLAGET.value,
            col(Protocol.posted_on).is_not(None),
        )
        .order_by(col(Meeting.starts_at).desc())
    ).all()
    found = []
    for protocol, meeting, organ in rows:
        assert protocol.posted_on is not None and protocol.taken_down_on is not None
        found.append(
            (
                Notice(
                    number=meeting.number or meeting.id,  # type: ignore[arg-type]
                    organ=organ.name,
                    meeting_day=local_date(meeting.starts_at, zone),
                    place=meeting.place,
                    justerat_on=local_date(protocol.justerat_at, zone)
                    if protocol.justerat_at
                    else None,
                    posted_on=protocol.posted_on,
                    taken_down_on=protocol.taken_down_on,
                    storage_place=protocol.storage_place or app.settings.meetings.storage_place,
                ),
                meeting,
            )
        )
    return found


def public_board(app: App, *, forbund: str) -> Board:
    """The anslagstavla of a förbund, for anyone: protocols posted and not yet taken down
    (the appeal window of the förbund's settings), then the archive of earlier ones."""
    with app.db.reading() as session:
        organisation = _public_forbund(session, forbund)
        today = local_date(app.clock(), app.settings.zone)
        notices = [n for n, _ in _notices(session, app, organisation)]
        return Board(
            forbund=organisation.slug,
            forbund_name=organisation.name,
            today=today,
            posted=[n for n in notices if n.taken_down_on >= today],
            archive=[n for n in notices if n.taken_down_on < today],
        )


def public_protocol(app: App, *, forbund: str, number: int) -> tuple[Notice, Paper]:
    """A posted protocol as a paper, for anyone; any other meeting (a draft, a protocol not
    yet posted, another förbund's) is not found."""
    with app.db.reading() as session:
        organisation = _public_forbund(session, forbund)
        for notice, meeting in _notices(session, app, organisation):
            if notice.number == number:
                view = meeting_view(session, app, meeting)
                return notice, render_view(app, view, "protokoll")
    raise NotFound(f"inget anslaget protokoll nr {number} hos {forbund}")
