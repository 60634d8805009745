"""The board's rules on every path (issue 9): its outcomes only through a meeting's protocol,
nothing before the meeting, § numbers in the order of the meetings, a § whose case has moved
on let go, justerare and beredningsgrupp members acting only where they were chosen."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from tests import support
from tests.meeting_support import (
    CHAIR,
    DEPUTY,
    DIRECTOR,
    MEMBER,
    SECRETARY,
    board_meeting,
    finish_meeting,
    justera,
    meet,
    paragraph_of,
    recommended,
    under_beredning,
    with_agenda_and_protocol,
)
from tests.support import World, email, one_line_error
from workflow.clock import STOCKHOLM
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.models import AuditEvent, BeredningNote, Insats
from workflow.services.board import (
    agenda,
    anslag,
    beredning,
    corrections,
    decisions,
    justering,
    meetings,
    views,
)
from workflow.services.board import protocol as protocols
from workflow.services.board.decisions import DecisionInput
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.organisation.people import add_person
from workflow.vocabulary import Role

finsam = functools.partial(support.finsam, forbund="test")


def _events(world: World, trigger: str) -> list[AuditEvent]:
    with world.app.db.reading() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.trigger == trigger)))


def _put_state(world: World, ref: str, state: str) -> None:
    """What older data or a change behind the board's back leaves: the case in `state`."""
    with world.app.db.transaction() as session:
        session.execute(update(Insats).where(col(Insats.dnr) == ref).values(state=state))


# -- one way through the board --------------------------------------------------------------


def test_a_case_on_the_agenda_is_decided_only_in_its_paragraph_and_the_meeting_can_finish(
    world: World,
) -> None:
    """Defect (issue 9): `cases fire DNR bifall --set decision_paragraph=...` decided a case that
    stood on meeting 9's agenda without any meeting, and the meeting could never be finished;
    `rekommendera` could be fired beside `meetings recommend` the same way."""
    ref = under_beredning(world)
    with pytest.raises(NotPermitted, match="meetings recommend"):
        world.fire(
            ref,
            "rekommendera",
            Role.FORBUNDSCHEF,
            values={"recommendation": "bevilja", "recommendation_motivation": "Bra"},
        )
    beredning.record_recommendation(
        world.app, ref=ref, actor_email=DIRECTOR, outcome="bevilja", motivation="Bra",
        forbund=world.slug,
    )  # fmt: skip
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    for trigger, values in [
        ("bifall", {"decision_paragraph": "§ 12"}),
        ("avslag", {"decision_paragraph": "§ 12"}),
        ("bordlagg", {"decision_paragraph": "§ 12"}),
    ]:
        with pytest.raises(NotPermitted, match="styrelsens protokoll"):
            world.fire(ref, trigger, Role.SEKRETERARE, values=values)
    assert world.show(ref).state == "pa_dagordning"
    # The sekreterare is not offered the board's steps as steps of their own.
    assert (
        world.app.lifecycles["insats"].lifecycle.available("pa_dagordning", {"sekreterare"}) == []
    )
    decisions.record_decision(
        world.app, ref=meeting.number, paragraph=paragraph_of(opened, ref),
        decision=DecisionInput("bifall"), actor_email=SECRETARY, forbund=world.slug,
    )  # fmt: skip
    done = finish_meeting(world, meeting.id)
    assert done.protocol is not None and done.protocol.status == "justerat"
    assert world.show(ref).state == "avtal"


