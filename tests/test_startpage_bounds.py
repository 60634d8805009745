"""The start page and the working boards stay bounded as a förbund grows (issue 15): they read
a fixed number of SQL statements whatever the number of cases, show the first cases of a long
list with a link to the rest, and count right.

The cases are written straight into the tables (as tests/test_read_paths.py `_grown` does):
the figures are about reading, not about how the cases came to be in their states."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from sqlmodel import select

from tests.support import TravelClock, World, build_world, email
from tests.test_read_paths import statements
from tests.web_support import ClientFactory
from workflow.app import App
from workflow.clock import STOCKHOLM
from workflow.models import (
    AgendaItem,
    BeredningNote,
    Insats,
    Meeting,
    Person,
    PolicyDocument,
    Recommendation,
)
from workflow.services.board import agenda, beredning, meetings, overview
from workflow.services.cases import todo
from workflow.services.demo.logins import demo_login
from workflow.services.organisation.forbund import resolve_forbund
from workflow.services.policies import documents
from workflow.vocabulary import Role

CHEF = email(Role.FORBUNDSCHEF)
# The states the start page and the boards list, each grown by the same number of cases.
GROWN_STATES = ("ide", "inkommen", "under_beredning", "rekommenderad", "pa_dagordning", "pagaende")


def _address(role: Role, forbund: str) -> str:
    """The person in this role: the test world's, or the demo's login (akst)."""
    return demo_login(role, forbund).email if forbund == "akst" else email(role, forbund)


def _grow(app: App, clock: TravelClock, forbund: str, each: int) -> list[int]:
    """`each` more cases in every state of GROWN_STATES, the ideas submitted by the
    handläggare and the insatser owned by the projektägare, waiting since ever later days;
    every case in beredning with a note and a recommendation, every recommended case with
    two (the later one is the one shown). Returns the new cases' ids."""
    now = clock()
    with app.db.transaction() as session:
        organisation = resolve_forbund(session, forbund)
        people: dict[str, int] = {
            p.email: p.id  # type: ignore[misc]
            for p in session.exec(select(Person).where(Person.forbund_id == organisation.id))
        }
        handlaggare = people[_address(Role.HANDLAGGARE, forbund)]
        owner = people[_address(Role.PROJEKTAGARE, forbund)]
        chef = people[_address(Role.FORBUNDSCHEF, forbund)]
        first = (
            session.exec(
                select(Insats.number)
                .where(Insats.forbund_id == organisation.id)
                .order_by(Insats.number.desc())  # type: ignore[union-attr]
            ).first()
            or 0
        )
        ids = []
        for n in range(each * len(GROWN_STATES)):
            number = first + n + 1
            state = GROWN_STATES[n % len(GROWN_STATES)]
            case = Insats(
                forbund_id=organisation.id,  # type: ignore[arg-type]
                number=number,
                dnr=None if state == "ide" else f"2099/{number:05d}",
                title=f"Växande {state} {number}",
                inriktning="individ",
                state=state,
                submitted_by_id=handlaggare,
                project_owner_id=owner if state == "pagaende" else None,
                budget_requested={"2027": 100},
                created_at=now,
                updated_at=now,
                state_since=now - timedelta(days=1000 - number),
            )
            session.add(case)
            session.flush()
            ids.append(case.id)
            if state == "under_beredning":
                session.add(
                    BeredningNote(
                        insats_id=case.id,  # type: ignore[arg-type]
                        author_id=chef,
                        text=f"Anteckning om {number}",
                        created_at=now,
                    )
                )
            if state in ("under_beredning", "rekommenderad"):
                for outcome in ("komplettera", "avsla" if number % 2 else "bevilja"):
                    session.add(
                        Recommendation(
                            forbund_id=organisation.id,  # type: ignore[arg-type]
                            insats_id=case.id,  # type: ignore[arg-type]
                            outcome=outcome,
                            motivation=f"Motivering {number}",
                            missing_items=[],
                            recorded_by_id=chef,
                            recorded_at=now,
                        )
                    )
                    session.flush()
    return ids  # type: ignore[return-value]


