""" "Ta med alla redo" on a board agenda: every case ready for the board and on no open agenda,
by diarienummer, chosen in one query (not a look-up per case, which grew with every case in
the agenda's states); more than a dagordning takes at once is refused with what to do, and
nothing is written. Both databases; the page's message on SQLite."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import select

from tests.meeting_support import DIRECTOR, board_meeting, recommended
from tests.support import World
from tests.test_read_paths import statements
from tests.test_web_meetings import _two_ready
from tests.web_support import ClientFactory
from workflow.app import App
from workflow.errors import BadInput
from workflow.models import AgendaItem, Insats
from workflow.services.board import agenda, views
from workflow.services.organisation.forbund import resolve_forbund
from workflow.vocabulary import Role


def _waiting_elsewhere(world: World, count: int, start: int, starts: str) -> None:
    """`count` cases on another meeting's agenda, not yet decided (state pa_dagordning), and
    as many still in beredning: none of them ready for a new agenda. Straight into the
    tables: they are what the choice reads past, not how cases get there."""
    other = board_meeting(world, starts, "Ale")
    now = world.clock()
    with world.app.db.transaction() as session:
        forbund = resolve_forbund(session, world.slug)
        for n in range(start, start + 2 * count):
            case = Insats(
                forbund_id=forbund.id,  # type: ignore[arg-type]
                number=1000 + n,
                dnr=f"2026/{900 - n:03d}",
                title=f"Väntande insats {n}",
                state="pa_dagordning" if n % 2 else "under_beredning",
                budget_requested={"2027": 100},
                state_since=now,
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            session.flush()
            if n % 2:
                session.add(
                    AgendaItem(
                        meeting_id=other.id,
                        section=1,
                        position=n + 1,
                        kind=agenda.CASE_ITEM,
                        title=case.title,
                        insats_id=case.id,
                        proposal="Styrelsen beslutar att bevilja",
                    )
                )


def _case_dnrs(app: App, meeting_number: int, slug: str) -> list[str]:
    view = views.get_meeting(app, ref=meeting_number, forbund=slug)
    return [item.dnr for item in view.items if item.dnr]


def test_all_ready_cases_go_on_the_agenda_by_dnr_and_none_of_another_open_agenda(
    world: World,
) -> None:
    world.clock.set(date(2026, 4, 10))
    ready = [recommended(world, title=f"Insats {n}") for n in range(3)]
    _waiting_elsewhere(world, 4, 0, "2026-06-12 13:00")
    meeting = board_meeting(world, "2026-04-17 13:00", "Kungälv")
    built = agenda.build_agenda(
        world.app, ref=meeting.number, actor_email=DIRECTOR, forbund=world.slug
    )
    assert [i.dnr for i in built.items if i.dnr] == sorted(ready)
    assert built.items[0].title == "Mötets öppnande"
    assert {world.show(ref).state for ref in ready} == {"pa_dagordning"}
    # On an agenda not yet decided, they are ready for no other.
    assert agenda.ready_cases(world.app, forbund=world.slug).items == []


def test_choosing_the_ready_cases_takes_as_many_queries_for_many_cases_as_for_few(
    world: World,
) -> None:
    """Cases in the agenda's states cost nothing each when they are not ready: the first
    agenda is built with a few waiting on another agenda, the second with many more (and the
    first agenda's own), each taking two newly ready cases."""
    world.clock.set(date(2026, 4, 10))
    counts = []
    for round_, waiting in enumerate((2, 20)):
        ready = [recommended(world, title=f"Insats {round_}-{n}") for n in range(2)]
        _waiting_elsewhere(world, waiting, 100 * round_, f"2026-0{7 + round_}-10 13:00")
        meeting = board_meeting(world, f"2026-0{5 + round_}-0{1 + round_} 13:00", "Kungälv")
        with statements(world.app) as seen:
            built = agenda.build_agenda(
                world.app, ref=meeting.number, actor_email=DIRECTOR, forbund=world.slug
            )
        assert [i.dnr for i in built.items if i.dnr] == sorted(ready)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


def test_more_ready_cases_than_an_agenda_takes_are_refused_with_what_to_do(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # [meetings] max_ready_on_agenda, as a förbund would set it in config/finsam.toml.
    monkeypatch.setattr(world.app.settings.meetings, "max_ready_on_agenda", 2)
    world.clock.set(date(2026, 4, 10))
    ready = [recommended(world, title=f"Insats {n}") for n in range(3)]
    meeting = board_meeting(world, "2026-04-17 13:00", "Kungälv")
    with pytest.raises(BadInput, match="fler än 2 ärenden är redo") as refused:
        agenda.build_agenda(world.app, ref=meeting.number, actor_email=DIRECTOR, forbund=world.slug)
    assert "välj vilka styrelsen ska ta upp" in str(refused.value)
    assert "--add DNR" in str(refused.value) and "\n" not in str(refused.value)
    # Nothing written: no standard items, every case still waiting for an agenda.
    with world.app.db.reading() as session:
        assert (
            session.exec(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)).all() == []
        )
    assert {world.show(ref).state for ref in ready} == {"rekommenderad"}
    # The förbundschef chooses: the agenda without all ready, then the chosen case.
    agenda.build_agenda(
        world.app,
        ref=meeting.number,
        actor_email=DIRECTOR,
        include_ready=False,
        forbund=world.slug,
    )
    agenda.build_agenda(
        world.app, ref=meeting.number, actor_email=DIRECTOR, add=[ready[1]], forbund=world.slug
    )
    assert _case_dnrs(world.app, meeting.number, world.slug) == [ready[1]]
    # As many as it takes go on at once.
    later = board_meeting(world, "2026-05-15 13:00", "Ale")
    built = agenda.build_agenda(
        world.app, ref=later.number, actor_email=DIRECTOR, forbund=world.slug
    )
    assert [i.dnr for i in built.items if i.dnr] == sorted([ready[0], ready[2]])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_meeting_page_says_to_choose_when_too_many_are_ready(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_app.settings.meetings, "max_ready_on_agenda", 1)
    _two_ready(demo_app)  # two ready, where an agenda takes one
    year = views.year_meetings(demo_app, year=2026, forbund="akst")
    coming = next(m for m in year if not m.items)
    url = f"/moten/{coming.id}"
    chef = client_as(Role.FORBUNDSCHEF)
    page = chef.get(url).text
    # The page says so before anyone tries, and leaves "Ta med alla" unticked.
    assert "Fler än ett ärende är redo" in page
    assert re.search(r'id="dagordning-redo"[^>]*checked', page) is None
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    refused = chef.post_form(
        f"{url}/dagordning", {"version": version.group(1), "include_ready": "ja"}, token_from=url
    )
    assert refused.status_code == 400, refused.text
    assert "välj vilka styrelsen ska ta upp" in refused.text
    assert "Ställ upp dagordningen med standardpunkter" in refused.text
