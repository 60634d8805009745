"""The rules the protocol pages added to services/board: 'follow every recommendation' that
skips what cannot follow and says why, the budget frame shown before a bifall is recorded,
signing exactly the text one read, and the applicant's utdrag through the outbox."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from tests.funding_world import frame
from tests.meeting_support import (
    CHAIR,
    MEMBER,
    SECRETARY,
    board_meeting,
    meet,
    paragraph_of,
    recommended,
    with_agenda_and_protocol,
)
from tests.support import World, email
from workflow.errors import Conflict
from workflow.models import OutboxMessage
from workflow.services.board import anslag, decisions, justering, papers, views
from workflow.vocabulary import Role

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_follow_all_skips_a_bifall_beyond_the_frame_names_it_and_decides_the_rest(
    world: World,
) -> None:
    small = recommended(world, title="Liten insats")  # 500 + 400 tkr asked
    year = world.clock.now.year + 1
    frame(world, year, 1000, adopted=date(2026, 1, 15), admin=700)  # 300 tkr of room
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    number = paragraph_of(opened, small)
    warnings = decisions.frame_warnings(world.app, ref=meeting.number, forbund=world.slug)
    assert list(warnings) == [number] and "överskrider ramen" in warnings[number]

    result = decisions.follow_all(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    assert [s.paragraph for s in result.skipped] == [number]
    assert "budgetramen" in result.skipped[0].reason
    assert number not in result.decided and result.decided  # the standard items are decided
    assert world.show(small).state == "pa_dagordning"
    left = [i.paragraph for i in result.view.items if i.paragraph and not i.decision]
    assert left == [number]


def test_a_signer_signs_only_the_text_they_read_and_the_utdrag_goes_to_the_applicant(
    world: World,
) -> None:
    ref = recommended(world)
    meeting = board_meeting(world, "2026-04-17 13:00")
    with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug, over_frame=True
    )
    justering.send_for_justering(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    view = views.get_meeting(world.app, ref=meeting.number, forbund=world.slug)
    read = papers.digest(world.app, view)
    with pytest.raises(Conflict):
        justering.approve(
            world.app, ref=meeting.number, actor_email=CHAIR, forbund=world.slug,
            expected_digest="0" * 32,
        )  # fmt: skip
    assert view.protocol is not None
    with pytest.raises(Conflict):
        justering.approve(
            world.app, ref=meeting.number, actor_email=CHAIR, forbund=world.slug,
            expected_version=view.protocol.version + 1,
        )  # fmt: skip
    justering.approve(
        world.app, ref=meeting.number, actor_email=CHAIR, forbund=world.slug, expected_digest=read,
        expected_version=view.protocol.version,
    )  # fmt: skip
    # The text read before another's signature is still the text signed after it.
    done = justering.approve(
        world.app, ref=meeting.number, actor_email=MEMBER, forbund=world.slug, expected_digest=read
    )
    assert done.protocol is not None and done.protocol.status == "justerat"
    with world.app.db.reading() as session:
        sent = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "protokollsutdrag")
        ).all()
    owner = email(Role.PROJEKTAGARE, world.slug)
    assert [m.to_address for m in sent] == [owner]
    assert "att bevilja" in sent[0].text_body and world.show(ref).dnr in sent[0].text_body

    # Not public before it is posted; then on the anslagstavla with its dates.
    board = anslag.public_board(world.app, forbund=world.slug)
    assert board.posted == [] and board.archive == []
    anslag.post_anslag(world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug)
    board = anslag.public_board(world.app, forbund=world.slug)
    assert [n.number for n in board.posted] == [meeting.number]
    notice = board.posted[0]
    assert (
        notice.taken_down_on - notice.posted_on
    ).days == 7 * world.app.settings.meetings.appeal_weeks
    world.clock.set(world.clock.now.replace(year=world.clock.now.year + 1))
    later = anslag.public_board(world.app, forbund=world.slug)
    assert later.posted == [] and [n.number for n in later.archive] == [meeting.number]