def _policies(app: App, clock: TravelClock, forbund: str, count: int) -> None:
    """Styrdokument owned by different people, one overdue for renewal."""
    now = clock()
    with app.db.transaction() as session:
        organisation = resolve_forbund(session, forbund)
        people = session.exec(select(Person).where(Person.forbund_id == organisation.id)).all()
        known = len(
            session.exec(
                select(PolicyDocument.id).where(PolicyDocument.forbund_id == organisation.id)
            ).all()
        )
        for n in range(known, known + count):
            session.add(
                PolicyDocument(
                    forbund_id=organisation.id,  # type: ignore[arg-type]
                    kind="policy",
                    title=f"Policy {n}",
                    state="faststalld",
                    renewal_years=1,
                    renew_by=date(2020, 1, 1) if n == 0 else date(2099, 1, 1),
                    owner_id=people[n % len(people)].id,
                    created_at=now,
                    updated_at=now,
                )
            )


def _reads(forbund: str) -> dict[str, Any]:
    def who(role: Role) -> str:
        return email(role, forbund)

    f = forbund
    return {
        "todo chef": lambda app: todo.todo_for(app, forbund=f, viewer_email=who(Role.FORBUNDSCHEF)),
        "todo sekreterare": lambda app: todo.todo_for(
            app, forbund=f, viewer_email=who(Role.SEKRETERARE)
        ),
        "mine handläggare": lambda app: todo.mine_for(
            app, forbund=f, viewer_email=who(Role.HANDLAGGARE)
        ),
        "mine projektägare": lambda app: todo.mine_for(
            app, forbund=f, viewer_email=who(Role.PROJEKTAGARE)
        ),
        "kansli": lambda app: todo.kansli_overview(
            app, forbund=f, viewer_email=who(Role.FORBUNDSCHEF)
        ),
        "board member": lambda app: overview.for_member(
            app, forbund=f, viewer_email=who(Role.STYRELSE_ORDFORANDE)
        ),
        "beredning": lambda app: beredning.beredning_board(
            app, viewer_email=email(Role.FORBUNDSCHEF, forbund), forbund=forbund
        ),
        "ready": lambda app: agenda.ready_cases(app, forbund=forbund),
        "policies": lambda app: documents.list_policies(app, forbund=forbund),
        "policy notice": lambda app: documents.start_notice(
            app, forbund=forbund, roles={"forbundschef"}
        ),
    }


