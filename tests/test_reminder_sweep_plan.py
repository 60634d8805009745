"""How often the sweep plans the whole förbund: once a local day and when the definitions
change. Between, each sweep plans again only what it is about to send, so a reminder whose
date changed behind the services' back never goes out as it was.

The changes "behind the services' back" are made in SQL, as a repair in the database would be:
every service replans what it changes itself, so only the sweep can catch these.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.reminder_support import OCT_1, morning, policy_due
from tests.support import World, finsam, sent_statements
from tests.test_reminder_rules import deployment_with
from workflow.app import App
from workflow.clock import STOCKHOLM
from workflow.services.reminders import planner as reminders
from workflow.settings import load_settings
from workflow.vocabulary import Role

RENEWAL = "policy_renewal"
AKST = "SELECT id FROM forbund WHERE slug = 'akst'"


def _renewals(app: App) -> dict[tuple[date, str], tuple[str, date]]:
    """The policy's renewal reminders: (due date, step) -> (status, day it goes out)."""
    page = reminders.list_reminders(app, forbund="test", rule=RENEWAL, limit=100)
    return {(r.due_on, r.step): (r.status, r.send_on) for r in page.items}


def _renew_by_in_sql(world: World, renew_by: date) -> None:
    with world.app.db.engine.begin() as connection:
        connection.execute(text("UPDATE policy_document SET renew_by = :day"), {"day": renew_by})


def test_the_whole_forbund_is_planned_on_the_first_sweep_of_each_local_day(world: World) -> None:
    policy_due(world)  # renew by 31 December 2026: reminders 1 Sep, 1 Oct, 1 Nov, 4 Jan
    world.clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM))
    reminders.sweep(world.app, worker="test")
    _renew_by_in_sql(world, date(2027, 12, 31))

    # Later the same day: nothing of the policy is due, and the förbund was planned today.
    world.clock.set(datetime(2026, 3, 2, 23, 50, tzinfo=STOCKHOLM))
    swept = reminders.sweep(world.app, worker="test")
    assert (swept.planned, swept.cancelled) == (0, 0)
    assert {status for status, _day in _renewals(world.app).values()} == {"pending"}
    assert {due for due, _step in _renewals(world.app)} == {date(2026, 12, 31)}

    # Ten past midnight in Stockholm (still 2 March in UTC): a new day, a whole plan.
    world.clock.set(datetime(2026, 3, 3, 0, 10, tzinfo=STOCKHOLM))
    swept = reminders.sweep(world.app, worker="test")
    assert (swept.planned, swept.cancelled) == (4, 4)
    renewals = _renewals(world.app)
    assert {step for due, step in renewals if due == date(2027, 12, 31)} == {
        "sep",
        "okt",
        "nov",
        "forsenad",
    }
    assert {status for (due, _step), (status, _day) in renewals.items() if due.year == 2026} == {
        "cancelled"
    }


def test_a_reminder_is_planned_again_before_it_goes_out_so_a_moved_date_is_not_mailed(
    world: World,
) -> None:
    policy_due(world)
    world.clock.set(morning(OCT_1, 7, 0))  # the day's whole plan; the October one not yet due
    reminders.sweep(world.app, worker="test")
    assert _renewals(world.app)[date(2026, 12, 31), "okt"] == ("pending", OCT_1)

    _renew_by_in_sql(world, date(2027, 12, 31))  # renewed for a year, outside the services
    world.clock.set(morning(OCT_1, 8, 30))
    swept = reminders.sweep(world.app, worker="test")

    assert (swept.claimed, swept.messages) == (0, 0)
    renewals = _renewals(world.app)
    assert renewals[date(2026, 12, 31), "okt"][0] == "cancelled"
    assert renewals[date(2027, 12, 31), "okt"] == ("pending", date(2027, 10, 1))


