"""The avtal: report plan, signatures, the start of the insats, payments held until the
previous report is approved, and an ändring going back through beredning and decision."""

from __future__ import annotations

from datetime import date

import pytest

from tests.funding_world import (
    CHEF,
    PROJEKTAGARE,
    SEKRETERARE,
    decided,
    granted,
    running,
)
from tests.meeting_support import (
    decide,
    finish_meeting,
    meeting_of,
    paragraph_ref_of,
    put_on_agenda,
    recommend,
)
from tests.support import World
from workflow.conditions import CONDITIONS, Facts
from workflow.errors import BadInput, NotPermitted
from workflow.services.cases import find_case
from workflow.services.funding import agreements, budget, payments, reports
from workflow.services.organisation.forbund import resolve_forbund
from workflow.vocabulary import Role


def test_an_avtal_gets_a_report_plan_from_its_period_and_the_defaults(world: World) -> None:
    ref = granted(world, start="2027-03-01", end="2028-08-31", budget={"2027": 300, "2028": 200})
    view = agreements.create(world.app, ref=ref, actor_email=CHEF, forbund="test")
    # The § of the justerat protocol that granted it.
    assert view.decision_paragraph == paragraph_ref_of(world, ref)
    assert view.amounts == {"2027": 300, "2028": 200}
    plan = [(r.kind, r.period_start, r.period_end, r.due_on, r.status) for r in view.reports]
    assert plan == [
        ("delar", date(2027, 3, 1), date(2027, 6, 30), date(2027, 6, 30), "vantar"),
        ("helar", date(2027, 3, 1), date(2027, 12, 31), date(2027, 12, 31), "vantar"),
        ("delar", date(2028, 1, 1), date(2028, 6, 30), date(2028, 6, 30), "vantar"),
        # Slutrapport three months after the end; no helårsrapport after the end.
        ("slut", date(2027, 3, 1), date(2028, 8, 31), date(2028, 11, 30), "vantar"),
    ]


def test_the_insats_starts_when_the_avtal_is_signed_and_the_start_date_has_come(
    world: World,
) -> None:
    ref = granted(world)
    agreements.create(world.app, ref=ref, actor_email=CHEF, forbund="test")
    # Only one signature: the insats cannot start, not even by firing the step by hand.
    agreements.sign(
        world.app, ref=ref, actor_email=CHEF, forbund="test", forbund_signed_on=date(2026, 3, 2)
    )
    world.clock.set(date(2027, 1, 1))
    with pytest.raises(NotPermitted, match="agreements sign"):
        world.fire(ref, "starta", Role.FORBUNDSCHEF)
    world.clock.set(date(2026, 3, 5))
    view = agreements.sign(
        world.app, ref=ref, actor_email=CHEF, forbund="test", owner_signed_on=date(2026, 3, 4)
    )
    assert (view.status, view.case_state) == ("undertecknat", "avtal")  # start date not reached
    assert agreements.start_due(world.app, actor_email=CHEF, forbund="test") == []
    world.clock.set(date(2027, 1, 1))
    assert agreements.start_due(world.app, actor_email=CHEF, forbund="test") == [ref]
    case = world.show(ref)
    assert (case.state, case.agreement_signed_on) == ("pagaende", date(2026, 3, 4))
    assert case.history[-1].trigger == "starta"


def test_signing_on_or_after_the_start_date_starts_the_insats_in_the_same_step(
    world: World,
) -> None:
    ref = granted(world)
    agreements.create(world.app, ref=ref, actor_email=CHEF, forbund="test")
    world.clock.set(date(2027, 1, 10))
    view = agreements.sign(
        world.app,
        ref=ref,
        actor_email=CHEF,
        forbund="test",
        forbund_signed_on=date(2027, 1, 9),
        owner_signed_on=date(2027, 1, 10),
    )
    assert view.case_state == "pagaende"


def test_a_signed_avtal_is_what_the_case_reads_even_before_its_start_date(world: World) -> None:
    """Defect (issue 9): a signed avtal with a future start date read as "not signed" to the
    case, because `agreement_signed` fell back to the case's own date field, and the error
    told the user to `--set agreement_signed_on`."""
    ref = granted(world)  # starts 2027-01-01
    agreements.create(world.app, ref=ref, actor_email=CHEF, forbund="test")
    agreements.sign(
        world.app,
        ref=ref,
        actor_email=CHEF,
        forbund="test",
        forbund_signed_on=date(2026, 3, 2),
        owner_signed_on=date(2026, 3, 2),
    )
    condition = CONDITIONS["insats"]["agreement_signed"]
    with world.app.db.reading() as session:
        case = find_case(session, resolve_forbund(session, "test"), ref)
        assert case.agreement_signed_on is None  # not started: the case's mirror is empty
        facts = Facts(subject=case, today=date(2026, 3, 2), session=session)
        assert condition.check(facts) is None
    # Without an avtal the refusal names the avtal, never a case field to set by hand.
    other = granted(world, title="Utan avtal")
    with world.app.db.reading() as session:
        case = find_case(session, resolve_forbund(session, "test"), other)
        problem = condition.check(Facts(subject=case, today=date(2026, 3, 2), session=session))
    assert problem is not None and "agreements create" in problem and "--set" not in problem
    world.clock.set(date(2027, 1, 1))
    assert agreements.start_due(world.app, actor_email=CHEF, forbund="test") == [ref]
    assert world.show(ref).agreement_signed_on == date(2026, 3, 2)