def _count(app: App, reads: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for name, read in reads.items():
        read(app)  # once to warm what is not about the data (compiled SQL, caches)
        with statements(app) as seen:
            read(app)
        counts[name] = len(seen)
    return counts


def _meetings(world: World, days: list[int]) -> None:
    """Board meetings that many days ahead, the first with an agenda item."""
    start = world.clock().astimezone(STOCKHOLM).date()
    for n, day in enumerate(days):
        view = meetings.create_meeting(
            world.app,
            actor_email=email(Role.SEKRETERARE),
            starts=f"{(start + timedelta(days=day)).isoformat()} 13:00",
            place="Kungälv",
            forbund="test",
        )
        if n == 0:
            with world.app.db.transaction() as session:
                session.add(AgendaItem(meeting_id=view.id, kind="standard", title="Öppnande"))


def test_the_start_page_and_the_boards_read_as_many_statements_for_many_cases_as_for_few(
    app: App, clock: TravelClock
) -> None:
    world = build_world(app, clock)
    _grow(app, clock, "test", 2)
    _policies(app, clock, "test", 2)
    _meetings(world, [10, 20])
    reads = _reads("test")
    few = _count(app, reads)
    # The ordförande is called to the meetings: the board's section is there to measure.
    assert overview.for_member(app, forbund="test", viewer_email=email(Role.STYRELSE_ORDFORANDE))
    # Past every list's cut (10 a state on the start page, 20 on the boards) and then some.
    _grow(app, clock, "test", 45)
    _policies(app, clock, "test", 6)
    _meetings(world, [30, 40, 50, 60, 70])
    many = _count(app, reads)
    _grow(app, clock, "test", 45)
    _policies(app, clock, "test", 4)
    _meetings(world, [80, 90])
    more = _count(app, reads)
    # A list of one page reads no more than a short one (the case list reads the ideas after
    # the registered cases only when the page is not full) and never grows after that.
    assert more == many and all(many[name] <= few[name] for name in few), (few, many)
    assert max(many.values()) <= 20, many


def test_the_first_cases_are_shown_and_counted_right_with_the_rest_in_the_case_list(
    app: App, clock: TravelClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world(app, clock)
    _grow(app, clock, "test", 25)
    chef = {"forbund": "test", "viewer_email": CHEF}
    waiting = todo.todo_for(app, **chef, limit=10)
    groups = {g.state: g for g in waiting.groups}
    assert groups["under_beredning"].count == 25 and not groups["under_beredning"].capped
    assert len(groups["under_beredning"].cases) == 10 and groups["under_beredning"].more
    # What has waited longest first: the lowest numbers entered their state first.
    numbers = [int(w.case.title.rsplit(" ", 1)[1]) for w in groups["under_beredning"].cases]
    assert numbers == sorted(numbers)
    kansli = {k.state: k.count for k in todo.kansli_overview(app, **chef) or []}
    assert kansli["inkommen"] == kansli["under_beredning"] == 25
    mine = todo.mine_for(app, forbund="test", viewer_email=email(Role.HANDLAGGARE), limit=10)
    assert mine is not None and mine.count == 25 * len(GROWN_STATES) and mine.more
    # Counted up to the cap: "fler än".
    monkeypatch.setattr(todo, "COUNT_CAP", 20)
    mine = todo.mine_for(app, forbund="test", viewer_email=email(Role.HANDLAGGARE), limit=10)
    assert mine is not None and (mine.count, mine.capped) == (20, True)
    groups = {g.state: g for g in todo.todo_for(app, **chef, limit=10).groups}
    assert (groups["under_beredning"].count, groups["under_beredning"].capped) == (20, True)


def test_the_ready_cases_are_the_first_by_dnr_on_no_open_agenda_with_counts_per_state(
    app: App, clock: TravelClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world(app, clock)
    ids = _grow(app, clock, "test", 30)
    meeting = meetings.create_meeting(
        app,
        actor_email=email(Role.SEKRETERARE),
        starts="2027-03-01 13:00",
        place="Kungälv",
        forbund="test",
    )
    with app.db.transaction() as session:
        cases = {c.id: c for c in session.exec(select(Insats).where(Insats.id.in_(ids)))}  # type: ignore[union-attr]
        recommended = sorted(
            (c for c in cases.values() if c.state == "rekommenderad"), key=lambda c: c.dnr or ""
        )
        # The first three recommended cases are already items of an open agenda.
        for position, case in enumerate(recommended[:3]):
            session.add(
                AgendaItem(
                    position=position,
                    meeting_id=meeting.id,
                    kind="arende",
                    title=case.title,
                    insats_id=case.id,
                )
            )
        # Cases "på dagordningen" on no agenda (one removed, a meeting never held) are ready too.
        without_item = {c.dnr for c in cases.values() if c.state == "pa_dagordning"}
    ready = agenda.ready_cases(app, forbund="test")
    counts = {s.state: (s.count, s.capped) for s in ready.states}
    assert counts == {"rekommenderad": (27, False), "pa_dagordning": (30, False)}
    expected = sorted([c.dnr or "" for c in recommended[3:]] + [d or "" for d in without_item])
    assert [c.dnr for c in ready.items] == expected[:20] and ready.more
    shown = {c.dnr: c for c in ready.items}
    for case in recommended[3:]:
        if case.dnr in shown:  # the latest recommendation, not the first
            label = "avslå" if (case.number or 0) % 2 else "bevilja"
            assert shown[case.dnr].recommendation_label == label
    everything = agenda.ready_cases(app, forbund="test", limit=100).items
    assert [c.dnr for c in everything] == expected and len(expected) == 57
    monkeypatch.setattr(agenda, "COUNT_CAP", 10)
    capped = agenda.ready_cases(app, forbund="test")
    assert {s.state: (s.count, s.capped) for s in capped.states} == {
        "rekommenderad": (10, True),
        "pa_dagordning": (10, True),
    }


def test_the_beredning_board_pages_through_every_case_once_with_its_own_notes(
    app: App, clock: TravelClock
) -> None:
    build_world(app, clock)
    ids = set(_grow(app, clock, "test", 45))
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        board = beredning.beredning_board(app, viewer_email=CHEF, forbund="test", after=after)
        pages += 1
        assert len(board.cases) <= beredning.BOARD_PAGE and board.count == 45
        for item in board.cases:
            number = item.case.title.rsplit(" ", 1)[1]
            assert [n.text for n in item.beredning.notes] == [f"Anteckning om {number}"]
            assert item.beredning.recommendations[0].outcome == "komplettera"
            assert item.case.id in ids and item.case.state == "under_beredning"
            seen.append(item.case.ref)
        if board.next_after is None:
            break
        after = board.next_after
    assert pages == 3 and len(seen) == len(set(seen)) == 45 and seen == sorted(seen)


# -- the pages ------------------------------------------------------------------------------


def _akst(demo_app: App) -> TravelClock:
    return TravelClock(datetime(2026, 12, 1, 9, 0, tzinfo=STOCKHOLM))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_pages_show_the_first_cases_and_link_to_the_rest(
    client_as: ClientFactory, demo_app: App
) -> None:
    _grow(demo_app, _akst(demo_app), "akst", 30)
    chef = client_as(Role.FORBUNDSCHEF)

    # The start page: each state's first ten, its count, and the case list of the state.
    start = chef.get("/")
    assert start.status_code == 200
    heading = re.search(r'id="att-gora-under_beredning">[^<(]*\((\d+)\)', start.text)
    board = beredning.beredning_board(
        demo_app, viewer_email=_address(Role.FORBUNDSCHEF, "akst"), forbund="akst"
    )
    assert heading is not None and int(heading.group(1)) == board.count
    assert '/arenden?state=under_beredning">Visa alla' in start.text
    listed = chef.get("/arenden?state=under_beredning")
    assert listed.status_code == 200 and "Växande under_beredning" in listed.text

    # The beredning page: 20 cases a page, Nästa sida to the rest, nothing repeated.
    refs: list[str] = []
    url: str | None = "/beredning"
    while url:
        page = chef.get(url)
        assert page.status_code == 200
        shown = re.findall(r'<span class="case-ref">([^<]+)</span>', page.text)
        assert len(shown) <= beredning.BOARD_PAGE
        refs += shown
        found = re.search(r'<a href="([^"]+)" rel="next">Nästa sida</a>', page.text)
        url = unescape(found.group(1)) if found else None
        if refs and len(refs) > beredning.BOARD_PAGE:
            assert "Första sidan" in page.text
    assert len(refs) == len(set(refs)) == board.count > beredning.BOARD_PAGE

    # A note written on the second page comes back to the second page.
    second = chef.get("/beredning")
    cursor = unescape(re.search(r'href="/beredning\?efter=([^"]+)"', second.text).group(1))  # type: ignore[union-attr]
    page2 = chef.get(f"/beredning?efter={cursor}")
    ref = re.search(r'<span class="case-ref">([^<]+)</span>', page2.text).group(1)  # type: ignore[union-attr]
    member = client_as(Role.BEREDNINGSGRUPP)
    done = member.post_form(
        "/beredning/anteckning",
        {"ref": ref, "text": "Andra sidan.", "efter": cursor},
        token_from=f"/beredning?efter={cursor}",
        follow_redirects=False,
    )
    assert done.status_code == 303 and "efter=" in done.headers["location"]
    assert "Andra sidan." in member.get(done.headers["location"]).text
    assert chef.get("/beredning?efter=inte-en-sida").status_code == 400

    # A board meeting's page: the first 20 ready cases and the case list of each state.
    with demo_app.db.reading() as session:
        organisation = resolve_forbund(session, "akst")
        ids = [
            m.id for m in session.exec(select(Meeting).where(Meeting.forbund_id == organisation.id))
        ]
    ready = agenda.ready_cases(demo_app, forbund="akst")
    assert ready.more
    for meeting_id in ids:
        page = chef.get(f"/moten/{meeting_id}")
        if "Ärenden redo för beslut" in page.text:
            break
    else:
        pytest.fail("no meeting page lists the ready cases")
    assert page.text.count("Lägg på dagordningen<span") == len(ready.items) == agenda.READY_SHOWN
    assert f"de första {agenda.READY_SHOWN} av {ready.count}" in page.text
    for state in ready.states:
        assert f'/arenden?state={state.state}">Visa alla' in page.text
