"""Read paths that stay bounded as a förbund grows: reports and the budget in a fixed number
of SQL statements whatever the number of insatser, and a list of reminders that only reads."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event, func
from sqlmodel import select

from tests.funding_world import CHEF, frame
from tests.support import TravelClock, World, build_world, email, finsam
from workflow.app import App
from workflow.clock import STOCKHOLM, local
from workflow.models import (
    Agreement,
    AuditChain,
    AuditEvent,
    BudgetLine,
    Insats,
    OutboxMessage,
    Reminder,
    Report,
    UppfoljningRecord,
)
from workflow.services import cases
from workflow.services.board import meetings
from workflow.services.funding import budget_report, reports, uppfoljning
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.reminders import planner
from workflow.vocabulary import Role


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    """The SQL statements the app sends while inside."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(app.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(app.db.engine, "before_cursor_execute", note)


def _grown(app: App, clock: TravelClock, insatser: int) -> World:
    """A förbund with a frame for 2027 and `insatser` running insatser, each with a budget
    line, an approved delårsrapport with counts, an overdue one and an Uppföljning record.
    Straight into the tables: the figures are about reading, not about how they came."""
    world = build_world(app, clock)
    frame(world, 2027, 20_000, adopted=date(2026, 11, 20), reserve=1000, admin=500)
    now = clock()
    with app.db.transaction() as session:
        forbund = resolve_forbund(session, "test")
        for n in range(insatser):
            case = Insats(
                forbund_id=forbund.id,  # type: ignore[arg-type]
                number=n + 1,
                dnr=f"2026/{n + 1:03d}",
                title=f"Insats {n + 1}",
                inriktning="struktur" if n % 3 == 0 else "individ",
                start_date=date(2027, 1, 1),
                end_date=date(2028, 12, 31),
                state="pagaende",
                budget_requested={"2027": 100},
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            session.flush()
            session.add(
                BudgetLine(
                    forbund_id=forbund.id,  # type: ignore[arg-type]
                    insats_id=case.id,  # type: ignore[arg-type]
                    year=2027,
                    granted_tkr=100 + n,
                    decided_on=date(2026, 12, 1),
                    updated_at=now,
                )
            )
            agreement = Agreement(
                forbund_id=forbund.id,  # type: ignore[arg-type]
                insats_id=case.id,  # type: ignore[arg-type]
                decision_paragraph=f"§ {n + 1}",
                start_date=date(2027, 1, 1),
                end_date=date(2028, 12, 31),
                amounts={"2027": 100 + n},
                payment_terms="Helårsvis",
                status="undertecknat",
                created_at=now,
            )
            session.add(agreement)
            session.flush()
            for kind, end, due, status in (
                ("delar", date(2027, 6, 30), date(2027, 8, 31), "godkand"),
                ("helar", date(2027, 12, 31), date(2028, 1, 31), "vantar"),
            ):
                session.add(
                    Report(
                        forbund_id=forbund.id,  # type: ignore[arg-type]
                        insats_id=case.id,  # type: ignore[arg-type]
                        agreement_id=agreement.id,  # type: ignore[arg-type]
                        kind=kind,
                        period_start=date(2027, 1, 1),
                        period_end=end,
                        due_on=due,
                        status=status,
                        participants_women=n,
                        participants_men=n + 1,
                        updated_at=now,
                    )
                )
            session.add(
                UppfoljningRecord(
                    insats_id=case.id,  # type: ignore[arg-type]
                    forbund_id=forbund.id,  # type: ignore[arg-type]
                    external_ref=f"UF-{n}",
                    updated_at=now,
                )
            )
    clock.set(datetime(2028, 3, 1, 9, 0, tzinfo=STOCKHOLM))
    return world


READS: dict[str, Callable[[App], Any]] = {
    "budget report": lambda app: budget_report.build(app, years=[2027], forbund="test"),
    "budget page": lambda app: budget_report.build(app, years=[2027], forbund="test", insatser=2),
    "reports overdue": lambda app: reports.overdue(app, forbund="test"),
    "reports list": lambda app: reports.list_reports(app, forbund="test"),
    "reports page": lambda app: reports.reports_page(app, forbund="test", limit=500),
    "overdue page": lambda app: reports.overdue_page(app, forbund="test", limit=500),
    "uppföljning export": lambda app: uppfoljning.export_csv(app, year=2027, forbund="test"),
    "uppföljning page": lambda app: uppfoljning.overview(
        app, viewer_email=CHEF, forbund="test", limit=500
    ),
    "cases page": lambda app: cases.list_cases(app, forbund="test", limit=500),
    "review table": lambda app: reports.table(app, viewer_email=CHEF, forbund="test", limit=500),
    "review table, late, text": lambda app: reports.table(
        app, viewer_email=CHEF, forbund="test", groups=("forsenad",), text="Insats", limit=500
    ),
    "reminders page": lambda app: planner.list_reminders(app, forbund="test", limit=500),
}


def test_reports_and_the_budget_take_as_many_queries_for_30_insatser_as_for_3(
    db_url: str, tmp_path: Any
) -> None:
    counts: dict[str, list[int]] = {name: [] for name in READS}
    for size in (3, 30):
        clock = TravelClock(datetime(2026, 11, 1, 9, 0, tzinfo=STOCKHOLM))
        app = App.create(_settings_for(db_url, tmp_path, f"grown-{size}"), clock=clock)
        try:
            _grown(app, clock, size)
            for name, read in READS.items():
                read(app)  # once to warm what is not about the data (compiled SQL, caches)
                with statements(app) as seen:
                    read(app)
                counts[name].append(len(seen))
        finally:
            app.close()
    assert {name: c[0] for name, c in counts.items()} == {name: c[1] for name, c in counts.items()}


def _settings_for(db_url: str, tmp_path: Any, name: str) -> Any:
    """A clean database per measurement: a new SQLite file, or the PostgreSQL schema emptied."""
    import shutil

    from tests.conftest import _truncate_all
    from workflow.settings import load_settings

    if db_url.startswith("sqlite"):
        template = db_url.removeprefix("sqlite:///")
        path = tmp_path / f"{abs(hash(name))}.db"
        if not hasattr(_settings_for, "template"):
            shutil.copy(template, tmp_path / "clean.db")
            _settings_for.template = tmp_path / "clean.db"  # type: ignore[attr-defined]
        shutil.copy(_settings_for.template, path)  # type: ignore[attr-defined]
        return load_settings(database_url=f"sqlite:///{path}")
    _truncate_all(db_url)
    return load_settings(database_url=db_url)


def test_the_reports_read_the_same_figures_as_before(app: App, clock: TravelClock) -> None:
    _grown(app, clock, 3)
    [year] = budget_report.build(app, years=[2027], forbund="test").figures
    assert [a.granted_tkr for a in year.insatser] == [100, 101, 102]
    assert year.struktur_tkr == 100
    rows = uppfoljning.export_rows(app, year=2027, forbund="test")
    assert [(r[1], r[2], r[16], r[17]) for r in rows] == [
        ("2026/001", "UF-0", 0, 1),
        ("2026/002", "UF-1", 1, 2),
        ("2026/003", "UF-2", 2, 3),
    ]
    late = reports.overdue(app, forbund="test")
    assert [(r.ref, r.kind) for r in late] == [(f"2026/00{n}", "helar") for n in (1, 2, 3)]


def test_report_pages_follow_on_from_the_hint_with_nothing_lost_or_repeated(
    app: App, clock: TravelClock, db_url: str, capsys: Any
) -> None:
    _grown(app, clock, 5)
    for whole, paged in (
        (reports.list_reports(app, forbund="test"), reports.reports_page),
        (reports.overdue(app, forbund="test"), reports.overdue_page),
    ):
        ids: list[int] = []
        after: str | None = None
        while True:
            page = paged(app, forbund="test", after=after, limit=3)  # type: ignore[operator]
            assert len(page.items) <= 3
            ids += [r.id for r in page.items]
            if page.next_after is None:
                break
            after = page.next_after
        assert ids == [r.id for r in whole] and len(set(ids)) == len(ids) == len(whole)
    # The command line prints a page and, on stderr, the command that lists the next one.
    code, out, err = finsam(capsys, db_url, "reports", "list", "--limit", "4", "--json")
    first = [r["id"] for r in json.loads(out)]
    hint = err.strip().rpartition("finsam ")[2].split()
    assert code == 0 and hint[:4] == ["reports", "list", "--limit", "4"] and "--after" in hint
    code, out, err = finsam(capsys, db_url, *hint)
    second = [r["id"] for r in json.loads(out)]
    assert code == 0 and first + second == [r.id for r in reports.list_reports(app)][:8]


def _writes(app: App) -> tuple[int, ...]:
    with app.db.reading() as session:
        return (
            session.exec(select(func.count()).select_from(Reminder)).one(),
            session.exec(select(func.max(Reminder.id))).one() or 0,
            session.exec(select(func.max(Reminder.updated_at))).one() is not None,
            session.exec(select(func.count()).select_from(AuditEvent)).one(),
            session.exec(select(func.max(AuditChain.seq))).one() or 0,
            session.exec(select(func.count()).select_from(OutboxMessage)).one(),
        )


def test_listing_reminders_writes_nothing_and_a_changed_date_is_still_listed(
    app: App, clock: TravelClock
) -> None:
    from tests.funding_world import running

    world = build_world(app, clock)
    ref = running(world)
    before = _writes(app)
    with statements(app) as seen:
        listed = planner.list_reminders(app, forbund="test", limit=500).items
        planner.list_reminders(app, forbund="test", status="pending", limit=2)
    assert not [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert _writes(app) == before
    old_end = cases.get_case(app, ref=ref, forbund="test").end
    ends = [r for r in listed if r.rule == "insats_end" and r.status == "pending"]
    assert ends and {r.due_on for r in ends} == {old_end}
    # Who a pending reminder goes to, read without planning: the rule's roles and the owner.
    assert all(r.recipients == [CHEF, email(Role.PROJEKTAGARE)] for r in ends), ends

    def mine(rule: str, subject_ref: str | None = None) -> dict[str, set[date]]:
        found: dict[str, set[date]] = {}
        for r in planner.list_reminders(app, forbund="test", limit=500).items:
            if r.rule == rule and (subject_ref is None or r.subject_ref == subject_ref):
                found.setdefault(r.status, set()).add(r.due_on)
        return found

    # A new meeting has its kallelse reminder at once (no sweep ran); once the kallelse is
    # recorded as sent, the reminder is cancelled, again at once.
    day = local(clock(), STOCKHOLM).date() + timedelta(days=30)
    meeting = meetings.create_meeting(
        app,
        actor_email=email(Role.SEKRETERARE),
        starts=f"{day.isoformat()} 13:00",
        place="Kungälv",
        forbund="test",
    )
    assert mine("meeting_kallelse", day.isoformat()) == {"pending": {day}}
    meetings.record_kallelse_sent(
        app, ref=meeting.number, actor_email=email(Role.SEKRETERARE), forbund="test"
    )
    assert mine("meeting_kallelse", day.isoformat()) == {"cancelled": {day}}

    # The insats is to be changed (new period through beredning): it no longer runs to its
    # old end, and its end-of-insats reminders are cancelled by the change itself.
    world.fire(ref, "begar_andring", Role.PROJEKTAGARE, comment="Förlängning ett år")
    world.fire(
        ref,
        "bered_andring",
        Role.FORBUNDSCHEF,
        values={
            "end": date(old_end.year + 1, 12, 31).isoformat(),  # type: ignore[union-attr]
            "budget": {str(old_end.year + 1): "300"},  # type: ignore[union-attr]
        },
    )
    assert mine("insats_end", ref) == {"cancelled": {old_end}}


def test_people_and_meetings_page_through_everything_once_in_order(
    app: App, clock: TravelClock, db_url: str, capsys: Any
) -> None:
    from tests.support import finsam
    from workflow.services.board import views
    from workflow.services.organisation import people

    build_world(app, clock)
    everyone = []
    after = None
    while True:
        page = people.people(app, "test", after=after, limit=3)
        everyone += [p.email for p in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert len(everyone) == people.count_people(app, "test") == len(set(everyone))
    names = [p.name for p in people.people(app, "test", limit=500).items]
    assert names == sorted(names)

    for day in ("2026-03-10", "2026-05-12", "2027-01-14"):
        meetings.create_meeting(
            app,
            actor_email=email(Role.SEKRETERARE),
            starts=f"{day} 13:00",
            place="Kungälv",
            forbund="test",
        )
    first = views.list_meetings(app, forbund="test", limit=2)
    rest = views.list_meetings(app, forbund="test", after=first.next_after, limit=2)
    assert [m.number for m in first.items + rest.items] == [1, 2, 3]
    assert rest.next_after is None
    in_2026 = views.list_meetings(app, forbund="test", year=2026)
    assert [m.number for m in in_2026.items] == [1, 2]

    code, out, err = finsam(capsys, db_url, "people", "list", "--limit", "2", forbund="test")
    assert code == 0 and len(out.splitlines()) == 4
    assert err.startswith("Fler personer: ") and "--after " in err
    code, out, err = finsam(capsys, db_url, "meetings", "list", "--all", "--json", forbund="test")
    assert code == 0 and [m["number"] for m in json.loads(out)] == [1, 2, 3]
    code, out, err = finsam(capsys, db_url, "outbox", "list", "--json", forbund="test")
    assert code == 0 and json.loads(out) == []


def test_the_organisation_history_pages_newest_first_with_nothing_lost_or_repeated(
    app: App, clock: TravelClock, db_url: str, capsys: Any
) -> None:
    from workflow.services.organisation import admin, parties

    build_world(app, clock)
    for n in range(5):
        parties.create_party(
            app, actor_email=email(Role.ADMIN), kind="kommun", name=f"Kommun {n}", forbund="test"
        )
    whole = [c.seq for c in reversed(admin.history(app, "test", limit=500))]
    seqs: list[int] = []
    after: str | None = None
    while True:
        page = admin.history_page(app, "test", after=after, limit=2)
        seqs += [c.seq for c in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert len(whole) > 2 and seqs == whole
    code, _out, err = finsam(capsys, db_url, "forbund", "history", "test", "--limit", "2")
    assert code == 0 and "Fler ändringar: finsam forbund history" in err and "--after" in err
