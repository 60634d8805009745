"""Anslag: the justerat protocol goes up on the anslagstavla for the appeal window."""

from __future__ import annotations

from datetime import date, timedelta

from workflow.app import App
from workflow.clock import local_date
from workflow.errors import BadInput, NotPermitted
from workflow.models.meetings import ProtocolStatus
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