def test_a_start_earlier_than_decided_goes_through_an_andring_and_a_new_decision(
    world: World,
) -> None:
    """Defect (issue 9): the avtal could name a period of its own (`--start`) while the case
    kept the decided one. The avtal's period is now the decided one; to start earlier, the
    ändring goes back through beredning and the board before the avtal is drawn up."""
    ref = granted(world)  # decided for 2027-01-01 – 2028-12-31
    world.fire(ref, "begar_andring", Role.PROJEKTAGARE, comment="Start redan i oktober")
    world.fire(
        ref,
        "bered_andring",
        Role.FORBUNDSCHEF,
        values={"start": "2026-10-01", "budget": {"2026": 100}},
    )
    recommend(world, ref)
    put_on_agenda(world, ref)
    decide(world, ref, "delvis_bifall", granted={"2026": 100})
    finish_meeting(world, meeting_of(world, ref))
    view = agreements.create(world.app, ref=ref, actor_email=CHEF, forbund="test")
    assert (view.start, view.end) == (date(2026, 10, 1), date(2028, 12, 31))
    assert view.amounts == {"2026": 100, "2027": 500, "2028": 400}
    assert view.decision_paragraph == paragraph_ref_of(world, ref)


def test_an_avtal_cannot_promise_more_than_the_board_granted(world: World) -> None:
    ref = granted(world)
    with pytest.raises(BadInput, match="beviljade 500 tkr"):
        agreements.create(
            world.app, ref=ref, actor_email=CHEF, forbund="test", amounts={"2027": 600}
        )


def test_a_payment_waits_until_the_previous_report_is_approved(world: World) -> None:
    ref = running(world)  # 2027-01-01 .. 2028-12-31, 500 tkr granted for 2027
    first = payments.request(
        world.app, ref=ref, year=2027, amount=250, actor_email=CHEF, forbund="test"
    )
    assert (first.status, first.paid_on) == ("utbetald", date(2027, 1, 1))  # no report due yet
    world.clock.set(date(2027, 7, 5))
    held = payments.request(
        world.app, ref=ref, year=2027, amount=250, actor_email=CHEF, forbund="test"
    )
    assert held.status == "vilande"
    assert held.waits_for is not None and "delårsrapport förfallen 2027-06-30" in held.waits_for
    assert budget.lines_of(world.app, ref=ref, forbund="test")[0].paid_tkr == 250
    reports.submit(
        world.app,
        ref=ref,
        actor_email=PROJEKTAGARE,
        forbund="test",
        progress="Tolv deltagare inskrivna",
        utfall=240,
        women=7,
        men=5,
        other=0,
    )
    assert payments.list_payments(world.app, ref=ref, forbund="test")[1].status == "vilande"
    world.clock.set(date(2027, 7, 12))
    approved = reports.approve(world.app, ref=ref, actor_email=CHEF, forbund="test")
    assert approved.released_payments == [held.id]
    paid = payments.list_payments(world.app, ref=ref, forbund="test")[1]
    assert (paid.status, paid.paid_on) == ("utbetald", date(2027, 7, 12))
    assert budget.lines_of(world.app, ref=ref, forbund="test")[0].paid_tkr == 500


def test_a_report_sent_back_for_completion_keeps_the_payment_held(world: World) -> None:
    ref = running(world)
    world.clock.set(date(2027, 7, 5))
    held = payments.request(
        world.app, ref=ref, year=2027, amount=100, actor_email=CHEF, forbund="test"
    )
    reports.submit(world.app, ref=ref, actor_email=PROJEKTAGARE, forbund="test", progress="I gång")
    back = reports.ask_completion(
        world.app, ref=ref, actor_email=CHEF, forbund="test", comment="Utfall i tkr saknas"
    )
    assert back.status == "komplettering"
    assert payments.list_payments(world.app, ref=ref, forbund="test")[0].status == "vilande"
    reports.submit(
        world.app, ref=ref, actor_email=PROJEKTAGARE, forbund="test", progress="I gång", utfall=90
    )
    reports.approve(world.app, ref=ref, actor_email=CHEF, forbund="test")
    assert payments.list_payments(world.app, ref=ref, forbund="test")[0].id == held.id
    assert payments.list_payments(world.app, ref=ref, forbund="test")[0].status == "utbetald"