def test_a_paragraph_whose_case_moved_on_is_let_go_with_a_reason_and_the_meeting_finishes(
    world: World,
) -> None:
    """Defect (issue 9): a § whose case had moved on accepted no decision and nothing removed
    it, so its meeting could never be finished. It can now leave the draft ('utgår') with the
    reason, audited; a § whose case still stands there cannot."""
    gone = recommended(world, title="Ärende som gick vidare")
    standing = recommended(world, title="Ärende som står kvar")
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    _put_state(world, gone, "atertagen")
    with pytest.raises(NotPermitted, match="meetings withdraw"):
        decisions.record_decision(
            world.app, ref=meeting.number, paragraph=paragraph_of(opened, gone),
            decision=DecisionInput("bifall"), actor_email=SECRETARY, forbund=world.slug,
        )  # fmt: skip
    with pytest.raises(NotPermitted, match="står kvar på dagordningen"):
        corrections.withdraw_paragraph(
            world.app, ref=meeting.number, paragraph=paragraph_of(opened, standing),
            reason="Fel", actor_email=SECRETARY, forbund=world.slug,
        )  # fmt: skip
    with pytest.raises(BadInput, match="--reason"):
        corrections.withdraw_paragraph(
            world.app, ref=meeting.number, paragraph=paragraph_of(opened, gone), reason=" ",
            actor_email=SECRETARY, forbund=world.slug,
        )  # fmt: skip
    before = world.show(gone)
    let_go = corrections.withdraw_paragraph(
        world.app, ref=meeting.number, paragraph=paragraph_of(opened, gone),
        reason="Sökanden har tagit tillbaka ansökan", actor_email=SECRETARY, forbund=world.slug,
    )  # fmt: skip
    item = next(i for i in let_go.items if i.dnr == gone)
    assert (item.decision, item.decision_label, item.motivation) == (
        "utgar",
        "Utgår",
        "Sökanden har tagit tillbaka ansökan",
    )
    assert world.show(gone) == before  # the case is left as it is
    [event] = _events(world, "utga")
    assert (event.actor_email, event.comment) == (SECRETARY, "Sökanden har tagit tillbaka ansökan")
    done = finish_meeting(world, meeting.id)
    assert done.protocol is not None and done.protocol.status == "justerat"
    assert world.show(standing).state == "avtal"