def test_edited_rules_are_planned_by_the_next_sweep_not_the_next_day(
    world: World, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy_due(world)
    world.clock.set(morning(date(2026, 3, 2), 9, 0))
    reminders.sweep(world.app, worker="test")
    assert _renewals(world.app)[date(2026, 12, 31), "okt"][1] == OCT_1

    # The förbund moves the October reminder to the 15th and restarts the scheduler.
    deployment = deployment_with(
        tmp_path,
        "rules.yaml",
        '{key: okt, date: "10-01"',
        '{key: okt, date: "10-15"',
    )
    edited = App.create(
        load_settings(database_url=db_url, config_dir=deployment), clock=world.clock
    )
    try:
        world.clock.set(morning(date(2026, 3, 2), 9, 5))
        with caplog.at_level("INFO", logger="finsam.reminders"):
            reminders.sweep(edited, worker="test")
        assert _renewals(edited)[date(2026, 12, 31), "okt"] == ("pending", date(2026, 10, 15))
        assert "regler eller inställningar har ändrats" in caplog.text
    finally:
        edited.close()


def test_a_sweep_with_nothing_due_after_the_days_plan_reads_no_insats_or_report(
    world: World,
) -> None:
    world.idea()
    world.clock.set(morning(date(2026, 3, 2), 9, 0))
    reminders.sweep(world.app, worker="test")

    world.clock.set(morning(date(2026, 3, 2), 9, 5))
    with sent_statements(world.app) as seen:
        reminders.sweep(world.app, worker="test")
    read = " ".join(statement for statement, _parameters in seen)
    assert "reminder" in read
    assert "FROM insats" not in read and "JOIN insats" not in read
    assert "FROM report" not in read and "JOIN report" not in read


def _pending(app: App) -> set[tuple[str, str, str, int, date, datetime]]:
    with app.db.reading() as session:
        rows = session.exec(
            text(
                "SELECT rule, step, subject_kind, subject_id, due_on, send_at FROM reminder "
                f"WHERE status = 'pending' AND forbund_id = ({AKST})"
            )
        ).all()  # type: ignore[call-overload]
    return {tuple(str(value) for value in row) for row in rows}  # type: ignore[misc]


def test_a_whole_plan_made_a_few_insatser_at_a_time_plans_every_reminder(
    demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _pending(demo_app)
    assert {kind for _rule, _step, kind, *_rest in before} >= {"report", "meeting", "styrdokument"}
    with demo_app.db.engine.begin() as connection:  # every pending reminder lost
        connection.execute(
            text(
                f"DELETE FROM reminder WHERE status = 'pending' AND forbund_id = ({AKST}) "
                "AND id NOT IN (SELECT reminder_id FROM digest_item)"
            )
        )
    assert _pending(demo_app) < before

    monkeypatch.setattr(reminders, "WHOLE_PLAN_BATCH", 3)  # the demo's insatser in many batches
    reminders.plan_forbund(demo_app, forbund="akst")

    assert _pending(demo_app) == before


def test_a_whole_plan_that_stopped_halfway_is_made_again_within_the_hour(world: World) -> None:
    policy_due(world)
    world.clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM))
    reminders.sweep(world.app, worker="test")
    with world.app.db.engine.begin() as connection:  # as if its process had stopped
        connection.execute(text("UPDATE reminder_plan SET finished_at = NULL"))
    _renew_by_in_sql(world, date(2027, 12, 31))

    world.clock.set(datetime(2026, 3, 2, 9, 30, tzinfo=STOCKHOLM))  # perhaps still under way
    assert reminders.sweep(world.app, worker="test").planned == 0
    world.clock.set(datetime(2026, 3, 2, 10, 5, tzinfo=STOCKHOLM))  # stopped: planned again
    assert reminders.sweep(world.app, worker="test").planned == 4
    assert {due for due, _step in _renewals(world.app)} == {date(2026, 12, 31), date(2027, 12, 31)}


def test_the_health_panel_and_finsam_health_say_when_the_forbund_was_last_planned(
    client_as: Any, demo_app: App, demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    # The demo's förbund was planned as a whole when the demo was loaded.
    health_page = chef.get("/drift").text
    assert "Hela förbundets påminnelser planerades senast" in health_page
    assert "inte har svept på 15 minuter" in health_page  # the setting 15.0, as it is said
    code, out, _err = finsam(capsys, demo_url, "health", forbund="akst")
    assert code == 0 and "Hela förbundets påminnelser planerades senast" in out

    with demo_app.db.engine.begin() as connection:  # as if its process had stopped
        connection.execute(
            text(f"UPDATE reminder_plan SET finished_at = NULL WHERE forbund_id = ({AKST})")
        )
    assert "och är inte klar" in chef.get("/drift").text
    code, out, _err = finsam(capsys, demo_url, "health", "--json", forbund="akst")
    planned = json.loads(out)["whole_plan"]
    assert code == 0 and planned["started_at"] and planned["finished_at"] is None


def test_finsam_health_says_when_the_forbund_has_never_been_planned(
    world: World, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = finsam(capsys, db_url, "health", forbund="test")
    assert code == 0 and "har inte planerats för hela förbundet ännu" in out


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)], ids=["summer", "winter"])
def test_a_day_with_a_clock_change_still_has_one_whole_plan(world: World, day: date) -> None:
    from workflow.services.reminders import health

    def sweep_at(hour: int, minute: int, on: date = day) -> datetime | None:
        world.clock.set(datetime(on.year, on.month, on.day, hour, minute, tzinfo=STOCKHOLM))
        reminders.sweep(world.app, worker="test")
        return health.whole_plan(world.app, "test").started_at

    first = sweep_at(0, 5)
    assert first is not None and first.date() == day
    assert sweep_at(4, 0) == first  # after the clock moved (02:00 → 03:00, or 03:00 → 02:00)
    assert sweep_at(23, 55) == first
    following = sweep_at(0, 5, day + timedelta(days=1))
    assert following is not None and following.date() == day + timedelta(days=1)


def test_driftlage_counts_the_forbunds_own_waiting_messages_not_every_forbunds(
    client_as: Any, demo_app: App
) -> None:
    from workflow.services.reminders import health

    own = health.relay_status(demo_app, "akst").waiting
    every = health.relay_status(demo_app).waiting
    assert every > own > 0  # the demo's other förbund has messages waiting too
    page = client_as(Role.FORBUNDSCHEF).get("/drift").text
    assert f"{own} meddelanden väntar" in page and f"{every} meddelanden" not in page