def test_a_payment_beyond_the_grant_is_refused(world: World) -> None:
    ref = running(world)
    with pytest.raises(BadInput, match="överskrider det beviljade: 500 tkr"):
        payments.request(
            world.app, ref=ref, year=2027, amount=501, actor_email=CHEF, forbund="test"
        )


def test_an_andring_of_amounts_goes_back_through_beredning_and_a_new_decision(world: World) -> None:
    ref = running(world)
    world.clock.set(date(2027, 9, 1))
    world.fire(ref, "begar_andring", Role.PROJEKTAGARE, comment="Fler deltagare än planerat")
    # Nothing changes in the budget until the board has decided again.
    with pytest.raises(NotPermitted, match="efter styrelsens bifall"):
        budget.grant(
            world.app, ref=ref, amounts={"2027": 700}, actor_email=SEKRETERARE, forbund="test"
        )
    first = paragraph_ref_of(world, ref)
    world.fire(ref, "bered_andring", Role.FORBUNDSCHEF, values={"budget": {"2027": 700}})
    recommend(world, ref)
    put_on_agenda(world, ref)
    # The board grants the ändring: 2027 only, the year it changes.
    decide(world, ref, "delvis_bifall", granted={"2027": 700})
    finish_meeting(world, meeting_of(world, ref))
    second = paragraph_ref_of(world, ref)
    view = agreements.create(world.app, ref=ref, actor_email=CHEF, forbund="test")
    assert (view.decision_paragraph, view.amounts["2027"]) == (second, 700)
    view = agreements.sign(
        world.app,
        ref=ref,
        actor_email=CHEF,
        forbund="test",
        forbund_signed_on=date(2027, 9, 1),
        owner_signed_on=date(2027, 9, 1),
    )
    assert view.case_state == "pagaende"
    lines = budget.lines_of(world.app, ref=ref, forbund="test")
    # 2027 follows the new decision; 2028, not part of the ändring, keeps the first one.
    assert [(v.year, v.granted_tkr, v.decision_paragraph) for v in lines] == [
        (2027, 700, second.split("/")[0]),
        (2028, 400, first.split("/")[0]),
    ]
    # The old avtal is superseded; its reports already due stay owed under the new plan.
    statuses = {
        (r.kind, r.due_on): r.status
        for r in reports.list_reports(world.app, ref=ref, forbund="test")
    }
    assert statuses[("delar", date(2027, 6, 30))] == "vantar"


def test_only_the_forbundschef_draws_up_an_avtal(world: World) -> None:
    ref = decided(world)
    with pytest.raises(NotPermitted, match="får inte upprätta avtal"):
        agreements.create(world.app, ref=ref, actor_email=PROJEKTAGARE, forbund="test")


def test_a_forbund_sets_its_own_report_plan_in_config(db_url: str, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support import build_world
    from workflow.app import App
    from workflow.settings import load_settings

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "finsam.toml").write_text(
        '[funding]\ndelar_due = "08-31"\nhelar_due = "12-31"\nslut_months_after_end = 2\n',
        encoding="utf-8",
    )
    application = App.create(load_settings(database_url=db_url, config_dir=tmp_path), clock=clock)
    try:
        world = build_world(application, clock)
        ref = granted(world, start="2027-01-01", end="2027-12-31", budget={"2027": 300})
        view = agreements.create(application, ref=ref, actor_email=CHEF, forbund="test")
        assert [(r.kind, r.due_on) for r in view.reports] == [
            ("delar", date(2027, 8, 31)),
            ("slut", date(2028, 2, 29)),
        ]
    finally:
        application.close()


def test_a_late_payment_waits_for_every_report_due_before_it(world: World) -> None:
    ref = running(world)
    world.clock.set(date(2028, 1, 10))  # the delår and helår reports of 2027 are both due
    held = payments.request(
        world.app, ref=ref, year=2028, amount=200, actor_email=CHEF, forbund="test"
    )
    assert held.waits_for is not None and "delårsrapport" in held.waits_for
    reports.submit(world.app, ref=ref, actor_email=PROJEKTAGARE, forbund="test", progress="Halvår")
    first = reports.approve(world.app, ref=ref, actor_email=CHEF, forbund="test")
    assert (first.released_payments, first.held_payments) == ([], [held.id])
    still = payments.list_payments(world.app, ref=ref, forbund="test")[0]
    assert still.status == "vilande" and "helårsrapport" in (still.waits_for or "")
    reports.submit(
        world.app, ref=ref, actor_email=PROJEKTAGARE, forbund="test", progress="Helår", utfall=480
    )
    second = reports.approve(world.app, ref=ref, actor_email=CHEF, forbund="test")
    assert second.released_payments == [held.id]
    # The approved helårsrapport's utfall is now the budget line's utfall for 2027.
    assert budget.lines_of(world.app, ref=ref, forbund="test")[0].utfall_tkr == 480
