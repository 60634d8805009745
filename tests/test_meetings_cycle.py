"""From the beredningsgrupp's recommendation to a justerat, anslaget protocol, on both databases."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.funding_world import frame
from tests.meeting_support import (
    CHAIR,
    DIRECTOR,
    MEMBER,
    SECRETARY,
    board_meeting,
    justera,
    meet,
    paragraph_of,
    recommended,
    under_beredning,
    with_agenda_and_protocol,
)
from tests.support import World
from workflow.clock import STOCKHOLM
from workflow.errors import BadInput, Conflict, NotPermitted
from workflow.services import cases
from workflow.services.board import (
    agenda,
    anslag,
    beredning,
    corrections,
    decisions,
    justering,
    meetings,
    protocol,
    views,
)
from workflow.services.board.decisions import DecisionInput
from workflow.services.funding import budget
from workflow.services.organisation.forbund import resolve_forbund
from workflow.vocabulary import Role


def test_one_meeting_takes_cases_from_recommendation_to_a_justerat_anslaget_protocol(
    world: World,
) -> None:
    granted = recommended(world, "bevilja")
    conditional = recommended(world, "bevilja_med_villkor", title="Arbetsträning i föreningar")
    refused = recommended(world, "avsla", title="Sommarjobb")
    assert {world.show(r).state for r in (granted, conditional, refused)} == {"rekommenderad"}

    world.clock.set(date(2026, 4, 10))
    meeting = board_meeting(world, "2026-04-17 13:00", "Ale")
    built = agenda.build_agenda(
        world.app, ref=meeting.number, actor_email=DIRECTOR, forbund=world.slug
    )
    titles = [i.title for i in built.items]
    assert titles[:4] == [
        "Mötets öppnande",
        "Godkännande av dagordningen",
        "Val av justerare",
        "Föregående protokoll",
    ]
    assert titles[-3:] == ["Delegationsbeslut att anmäla", "Meddelanden", "Mötets avslutande"]
    case_items = {i.dnr: i for i in built.items if i.dnr}
    assert set(case_items) == {granted, conditional, refused}
    assert case_items[refused].recommendation == "avsla"
    assert case_items[refused].proposal.startswith("Styrelsen beslutar att avslå ansökan")  # type: ignore[union-attr]
    assert "på villkor att insatsen redovisar resultat per kön" in case_items[conditional].proposal  # type: ignore[operator]
    assert {world.show(r).state for r in case_items} == {"pa_dagordning"}

    world.clock.set(datetime(2026, 4, 17, 14, 0, tzinfo=STOCKHOLM))
    opened = protocol.open_protocol(
        world.app, ref=meeting.number, actor_email=SECRETARY, justerare=[MEMBER], forbund=world.slug
    )
    assert [i.paragraph for i in opened.items] == list(range(1, len(opened.items) + 1))
    followed = decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    decided = {i.dnr: i.decision for i in followed.items if i.dnr}
    assert decided == {granted: "bifall", conditional: "bifall", refused: "avslag"}
    conditional_item = next(i for i in followed.items if i.dnr == conditional)
    assert conditional_item.conditions == "att insatsen redovisar resultat per kön"
    assert conditional_item.granted == world.show(conditional).budget_requested
    assert world.show(granted).state == "vantar_justering"
    assert world.show(refused).state == "avslutad_avslag"
    assert world.show(granted).decision_paragraph == f"§ {paragraph_of(followed, granted)}/2026"

    justering.send_for_justering(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    world.clock.set(date(2026, 4, 20))
    half = justering.approve(world.app, ref=meeting.number, actor_email=CHAIR, forbund=world.slug)
    assert half.protocol.status == "for_justering"  # type: ignore[union-attr]
    assert world.show(granted).state == "vantar_justering"
    world.clock.set(date(2026, 4, 22))
    done = justering.approve(world.app, ref=meeting.number, actor_email=MEMBER, forbund=world.slug)
    assert done.protocol.status == "justerat"  # type: ignore[union-attr]
    assert {s.role: s.signed_at.date() for s in done.protocol.signers} == {  # type: ignore[union-attr]
        "ordforande": date(2026, 4, 20),
        "justerare": date(2026, 4, 22),
    }
    assert world.show(granted).state == "avtal"
    assert world.show(conditional).state == "avtal"
    assert world.show(refused).state == "avslutad_avslag"

    posted = anslag.post_anslag(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    assert posted.protocol.status == "anslaget"  # type: ignore[union-attr]
    assert posted.protocol.posted_on == date(2026, 4, 22)  # type: ignore[union-attr]
    assert posted.protocol.taken_down_on == date(2026, 4, 22) + timedelta(weeks=3)  # type: ignore[union-attr]


def test_a_bifall_has_no_effect_on_the_case_before_the_protocol_is_justerat(world: World) -> None:
    ref = recommended(world)
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    decisions.record_decision(
        world.app,
        ref=meeting.number,
        paragraph=paragraph_of(opened, ref),
        decision=DecisionInput("bifall"),
        actor_email=SECRETARY,
        forbund=world.slug,
    )
    assert world.show(ref).state == "vantar_justering"
    # Nobody can give the bifall effect by hand: the protocol's justering does.
    with pytest.raises(NotPermitted, match="styrelsens protokoll"):
        world.fire(ref, "justera", Role.STYRELSE_ORDFORANDE)
    decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    justering.send_for_justering(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    justering.approve(world.app, ref=meeting.number, actor_email=CHAIR, forbund=world.slug)
    assert world.show(ref).state == "vantar_justering"
    justering.approve(world.app, ref=meeting.number, actor_email=MEMBER, forbund=world.slug)
    history = world.show(ref).history
    assert (history[-1].trigger, history[-1].actor, history[-1].to_state) == (
        "justera",
        MEMBER,
        "avtal",
    )


def test_partial_bifall_grants_less_than_was_asked_for(world: World) -> None:
    ref = recommended(world)
    year = world.clock.now.year + 1
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    number = paragraph_of(opened, ref)
    with pytest.raises(BadInput, match="större än det sökta"):
        decisions.record_decision(
            world.app,
            ref=meeting.number,
            paragraph=number,
            actor_email=SECRETARY,
            forbund=world.slug,
            decision=DecisionInput("delvis_bifall", granted={str(year): 900}),
        )
    decided = decisions.record_decision(
        world.app,
        ref=meeting.number,
        paragraph=number,
        actor_email=SECRETARY,
        forbund=world.slug,
        decision=DecisionInput(
            "delvis_bifall",
            granted={str(year): 300, str(year + 1): 200},
            reservations=[f"{CHAIR}:för lågt belopp"],
        ),
    )
    item = next(i for i in decided.items if i.dnr == ref)
    assert item.granted == {str(year): 300, str(year + 1): 200}
    assert item.att_satser == [
        f"att bevilja {world.show(ref).title} ({ref}) 300 tkr för {year} och 200 tkr för {year + 1}"
    ]
    assert item.reservations[0]["text"] == "för lågt belopp"
    # No money before justering; with it, the granted amounts become the budget lines.
    assert budget.lines_of(world.app, ref=ref, forbund=world.slug) == []
    decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )  # the standard items of the agenda
    justera(world, meeting.id)
    lines = budget.lines_of(world.app, ref=ref, forbund=world.slug)
    assert [(v.year, v.granted_tkr, v.decision_paragraph) for v in lines] == [
        (year, 300, f"§ {number}"),
        (year + 1, 200, f"§ {number}"),
    ]


def test_bulk_follow_decides_every_open_item_or_nothing(world: World) -> None:
    first = recommended(world)
    second = recommended(world, "avsla", title="Andra ansökan")
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    # One case is withdrawn behind the board's back: its lifecycle refuses, so nothing is decided.
    with world.app.db.transaction() as session:
        case = cases.find_case(session, resolve_forbund(session, world.slug), second)
        case.state = "atertagen"
        session.add(case)
    with pytest.raises(NotPermitted, match=r"bifall|avslag"):
        decisions.follow_recommendations(
            world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
        )
    after = views.get_meeting(world.app, ref=meeting.number, forbund=world.slug)
    assert all(i.decision is None for i in after.items)
    assert world.show(first).state == "pa_dagordning"
    # Follow only the one still standing.
    only = decisions.follow_recommendations(
        world.app,
        ref=meeting.number,
        actor_email=SECRETARY,
        paragraphs=[paragraph_of(opened, first)],
        forbund=world.slug,
    )
    assert [i.dnr for i in only.items if i.decision] == [first]
    assert world.show(first).state == "vantar_justering"


def test_aterremiss_sends_the_case_back_to_beredning_and_it_returns_to_a_later_meeting(
    world: World,
) -> None:
    ref = recommended(world)
    first = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, first.id)
    meet(world, first)
    with pytest.raises(BadInput, match="vad som ska göras"):
        decisions.record_decision(
            world.app,
            ref=first.number,
            paragraph=paragraph_of(opened, ref),
            decision=DecisionInput("aterremiss"),
            actor_email=SECRETARY,
            forbund=world.slug,
        )
    decisions.record_decision(
        world.app,
        ref=first.number,
        paragraph=paragraph_of(opened, ref),
        actor_email=SECRETARY,
        decision=DecisionInput("aterremiss", motivation="Förtydliga hur målgruppen nås"),
        forbund=world.slug,
    )
    back = world.show(ref)
    assert back.state == "under_beredning"
    assert back.history[-1].comment == "Förtydliga hur målgruppen nås"

    beredning.add_note(
        world.app,
        ref=ref,
        actor_email="beredningsgrupp@test.example",
        text="Målgruppen nås via AF:s rustas-team",
        forbund=world.slug,
    )
    beredning.record_recommendation(
        world.app,
        ref=ref,
        actor_email=DIRECTOR,
        outcome="bevilja",
        motivation="Målgruppen förtydligad",
        forbund=world.slug,
    )
    later = board_meeting(world, "2026-05-20 13:00")
    opened_later = with_agenda_and_protocol(world, later.id)
    meet(world, later)
    assert ref in [i.dnr for i in opened_later.items]
    decisions.follow_recommendations(
        world.app, ref=later.number, actor_email=SECRETARY, forbund=world.slug
    )
    assert world.show(ref).state == "vantar_justering"
    record = beredning.get_beredning(world.app, ref=ref, forbund=world.slug)
    assert [r.outcome for r in record.recommendations] == ["bevilja", "bevilja"]
    assert record.notes[0].text == "Målgruppen nås via AF:s rustas-team"


def test_bordlaggning_moves_the_item_to_the_next_meetings_agenda(world: World) -> None:
    ref = recommended(world)
    first = board_meeting(world, "2026-04-17 13:00")
    second = board_meeting(world, "2026-05-20 09:00", "Tjörn")
    opened = with_agenda_and_protocol(world, first.id)
    meet(world, first)
    number = paragraph_of(opened, ref)
    decisions.record_decision(
        world.app,
        ref=first.number,
        paragraph=number,
        decision=DecisionInput("bordlaggning"),
        actor_email=SECRETARY,
        forbund=world.slug,
    )
    assert world.show(ref).state == "pa_dagordning"
    assert [e.trigger for e in world.show(ref).history][-2:] == ["bordlagg", "satt_pa_dagordning"]
    next_agenda = views.get_meeting(world.app, ref=second.number, forbund=world.slug)
    moved = next(i for i in next_agenda.items if i.dnr == ref)
    assert moved.deferred_from == f"bordlagt 2026-04-17 § {number}"
    # Building the next agenda does not put it there twice.
    rebuilt = agenda.build_agenda(
        world.app, ref=second.number, actor_email=DIRECTOR, forbund=world.slug
    )
    assert [i.dnr for i in rebuilt.items].count(ref) == 1


def test_komplettera_sends_the_case_to_the_applicant_and_it_returns_to_beredning(
    world: World,
) -> None:
    ref = under_beredning(world)
    with pytest.raises(BadInput, match="vad som saknas"):
        beredning.record_recommendation(
            world.app,
            ref=ref,
            actor_email=DIRECTOR,
            outcome="komplettera",
            motivation="Ofullständig",
            forbund=world.slug,
        )
    asked = beredning.record_recommendation(
        world.app,
        ref=ref,
        actor_email=DIRECTOR,
        outcome="komplettera",
        motivation="Ofullständig",
        missing_items=["Budget per part", "Styrgruppens sammansättning"],
        forbund=world.slug,
    )
    assert asked.case_state == "komplettering"
    shown = world.show(ref)
    assert shown.recommendation == "komplettera"
    assert shown.history[-1].comment == (
        "Beredningsgruppen begär komplettering: Budget per part; Styrgruppens sammansättning"
    )
    # The board never sees a komplettera.
    with pytest.raises(Conflict):
        world.fire(ref, "satt_pa_dagordning", Role.SEKRETERARE)
    back = world.fire(
        ref,
        "komplettering_till_beredning",
        Role.PROJEKTAGARE,
        values={"followup_plan": "Kvartalsvis i styrgruppen"},
    )
    assert back.state == "under_beredning"


def test_a_justerat_protocol_refuses_every_edit(world: World) -> None:
    ref = recommended(world)
    other = recommended(world, title="Senare ärende")
    meeting = board_meeting(world, "2026-04-17 13:00")
    # Only the first case goes on this agenda.
    agenda.build_agenda(
        world.app, ref=meeting.number, actor_email=DIRECTOR, add=[ref], forbund=world.slug
    )
    protocol.open_protocol(
        world.app, ref=meeting.number, actor_email=SECRETARY, justerare=[MEMBER], forbund=world.slug
    )
    meet(world, meeting)
    decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    before = justera(world, meeting.id)
    assert before.protocol.status == "justerat"  # type: ignore[union-attr]
    edits = [
        lambda: decisions.record_decision(
            world.app,
            ref=meeting.number,
            paragraph=paragraph_of(before, ref),
            actor_email=SECRETARY,
            decision=DecisionInput("avslag"),
            forbund=world.slug,
        ),
        lambda: agenda.build_agenda(
            world.app, ref=meeting.number, actor_email=DIRECTOR, add=[other], forbund=world.slug
        ),
        lambda: agenda.set_proposal(
            world.app,
            ref=meeting.number,
            dnr=ref,
            proposal="Annat",
            actor_email=DIRECTOR,
            forbund=world.slug,
        ),
        lambda: meetings.set_attendance(
            world.app,
            ref=meeting.number,
            actor_email=SECRETARY,
            absent=[MEMBER],
            forbund=world.slug,
        ),
        lambda: decisions.follow_recommendations(
            world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
        ),
    ]
    for edit in edits:
        with pytest.raises(NotPermitted, match="justerat och kan inte ändras"):
            edit()
    assert views.get_meeting(world.app, ref=meeting.number, forbund=world.slug) == before
    assert world.show(other).state == "rekommenderad"


def test_a_protocol_taken_back_from_justering_is_corrected_and_signed_again(world: World) -> None:
    ref = recommended(world)
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    number = paragraph_of(opened, ref)
    decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    justering.send_for_justering(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    justering.approve(world.app, ref=meeting.number, actor_email=CHAIR, forbund=world.slug)
    # The justerare finds the reservation missing: the text cannot change while out for signing.
    with pytest.raises(NotPermitted, match="skickat för justering"):
        corrections.amend_decision(
            world.app, ref=meeting.number, paragraph=number, actor_email=SECRETARY,
            reservations=[f"{MEMBER}:vill pröva insatsen som pilot"], forbund=world.slug,
        )  # fmt: skip
    back = justering.return_to_draft(
        world.app, ref=meeting.number, actor_email=SECRETARY, reason="Reservation saknas",
        forbund=world.slug,
    )  # fmt: skip
    assert back.protocol.status == "utkast"  # type: ignore[union-attr]
    assert all(s.signed_at is None for s in back.protocol.signers)  # type: ignore[union-attr]
    seen = next(i.version for i in back.items if i.paragraph == number)
    amended = corrections.amend_decision(
        world.app, ref=meeting.number, paragraph=number, actor_email=SECRETARY,
        reservations=[f"{MEMBER}:vill pröva insatsen som pilot"], expected_version=seen,
        forbund=world.slug,
    )  # fmt: skip
    item = next(i for i in amended.items if i.paragraph == number)
    assert (item.decision, item.version) == ("bifall", seen + 1)
    assert item.reservations[0]["text"] == "vill pröva insatsen som pilot"
    assert world.show(ref).state == "vantar_justering"
    done = justera(world, meeting.id)
    assert done.protocol.status == "justerat"  # type: ignore[union-attr]
    assert world.show(ref).state == "avtal"


def test_a_bifall_beyond_the_budget_frame_is_refused_unless_the_board_decides_so(
    world: World,
) -> None:
    ref = recommended(world)  # asks 500 tkr for next year and 400 for the year after
    year = world.clock.now.year + 1
    frame(world, year, 1000, adopted=date(2026, 1, 15), admin=700)  # 300 tkr of room
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    number = paragraph_of(opened, ref)
    with pytest.raises(BadInput) as refused:
        decisions.follow_recommendations(
            world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
        )
    assert f"överskrider ramen för {year} med 200 tkr" in str(refused.value)
    assert "--over-frame" in str(refused.value)
    assert world.show(ref).state == "pa_dagordning"  # nothing of the meeting was decided
    decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug, over_frame=True
    )
    justera(world, meeting.id)
    lines = budget.lines_of(world.app, ref=ref, forbund=world.slug)
    assert [(v.year, v.granted_tkr) for v in lines] == [(year, 500), (year + 1, 400)]
    assert budget.figures(world.app, years=[year], forbund=world.slug)[0].result_tkr == -200
    assert [line.decision_paragraph for line in lines] == [f"§ {number}", f"§ {number}"]