def test_withdraw_through_the_cli(
    world: World, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = recommended(world)
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    _put_state(world, gone, "atertagen")
    number = str(paragraph_of(opened, gone))
    code, _, err = finsam(
        capsys, db_url, "meetings", "withdraw", str(meeting.id), number, "--as", SECRETARY
    )
    assert code == 2 and "--reason" in err
    code, out, err = finsam(
        capsys, db_url, "meetings", "withdraw", str(meeting.id), number,
        "--reason", "Ansökan återtagen", "--as", SECRETARY,
    )  # fmt: skip
    assert code == 0, err
    assert f"§ {number}: ärendet utgår." in out and "Utgår" in out


# -- nothing before the meeting; § numbers in the order of the meetings ---------------------


def test_nothing_is_decided_sent_justerat_or_posted_before_the_meeting_has_begun(
    world: World,
) -> None:
    """Defect (issue 9): a protocol was decided, justerat and anslaget on 2026-12-01 for a
    meeting on 2026-12-08. Each of those steps now waits for the meeting (by the clock)."""
    ref = recommended(world)
    world.clock.set(date(2026, 12, 1))
    meeting = board_meeting(world, "2026-12-08 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)  # the draft may be prepared
    before = datetime(2026, 12, 8, 12, 59, tzinfo=STOCKHOLM)
    during = datetime(2026, 12, 8, 14, 0, tzinfo=STOCKHOLM)
    args = {"ref": meeting.id, "actor_email": SECRETARY, "forbund": world.slug}

    def refused(step: object, **kw: object) -> None:
        world.clock.set(before)
        with pytest.raises(NotPermitted, match="har inte ägt rum än"):
            step(world.app, **{**args, **kw})  # type: ignore[operator]
        world.clock.set(during)

    refused(decisions.follow_recommendations)
    refused(
        decisions.record_decision,
        paragraph=paragraph_of(opened, ref),
        decision=DecisionInput("bifall"),
    )
    decisions.follow_recommendations(world.app, **args)
    refused(justering.send_for_justering)
    justering.send_for_justering(world.app, **args)
    refused(justering.approve, actor_email=CHAIR)
    justering.approve(world.app, ref=meeting.number, actor_email=CHAIR, forbund=world.slug)
    justering.approve(world.app, ref=meeting.number, actor_email=MEMBER, forbund=world.slug)
    refused(anslag.post_anslag)
    posted = anslag.post_anslag(world.app, **args)
    assert posted.protocol is not None and posted.protocol.posted_on == date(2026, 12, 8)
    assert world.show(ref).state == "avtal"


def test_paragraph_numbers_follow_the_meetings_dates_whichever_protocol_is_opened_first(
    world: World,
) -> None:
    """Defect (issue 9): a meeting dated 2026-12-01 got §§ 10–17 after the 12-08 meeting had
    §§ 1–9, because numbers followed the order protocols were opened in."""
    late = recommended(world, title="Ärende i december")
    world.clock.set(date(2026, 11, 20))
    december_8 = board_meeting(world, "2026-12-08 13:00")
    opened = with_agenda_and_protocol(world, december_8.id)
    assert [i.paragraph for i in opened.items] == list(range(1, 9))
    meet(world, december_8)
    decisions.record_decision(
        world.app, ref=december_8.id, paragraph=paragraph_of(opened, late),
        decision=DecisionInput("bifall"), actor_email=SECRETARY, forbund=world.slug,
    )  # fmt: skip
    assert world.show(late).decision_paragraph == f"§ {paragraph_of(opened, late)}/2026"
    # A meeting held a week earlier gets its protocol afterwards: its §§ come first.
    december_1 = board_meeting(world, "2026-12-01 13:00")
    earlier = with_agenda_and_protocol(world, december_1.id)
    assert [i.paragraph for i in earlier.items] == list(range(1, 8))
    renumbered = views.get_meeting(world.app, ref=december_8.id, forbund=world.slug)
    assert [i.paragraph for i in renumbered.items] == list(range(8, 16))
    # The decided case names its § as it is now; the renumbering is in the audit trail.
    assert world.show(late).decision_paragraph == f"§ {paragraph_of(renumbered, late)}/2026"
    moves = _events(world, "omnumrera")
    assert len(moves) == 8 and {(e.data["from"], e.data["to"]) for e in moves} == {
        (n, n + 7) for n in range(1, 9)
    }
    # Sent for justering, the 8 December numbers are fixed: nothing may come before them.
    decisions.follow_recommendations(
        world.app, ref=december_1.id, actor_email=SECRETARY, forbund=world.slug
    )
    decisions.follow_recommendations(
        world.app, ref=december_8.id, actor_email=SECRETARY, forbund=world.slug
    )
    justering.send_for_justering(
        world.app, ref=december_8.id, actor_email=SECRETARY, forbund=world.slug
    )
    with pytest.raises(NotPermitted, match="ligger fast"):
        board_meeting(world, "2026-12-05 13:00")
    # The 1 December protocol keeps its §§ and can still be finished.
    assert [i.paragraph for i in justera(world, december_1.id).items] == list(range(1, 8))
    assert [i.paragraph for i in justera_rest(world, december_8.id).items] == list(range(8, 16))


def test_a_protocol_is_sent_only_when_every_earlier_meeting_with_an_agenda_has_its_own(
    world: World,
) -> None:
    recommended(world)
    first = board_meeting(world, "2026-04-17 13:00")
    agenda.build_agenda(world.app, ref=first.number, actor_email=DIRECTOR, forbund=world.slug)
    second = board_meeting(world, "2026-05-20 13:00")
    agenda.build_agenda(world.app, ref=second.number, actor_email=DIRECTOR, forbund=world.slug)
    protocols.open_protocol(
        world.app, ref=second.number, actor_email=SECRETARY, justerare=[MEMBER], forbund=world.slug
    )
    meet(world, second)
    decisions.follow_recommendations(
        world.app, ref=second.number, actor_email=SECRETARY, forbund=world.slug
    )
    with pytest.raises(NotPermitted, match=f"meetings protocol {first.id}"):
        justering.send_for_justering(
            world.app, ref=second.number, actor_email=SECRETARY, forbund=world.slug
        )
    opened = protocols.open_protocol(
        world.app, ref=first.number, actor_email=SECRETARY, justerare=[MEMBER], forbund=world.slug
    )
    assert opened.items[0].paragraph == 1
    assert justera(world, second.id).items[0].paragraph == len(opened.items) + 1


# -- rights per case, per förbund -----------------------------------------------------------


def test_a_board_member_chosen_for_no_protocol_cannot_justera_a_bifall(world: World) -> None:
    """Defect (issue 9): any board member could fire `justera` on a bifall; the justerare
    sign only the protocols they were chosen for, and the last signature gives effect."""
    ref = recommended(world)
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)  # justerare: the ledamot
    meet(world, meeting)
    decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    justering.send_for_justering(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    with pytest.raises(NotPermitted, match="varken ordförande eller justerare"):
        justering.approve(world.app, ref=meeting.number, actor_email=DEPUTY, forbund=world.slug)
    with pytest.raises(NotPermitted, match="styrelsens protokoll"):
        world.fire(ref, "justera", Role.STYRELSE_ERSATTARE)
    # Older data: a bifall with no § at all, waiting for justering. Nobody justerar it by hand.
    other = recommended(world, title="Utan paragraf")
    _put_state(world, other, "vantar_justering")
    for role in (Role.STYRELSE_ERSATTARE, Role.STYRELSE_ORDFORANDE, Role.SEKRETERARE):
        with pytest.raises(NotPermitted):
            world.fire(other, "justera", role)
    assert world.show(other).state == "vantar_justering"
    done = justera_rest(world, meeting.id)
    assert world.show(ref).state == "avtal" and paragraph_of(done, ref) == paragraph_of(opened, ref)


def justera_rest(world: World, meeting: int) -> views.MeetingView:
    justering.approve(world.app, ref=meeting, actor_email=CHAIR, forbund=world.slug)
    return justering.approve(world.app, ref=meeting, actor_email=MEMBER, forbund=world.slug)


def test_a_beredningsgrupp_member_acts_in_their_own_forbunds_beredning(world: World) -> None:
    """Defect (issue 9): anyone with the role beredningsgrupp could write in any beredning and
    name any meeting, and the note was not audited. A note is written by a member of the
    förbund's beredningsgrupp, names one of the group's meetings, and is an audit event."""
    ref = under_beredning(world)
    member = email(Role.BEREDNINGSGRUPP)
    group = meetings.create_meeting(
        world.app, actor_email=DIRECTOR, starts="2026-03-10 09:00", place="Kungälv",
        organ="beredningsgrupp", forbund=world.slug,
    )  # fmt: skip
    note = beredning.add_note(
        world.app, ref=ref, actor_email=member, text="Parterna är överens",
        meeting=str(group.number), forbund=world.slug,
    )  # fmt: skip
    assert note.author == "Test beredningsgrupp"
    [event] = _events(world, "anteckna")
    assert (event.actor_email, event.subject_ref) == (member, ref)
    # A meeting of the board is not the group's.
    board = board_meeting(world, "2026-04-17 13:00")
    with pytest.raises(BadInput, match="inte beredningsgruppens"):
        beredning.add_note(
            world.app, ref=ref, actor_email=member, text="Fel möte", meeting=str(board.number),
            forbund=world.slug,
        )  # fmt: skip
    # Someone given the role later, but not a member of the group, does not write in it.
    with world.app.db.transaction() as session:
        add_person(
            session, resolve_forbund(session, world.slug), name="Ny handläggare",
            email="ny@test.example", roles=["beredningsgrupp"],
        )  # fmt: skip
    with pytest.raises(NotPermitted, match="inte med i Beredningsgruppen"):
        beredning.add_note(
            world.app, ref=ref, actor_email="ny@test.example", text="Hej", forbund=world.slug
        )
    # A member of another förbund's group is not found here.
    other = support.build_world(world.app, world.clock, slug="annat")
    with pytest.raises(NotFound):
        beredning.add_note(
            world.app, ref=ref, actor_email=email(Role.BEREDNINGSGRUPP, other.slug),
            text="Hej", forbund=world.slug,
        )  # fmt: skip
    with world.app.db.reading() as session:
        assert len(session.exec(select(BeredningNote)).all()) == 1


def test_the_cli_refuses_the_boards_steps_as_steps_of_their_own(
    world: World, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = recommended(world)
    meeting = board_meeting(world, "2026-04-17 13:00")
    with_agenda_and_protocol(world, meeting.id)
    code, _, err = finsam(
        capsys, db_url, "cases", "fire", ref, "bifall", "--as", SECRETARY,
        "--set", "decision_paragraph=§ 12",
    )  # fmt: skip
    assert code == 4 and "finsam meetings decide" in one_line_error(err)
    assert world.show(ref).state == "pa_dagordning"
    world.clock.set(world.clock.now + timedelta(days=1))
