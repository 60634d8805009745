"""The reminder calendar over time: working days, daylight saving time, five years of demo data."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from tests.funding_world import running
from tests.reminder_support import morning, policy_due
from tests.support import TravelClock, World, build_world, sqlite_by_default
from workflow.app import App
from workflow.clock import STOCKHOLM, local
from workflow.models import Insats, OutboxMessage, Reminder
from workflow.services.demo import load_demo
from workflow.services.policies import documents as policies
from workflow.services.reminders import planner as reminders
from workflow.services.reminders.working_days import is_working_day, working_day_on_or_before


def test_a_reminder_on_a_weekend_or_holiday_moves_to_the_working_day_before() -> None:
    assert working_day_on_or_before(date(2026, 11, 1)) == date(
        2026, 10, 30
    )  # Sun, Sat = Alla helgons dag
    assert working_day_on_or_before(date(2026, 4, 6)) == date(
        2026, 4, 2
    )  # annandag påsk, långfredag
    assert working_day_on_or_before(date(2026, 6, 19)) == date(2026, 6, 18)  # midsommarafton
    assert working_day_on_or_before(date(2027, 1, 1)) == date(
        2026, 12, 30
    )  # nyårsdagen, nyårsafton
    assert working_day_on_or_before(date(2026, 9, 1)) == date(2026, 9, 1)
    assert not is_working_day(date(2026, 12, 24))


@pytest.mark.parametrize(
    ("deadline", "reminder_day", "utc_hour"),
    [
        (date(2026, 3, 29), date(2026, 3, 30), 6),  # summer time began on the deadline: 08:00 CEST
        (date(2026, 10, 25), date(2026, 10, 26), 7),  # summer time ended on the deadline: 08:00 CET
    ],
)
def test_reminders_go_out_at_eight_stockholm_time_across_daylight_saving_changes(
    world: World, deadline: date, reminder_day: date, utc_hour: int
) -> None:
    view = policies.register(
        world.app,
        actor_email="forbundschef@test.example",
        kind="policy",
        title="Policy med sista dag på sommartidens gräns",
        decided_on=date(2022, 3, 1),
        renew_by=deadline,
        forbund="test",
    )
    [overdue] = [
        r
        for r in reminders.list_reminders(world.app, forbund="test", limit=500).items
        if r.subject_ref == view.ref and r.step == "forsenad"
    ]
    assert overdue.send_on == reminder_day
    assert overdue.send_at.astimezone(UTC).hour == utc_hour and overdue.send_at.hour == 8

    world.clock.set(morning(reminder_day, 7, 59))
    assert _claimed_for(world.app, view.ref) == 0
    world.clock.set(morning(reminder_day, 8, 0))
    assert _claimed_for(world.app, view.ref) == 1
    world.clock.set(morning(reminder_day, 8, 5))
    assert _claimed_for(world.app, view.ref) == 0


def _claimed_for(app: App, ref: str) -> int:
    before = {
        r.id for r in reminders.list_reminders(app, forbund="test", status="sent", limit=500).items
    }
    reminders.sweep(app, worker="test")
    after = reminders.list_reminders(app, forbund="test", status="sent", limit=500).items
    return sum(
        1 for r in after if r.id not in before and r.subject_ref == ref and r.step == "forsenad"
    )


def test_renewing_a_document_moves_its_reminders_to_the_new_deadline(world: World) -> None:
    ref = policy_due(world, "Policy för samverkan 2023–2026")
    world.clock.set(morning(date(2026, 6, 10)))
    renewed = policies.renew(
        world.app, ref=ref, actor_email="forbundschef@test.example", comment="Styrelsen § 30"
    )
    assert renewed.renew_by == date(2030, 12, 31) and renewed.state == "faststalld"
    planned = [
        r
        for r in reminders.list_reminders(world.app, forbund="test", limit=500).items
        if r.subject_ref == ref
    ]
    assert {(r.due_on, r.status) for r in planned} == {
        (date(2026, 12, 31), "cancelled"),
        (date(2030, 12, 31), "pending"),
    }
    assert sorted(r.send_on for r in planned if r.status == "pending") == [
        date(2030, 8, 30),
        date(2030, 10, 1),
        date(2030, 11, 1),
        date(2031, 1, 2),
    ]


def test_an_overdue_document_shows_as_overdue_where_it_is_listed(world: World) -> None:
    ref = policy_due(
        world, "Policydokument 2019–2022, LSG Örnsköldsvik", decided_on=date(2018, 12, 11)
    )
    [listed] = policies.list_policies(world.app, forbund="test")
    assert listed.ref == ref and listed.renew_by == date(2022, 12, 31) and listed.overdue
    assert [
        v.ref for v in policies.list_policies(world.app, forbund="test", overdue_only=True)
    ] == [ref]
    assert policies.get_policy(world.app, ref=ref, forbund="test").overdue


# What the demo data must produce from 2026 to 2030, sent on exactly these days (a weekend or
# holiday moves to the working day before; an 'overdue' note never leaves before the deadline).
EXPECTED_DOCUMENT_RENEWALS = {
    # Verksamhetsplan 2026 (renew by 2026-12-31), adopted again 2026-11-26 (renew by 2027-12-31)
    ("VP", "sep", date(2026, 9, 1)),
    ("VP", "okt", date(2026, 10, 1)),
    ("VP", "nov", date(2026, 10, 30)),  # Sun 1 Nov, Sat 31 Oct Alla helgons dag
    ("VP", "sep", date(2027, 9, 1)),
    ("VP", "okt", date(2027, 10, 1)),
    ("VP", "nov", date(2027, 11, 1)),
    ("VP", "forsenad", date(2028, 1, 3)),  # Sat 1 Jan: not before 31 Dec, so Monday after
    # Policy för samverkan 2026–2029 (renew by 2029-12-31)
    ("POLICY", "sep", date(2029, 8, 31)),  # Sat 1 Sep
    ("POLICY", "okt", date(2029, 10, 1)),
    ("POLICY", "nov", date(2029, 11, 1)),
    ("POLICY", "forsenad", date(2030, 1, 2)),
}
EXPECTED_END_OF_INSATS = {
    ("Gemensamt stöd för unga vuxna", date(2028, 9, 1)),  # the funded one below; -120 d = Sat
    ("Arbetsträning i samverkan, Ale", date(2026, 3, 27)),  # -120 d = Sun 29 Mar, summer time
    ("Hälsofrämjande gruppverksamhet i Kungälv", date(2026, 10, 23)),  # -120 d = Sun 25 Oct
}
# The report plan of an insats running 2027-01-01 – 2028-12-31: (step, due date, day sent).
EXPECTED_REPORTS = {
    ("fore_21", date(2027, 6, 30), date(2027, 6, 9)),
    ("fore_7", date(2027, 6, 30), date(2027, 6, 23)),
    ("forsenad", date(2027, 6, 30), date(2027, 7, 1)),
    ("eskalering", date(2027, 6, 30), date(2027, 7, 8)),
    ("fore_21", date(2027, 12, 31), date(2027, 12, 10)),
    ("fore_7", date(2027, 12, 31), date(2027, 12, 23)),  # 24th is julafton
    ("forsenad", date(2027, 12, 31), date(2028, 1, 3)),  # Sat 1 Jan, nyårsdagen
    ("eskalering", date(2027, 12, 31), date(2028, 1, 7)),  # Sat 8 Jan
    ("fore_21", date(2028, 6, 30), date(2028, 6, 9)),
    ("fore_7", date(2028, 6, 30), date(2028, 6, 22)),  # 23rd is midsommarafton
    ("forsenad", date(2028, 6, 30), date(2028, 7, 3)),  # Sat 1 Jul
    ("eskalering", date(2028, 6, 30), date(2028, 7, 7)),  # Sat 8 Jul
    ("fore_21", date(2029, 3, 31), date(2029, 3, 9)),  # Sat 10 Mar
    ("fore_7", date(2029, 3, 31), date(2029, 3, 23)),  # Sat 24 Mar
    ("forsenad", date(2029, 3, 31), date(2029, 4, 3)),  # påskdagen, annandag påsk
    ("eskalering", date(2029, 3, 31), date(2029, 4, 6)),  # Sun 8 Apr
}
EXPECTED_YEARLY = {
    "verksamhetsplan_budget/forslag": [
        date(2026, 9, 1),
        date(2027, 9, 1),
        date(2028, 9, 1),
        date(2029, 8, 31),
        date(2030, 8, 30),
    ],
    "verksamhetsplan_budget/antagande": [
        date(2026, 11, 16),
        date(2027, 11, 16),
        date(2028, 11, 16),
        date(2029, 11, 16),
        date(2030, 11, 15),
    ],
    "arsredovisning/utkast": [
        date(2026, 1, 30),
        date(2027, 2, 1),
        date(2028, 2, 1),
        date(2029, 2, 1),
        date(2030, 2, 1),
    ],
    "arsredovisning/utkast_klart": [
        date(2026, 2, 13),
        date(2027, 2, 15),
        date(2028, 2, 15),
        date(2029, 2, 15),
        date(2030, 2, 15),
    ],
    "arsredovisning/antagande": [
        date(2026, 3, 17),
        date(2027, 3, 17),
        date(2028, 3, 17),
        date(2029, 3, 16),
        date(2030, 3, 15),
    ],
}


# A year and a half by default (both sides of two DST changes, every kind of reminder, the
# funded insats' first reports), on SQLite; all five years, and PostgreSQL, with `pytest -m
# full` (the sweep's SQL on PostgreSQL is tested by test_reminder_processes.py).
@pytest.mark.slow
@sqlite_by_default
@pytest.mark.parametrize(
    "last_day",
    [date(2027, 7, 31), pytest.param(date(2030, 12, 31), marks=pytest.mark.full, id="five-years")],
    ids=str,
)
def test_five_years_of_demo_data_give_every_reminder_on_its_day_and_only_once(
    app: App, clock: TravelClock, last_day: date
) -> None:
    clock.set(datetime(2026, 1, 1, 9, 0, tzinfo=STOCKHOLM))
    load_demo(app)
    # Beside the demo, a förbund with an insats funded through avtal and report plan.
    funded = running(build_world(app, clock))
    clock.set(datetime(2026, 1, 1, 9, 0, tzinfo=STOCKHOLM))
    documents = {d.title: d.ref for d in policies.list_policies(app, forbund="akst")}
    short = {
        documents["Verksamhetsplan och budget 2026"]: "VP",
        documents["Policy för samverkan 2026–2029"]: "POLICY",
    }

    day = date(2026, 1, 1)
    while day <= last_day:
        clock.set(morning(day, 8, 5))  # the scheduler ticks every few minutes; one tick a day
        if day == date(2026, 11, 26):  # the board adopts the verksamhetsplan for 2027
            policies.renew(
                app,
                ref=documents["Verksamhetsplan och budget 2026"],
                actor_email="chef@akst.example",
                comment="Styrelsen § 66",
                forbund="akst",
                decided_by="Styrelsen",
            )
        reminders.sweep(app, worker="travel")
        day += timedelta(days=1)

    with app.db.reading() as session:
        sent = session.exec(
            select(Reminder).where(Reminder.status == "sent").order_by(col(Reminder.send_at))
        ).all()
        # The reminders' messages (an utdrag after each justering goes out too, unplanned).
        messages = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).all()
        insatser = {i.id: i for i in session.exec(select(Insats))}
    by_reminder = Counter(m.reminder_id for m in messages)
    first_written = {}
    for message in messages:
        first_written.setdefault(message.reminder_id, local(message.created_at).date())

    # Every reminder went out on its own day at 08:00 Stockholm time, summer or winter; one
    # already late when the demo was loaded went out with the first tick.
    for row in sent:
        expected_day = max(row.send_on, date(2026, 1, 1))
        assert first_written[row.id] == expected_day, (row.rule, row.step, row.subject_ref)
        assert local(row.send_at).hour == 8 and local(row.send_at).minute == 0
        assert is_working_day(row.send_on)
    # None twice: one reminder per rule step, thing and due date, one message per recipient.
    keys = Counter((r.rule, r.step, r.subject_kind, r.subject_id, r.due_on) for r in sent)
    assert max(keys.values()) == 1
    assert all(
        count == len(set(m.to_address for m in messages if m.reminder_id == rid))
        for rid, count in by_reminder.items()
    )

    renewals = {
        (short[r.subject_ref], r.step, r.send_on) for r in sent if r.rule == "policy_renewal"
    }
    assert renewals == {
        e for e in EXPECTED_DOCUMENT_RENEWALS if e[2] <= last_day
    }  # none for the LSG policy overdue since 2022
    ends = {(insatser[r.subject_id].title, r.send_on) for r in sent if r.rule == "insats_end"}
    assert ends == {e for e in EXPECTED_END_OF_INSATS if e[1] <= last_day}
    closed = {
        i.id
        for i in insatser.values()
        if i.state in app.lifecycles.insats.lifecycle.tagged("closed")
    }
    assert "Motivationsgrupp Stenungsund" in {insatser[i].title for i in closed}
    assert not [r for r in sent if r.subject_kind == "insats" and r.subject_id in closed]
    reported = {
        (r.step, r.due_on, r.send_on)
        for r in sent
        if r.rule == "report_due" and r.subject_ref == funded
    }
    assert reported == {e for e in EXPECTED_REPORTS if e[2] <= last_day}
    # The demo's insatser run under avtal of their own: the two still running are reminded of
    # their reports too, the one the board stopped is not.
    running_demo = {
        i.dnr
        for i in insatser.values()
        if i.title in {"Arbetsträning i samverkan, Ale", "Hälsofrämjande gruppverksamhet i Kungälv"}
    }
    assert {r.subject_ref for r in sent if r.rule == "report_due"} == {funded, *running_demo}
    akst = next(r.forbund_id for r in sent if r.rule == "policy_renewal")
    yearly: dict[str, list[date]] = {}
    for r in sent:
        if r.subject_kind == "forbund" and r.forbund_id == akst:
            yearly.setdefault(f"{r.rule}/{r.step}", []).append(r.send_on)
    expected_yearly = {
        key: [day for day in days if day <= last_day] for key, days in EXPECTED_YEARLY.items()
    }
    assert yearly == {key: days for key, days in expected_yearly.items() if days}
    # The clock hour is right on both sides of the change: CEST in October, CET in November.
    vp = {(r.step, r.send_on): r.send_at for r in sent if r.rule == "policy_renewal"}
    assert vp[("okt", date(2026, 10, 1))].hour == 6 and vp[("nov", date(2026, 10, 30))].hour == 7
