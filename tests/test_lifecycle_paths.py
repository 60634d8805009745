"""An insats through its whole lifecycle and every side branch, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import func, select

from tests import meeting_support as board
from tests.support import World, complete_application, drive_happy_path, email
from workflow.clock import STOCKHOLM
from workflow.errors import BadInput, ConditionFailed, NotPermitted
from workflow.models import AuditEvent
from workflow.services import cases
from workflow.services.funding import agreements
from workflow.vocabulary import Role


def audit_count(world: World) -> int:
    with world.app.db.reading() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def test_an_idea_becomes_an_implemented_insats_with_one_event_per_step(world: World) -> None:
    ref = world.idea()
    view = drive_happy_path(world, ref)
    assert view.state == "avslutad_implementerad"
    history = world.show(view.ref).history
    assert [e.trigger for e in history] == [
        "skapa",
        "registrera",
        "starta_beredning",
        "rekommendera",
        "satt_pa_dagordning",
        "bifall",
        "justera",
        "starta",
        "avsluta",
        "implementera",
    ]
    assert [e.to_state for e in history][-1] == "avslutad_implementerad"
    assert view.version == len(history)
    archived = world.fire(view.ref, "arkivera", Role.ADMIN)
    assert archived.state == "arkiverad"


def test_registration_gives_the_diarienummer_of_the_year(world: World) -> None:
    world.clock.set(date(2026, 12, 31))
    first = world.fire(world.idea(), "registrera", Role.SEKRETERARE)
    second = world.fire(world.idea(), "registrera", Role.SEKRETERARE)
    world.clock.set(date(2027, 1, 1))
    next_year = world.fire(world.idea(), "registrera", Role.SEKRETERARE)
    assert (first.dnr, second.dnr, next_year.dnr) == ("2026/001", "2026/002", "2027/001")
    assert world.show("2026/002").title == second.title


def test_an_incomplete_application_goes_to_komplettering_and_comes_back(world: World) -> None:
    ref = world.fire(world.idea(followup_plan=""), "registrera", Role.SEKRETERARE).ref
    with pytest.raises(ConditionFailed, match="uppföljningsplan saknas"):
        world.fire(ref, "starta_beredning", Role.FORBUNDSCHEF)
    asked = world.fire(
        ref, "begar_komplettering", Role.FORBUNDSCHEF, comment="Uppföljningsplan saknas"
    )
    assert asked.state == "komplettering"
    back = world.fire(
        ref,
        "komplettering_inkommen",
        Role.PROJEKTAGARE,
        values={"followup_plan": "Kvartalsvis uppföljning i styrgruppen"},
    )
    assert back.state == "inkommen"
    assert world.fire(ref, "starta_beredning", Role.FORBUNDSCHEF).state == "under_beredning"


def test_avslag_ends_the_case(world: World) -> None:
    ref = world.idea()
    view = drive_happy_path(world, ref, until="satt_pa_dagordning")
    board.decide(world, view.ref, "avslag")
    ended = world.show(view.ref)
    assert ended.state == "avslutad_avslag"
    assert ended.decision_paragraph == board.paragraph_ref_of(world, view.ref)
    assert world.fire(view.ref, "arkivera", Role.FORBUNDSCHEF).state == "arkiverad"


def test_aterremiss_sends_the_case_back_to_beredning_with_what_must_be_done(world: World) -> None:
    view = drive_happy_path(world, world.idea(), until="satt_pa_dagordning")
    with pytest.raises(BadInput, match="vad som ska göras"):
        board.decide(world, view.ref, "aterremiss")
    board.decide(world, view.ref, "aterremiss", motivation="Förtydliga målgruppen")
    back = world.show(view.ref)
    assert back.state == "under_beredning"
    assert back.history[-1].comment == "Förtydliga målgruppen"


def test_bordlaggning_puts_the_item_back_on_a_later_agenda(world: World) -> None:
    view = drive_happy_path(world, world.idea(), until="satt_pa_dagordning")
    board.decide(world, view.ref, "bordlaggning")
    # No later meeting yet: the case waits for the next agenda that is built.
    assert world.show(view.ref).state == "bordlagd"
    board.put_on_agenda(world, view.ref)
    assert world.show(view.ref).state == "pa_dagordning"
    board.decide(world, view.ref, "bifall")
    assert world.show(view.ref).state == "vantar_justering"


@pytest.mark.parametrize("state_before", ["ide", "inkommen", "under_beredning", "rekommenderad"])
def test_the_applicant_may_withdraw_before_the_board_decides(
    world: World, state_before: str
) -> None:
    ref = world.idea()
    steps = {
        "ide": None,
        "inkommen": "registrera",
        "under_beredning": "starta_beredning",
        "rekommenderad": "rekommendera",
    }
    if steps[state_before]:
        ref = drive_happy_path(world, ref, until=steps[state_before]).ref
    assert world.show(ref).state == state_before
    assert world.fire(ref, "ta_tillbaka", Role.HANDLAGGARE).state == "atertagen"


def test_the_board_can_stop_a_running_insats(world: World) -> None:
    view = drive_happy_path(world, world.idea(), until="starta")
    assert view.state == "pagaende"
    board.close_at_meeting(
        world, view.ref, "avbruten", reason="parterna drar tillbaka sin medfinansiering"
    )
    stopped = world.show(view.ref)
    assert stopped.state == "avslutad_avbruten"
    assert "medfinansiering" in (stopped.history[-1].comment or "")
    # The § that granted it stays its 'Beslut §'.
    assert stopped.decision_paragraph == view.decision_paragraph


def test_a_running_insats_may_close_early_only_with_a_reason(world: World) -> None:
    view = drive_happy_path(world, world.idea(), until="starta")
    with pytest.raises(ConditionFailed, match="slutdatum"):
        world.fire(view.ref, "avsluta", Role.FORBUNDSCHEF)
    assert (
        world.fire(view.ref, "avsluta", Role.FORBUNDSCHEF, comment="Målen nådda").state
        == "avslutas"
    )
    board.final_report_approved(world, view.ref)
    board.close_at_meeting(world, view.ref, "ej_implementerad")
    closed = world.show(view.ref)
    assert closed.state == "avslutad_ej_implementerad"
    assert closed.final_report_on == world.clock.now.date()


def test_a_change_goes_back_through_beredning(world: World) -> None:
    view = drive_happy_path(world, world.idea(), until="starta")
    world.fire(view.ref, "begar_andring", Role.PROJEKTAGARE, comment="Förlängning ett år")
    year = view.end.year + 1  # type: ignore[union-attr]
    changed = world.fire(
        view.ref,
        "bered_andring",
        Role.FORBUNDSCHEF,
        values={"end": f"{year}-12-31", "budget": {str(year): 300}},
    )
    assert changed.state == "under_beredning"
    assert changed.budget_requested[str(year)] == 300


def test_an_insats_cannot_start_before_its_start_date(world: World) -> None:
    view = drive_happy_path(world, world.idea(), until="justera")
    agreements.create(world.app, ref=view.ref, actor_email=board.DIRECTOR, forbund=world.slug)
    signed = agreements.sign(
        world.app,
        ref=view.ref,
        actor_email=board.DIRECTOR,
        forbund=world.slug,
        forbund_signed_on=date(2026, 3, 1),
        owner_signed_on=date(2026, 3, 2),
    )
    assert (signed.status, signed.case_state) == ("undertecknat", "avtal")
    assert agreements.start_due(world.app, actor_email=board.DIRECTOR, forbund=world.slug) == []
    before = audit_count(world)
    with pytest.raises(NotPermitted, match="avtalet"):
        world.fire(view.ref, "starta", Role.FORBUNDSCHEF)
    after = world.show(view.ref)
    assert (after.state, after.version, after.agreement_signed_on) == ("avtal", view.version, None)
    assert audit_count(world) == before


def test_the_two_party_rule_counts_all_kommuner_as_one(world: World) -> None:
    # Two kommuner are one party: an idea naming only them is refused on every channel.
    with pytest.raises(BadInput, match="alla kommuner räknas som en part"):
        world.idea(parties=["Kungälvs kommun", "Ale kommun"], owner_party="Kungälvs kommun")
    # An idea that names no parties yet gets them before registration.
    fields = complete_application(world.clock.now.year + 1, world.slug)
    del fields["parties"]
    ref = cases.submit_idea(
        world.app, actor_email=email(Role.HANDLAGGARE), values=fields, forbund=world.slug
    ).ref
    with pytest.raises(ConditionFailed, match="minst två krävs"):
        world.fire(ref, "registrera", Role.SEKRETERARE)
    registered = world.fire(
        ref,
        "registrera",
        Role.SEKRETERARE,
        values={"parties": "Kungälvs kommun, Ale kommun, Arbetsförmedlingen"},
    )
    assert registered.state == "inkommen"
    assert set(registered.parties) == {"Kungälvs kommun", "Ale kommun", "Arbetsförmedlingen"}


def test_the_year_of_a_diarienummer_and_the_times_shown_are_swedish(world: World) -> None:
    # 00:30 on New Year's Day in Stockholm is still the old year in UTC.
    world.clock.set(datetime(2027, 1, 1, 0, 30, tzinfo=STOCKHOLM))
    assert world.clock.now.year == 2026
    view = world.fire(world.idea(), "registrera", Role.SEKRETERARE)
    assert view.dnr == "2027/001"
    registered = world.show(view.ref).history[-1].at
    assert (registered.year, registered.hour, registered.minute) == (2027, 0, 30)
    assert registered.utcoffset() == timedelta(hours=1)
    # Summer time: the same wall clock is shown, an hour further from UTC.
    world.clock.set(datetime(2027, 7, 1, 0, 30, tzinfo=STOCKHOLM))
    summer = world.fire(view.ref, "starta_beredning", Role.FORBUNDSCHEF)
    assert world.show(summer.ref).history[-1].at.utcoffset() == timedelta(hours=2)


def _retitle_and_fire(world: World, ref: str, title: str, actor: Role) -> None:
    """What a service such as the board's decision does: change the case, fire, one commit."""
    from workflow.services import cases
    from workflow.services.organisation.forbund import resolve_forbund
    from workflow.services.organisation.people import find_actor

    with world.app.db.transaction() as session:
        forbund = resolve_forbund(session, world.slug)
        case = cases.find_case(session, forbund, ref)
        case.title = title
        cases.fire_in(
            session,
            world.app,
            forbund=forbund,
            case=case,
            actor=find_actor(session, forbund, f"{actor.value}@{world.slug}.example"),
            trigger="starta_beredning",
            now=world.clock(),
        )


def test_a_services_own_change_and_its_fire_land_as_one_version(world: World) -> None:
    ref = world.fire(world.idea(), "registrera", Role.SEKRETERARE).ref
    before = world.show(ref)
    _retitle_and_fire(world, ref, "Nytt namn före beredningen", Role.FORBUNDSCHEF)
    after = world.show(ref)
    assert (after.title, after.state) == ("Nytt namn före beredningen", "under_beredning")
    assert after.version == before.version + 1
    assert len(after.history) == len(before.history) + 1


def test_a_refused_fire_inside_a_service_leaves_its_change_unwritten(world: World) -> None:
    ref = world.fire(world.idea(), "registrera", Role.SEKRETERARE).ref
    before = world.show(ref)
    with pytest.raises(NotPermitted):
        _retitle_and_fire(world, ref, "Ska inte sparas", Role.HANDLAGGARE)
    after = world.show(ref)
    assert (after.title, after.state, after.version) == (before.title, "inkommen", before.version)
    assert len(after.history) == len(before.history)
