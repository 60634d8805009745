"""The start page "Att göra": what waits on each person, as the lifecycle says."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import func, or_
from sqlmodel import col, select

from tests.support import TravelClock
from tests.web_support import BASE_URL, ClientFactory, WebClient
from workflow.app import App
from workflow.models import AuditEvent, Forbund, Insats, Person
from workflow.services import cases
from workflow.services.access.sessions import create_session
from workflow.services.cases.todo import todo_for
from workflow.services.demo.logins import DEMO_LOGINS, DemoLogin, demo_login
from workflow.vocabulary import Role
from workflow.web.deps import SESSION_COOKIE
from workflow.web.templating import NAV_ORDER, tkr

_ROW = re.compile(
    r'<tr data-ref="([^"]+)">\s*<td>.*?</td>\s*<td>.*?</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>',
    re.DOTALL,
)


@pytest.fixture
def signed_in(web: FastAPI, demo_app: App) -> Iterator[ClientFactory]:
    """`signed_in(role, forbund)`: a client with a live session of that demo login, made
    by the session service directly; logging in through the form (tests/test_web_core.py)
    costs an argon2 hash each, which many logins in one test would add up."""
    clients: list[WebClient] = []

    def make(role: Role | str, forbund: str = "akst") -> WebClient:
        login: DemoLogin = demo_login(role, forbund)
        with demo_app.db.transaction() as session:
            person_id = session.execute(
                select(col(Person.id))
                .join(Forbund, col(Forbund.id) == Person.forbund_id)
                .where(Forbund.slug == forbund, Person.email == login.email)
            ).scalar_one()
            token = create_session(demo_app, session, person_id, demo_app.clock())
        client = WebClient(web, base_url=BASE_URL)
        client.__enter__()
        clients.append(client)
        client.cookies.set(SESSION_COOKIE, token)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _section(page: str, heading_id: str) -> str | None:
    """The <section> labelled by this heading, or None when the page has none."""
    start = page.find(f'aria-labelledby="{heading_id}"')
    if start < 0:
        return None
    return page[start : page.index("</section>", start)]


def _waiting(page: str) -> dict[str, tuple[str, str]]:
    """ref -> (the steps shown, the since shown) in the page's "Väntar på dig"."""
    section = _section(page, "att-gora-rubrik")
    assert section is not None
    return {
        html.unescape(ref): (html.unescape(steps), html.unescape(since))
        for ref, steps, since in _ROW.findall(section)
    }


def _expected(app: App, forbund: str, email: str) -> dict[str, str]:
    """ref -> the steps the case page's service says this person may take (conditions
    aside), for every case they see where there is one."""
    expected = {}
    filters = cases.CaseFilter(viewer_email=email)
    for view in cases.iter_cases(app, forbund=forbund, filters=filters):
        steps = cases.steps_for(app, ref=view.ref, actor_email=email, forbund=forbund)
        mine = [step.label for step in steps if step.permitted]
        if mine:
            expected[view.ref] = "; ".join(mine)
    return expected


def test_every_demo_login_sees_exactly_the_cases_the_lifecycle_lets_them_act_on(
    signed_in: ClientFactory, demo_app: App
) -> None:
    someone_waits = set()
    for login in DEMO_LOGINS:
        page = signed_in(login.role, login.forbund).get("/")
        assert page.status_code == 200
        shown = {ref: steps for ref, (steps, _) in _waiting(page.text).items()}
        assert shown == _expected(demo_app, login.forbund, login.email), login
        if shown:
            someone_waits.add(login.role)
        else:
            assert "Inget väntar på dig just nu." in page.text
        # The förbundschef alone gets the kansli's overview; applicants get their own cases.
        kansli = _section(page.text, "kansli-rubrik")
        assert (kansli is not None) == (login.role == Role.FORBUNDSCHEF), login
        mine = _section(page.text, "mina-rubrik")
        assert (mine is not None) == (login.role in {Role.HANDLAGGARE, Role.PROJEKTAGARE})
    assert {Role.FORBUNDSCHEF, Role.SEKRETERARE, Role.PROJEKTAGARE} <= someone_waits


def test_the_start_page_says_since_when_a_case_waits_and_moves_it_when_it_moves(
    signed_in: ClientFactory, demo_app: App, web_clock: TravelClock
) -> None:
    before = _waiting(signed_in(Role.FORBUNDSCHEF).get("/").text)
    assert before["ide-7"] == (
        "Registrera ansökan (ger diarienummer); Sökande tar tillbaka ansökan",
        "1 november 2026 (väntat 30 dagar)",
    )
    web_clock.advance(days=2)  # (a session idle that long has ended: log in anew)
    registered = cases.fire(
        demo_app,
        ref="ide-7",
        trigger="registrera",
        actor_email=demo_login(Role.SEKRETERARE).email,
        forbund="akst",
    )
    assert registered.dnr is not None
    after = _waiting(signed_in(Role.FORBUNDSCHEF).get("/").text)
    assert "ide-7" not in after
    steps, since = after[registered.dnr]
    assert since == "3 december 2026 (i dag)" and "Lägg på beredning" in steps
    web_clock.advance(days=1)
    assert (
        _waiting(signed_in(Role.FORBUNDSCHEF).get("/").text)[registered.dnr][1]
        == "3 december 2026 (väntat 1 dag)"
    )


def test_what_has_waited_longest_in_its_state_comes_first(
    signed_in: ClientFactory, demo_app: App, web_clock: TravelClock
) -> None:
    chef = demo_login(Role.FORBUNDSCHEF).email
    todo = todo_for(demo_app, forbund="akst", viewer_email=chef, limit=100)
    for group in todo.groups:
        assert [w.since for w in group.cases] == sorted(w.since for w in group.cases), group
    inkommen = next(g for g in todo.groups if g.state == "inkommen")
    waited = inkommen.cases[0].case
    # An older idea (a lower id) is registered two days later: it comes in after the case that
    # has waited in "inkommen" since November, whatever its number.
    web_clock.advance(days=2)
    registered = cases.fire(
        demo_app,
        ref="ide-7",
        trigger="registrera",
        actor_email=demo_login(Role.SEKRETERARE).email,
        forbund="akst",
    )
    assert registered.id < waited.id
    first = registered.ref
    page = signed_in(Role.FORBUNDSCHEF).get("/").text
    start = page.index('aria-labelledby="att-gora-inkommen"')
    rows = _ROW.findall(page[start : page.index("</table>", start)])
    assert [html.unescape(ref) for ref, _, _ in rows] == [waited.ref, first]
    assert html.unescape(rows[-1][2]) == "3 december 2026 (i dag)"
    assert re.fullmatch(r"\d+ \w+ \d{4} \(väntat [\d\s]+ dagar\)", html.unescape(rows[0][2]))


def test_every_demo_case_entered_its_state_when_its_history_says(demo_app: App) -> None:
    # state_since is kept where the state changes (services/cases/fire.py); the history is
    # the record it must agree with (the backfill of migration 0023 reads it the same way).
    with demo_app.db.reading() as session:
        disagree = session.execute(
            select(col(Insats.id), Insats.state, Insats.state_since).where(
                Insats.state_since
                != func.coalesce(
                    select(func.max(AuditEvent.at))
                    .where(
                        AuditEvent.subject_kind == "insats",
                        AuditEvent.subject_id == Insats.id,
                        AuditEvent.to_state == Insats.state,
                        or_(
                            col(AuditEvent.from_state).is_(None),
                            AuditEvent.from_state != AuditEvent.to_state,
                        ),
                    )
                    .correlate(Insats)
                    .scalar_subquery(),
                    Insats.created_at,
                )
            )
        ).all()
        assert session.execute(select(func.count()).select_from(Insats)).scalar_one() > 10
    assert disagree == []


def test_the_kansli_overview_counts_every_state_with_a_step_for_the_kansli(
    signed_in: ClientFactory, demo_app: App
) -> None:
    page = signed_in(Role.FORBUNDSCHEF).get("/").text
    kansli = _section(page, "kansli-rubrik")
    assert kansli is not None
    rows = dict(
        re.findall(r'<a href="/arenden\?state=([a-z_]+)">[^<]*</a></td>\s*<td>(\d+)</td>', kansli)
    )
    counted: dict[str, int] = {}
    for view in cases.iter_cases(demo_app, forbund="akst"):
        counted[view.state] = counted.get(view.state, 0) + 1
    # On the agenda the protocol's steps wait on the sekreterare: a service's, still the kansli's.
    assert rows["pa_dagordning"] == str(counted["pa_dagordning"])
    assert "(görs i styrelsens protokoll)" in kansli
    assert {state: int(n) for state, n in rows.items()} == {
        state: n for state, n in counted.items() if state in rows
    }
    assert set(rows) >= {"ide", "inkommen", "under_beredning", "pagaende", "avslutas"}


def test_a_handlaggare_sees_their_ideas_and_a_projektagare_their_insatser(
    signed_in: ClientFactory, demo_app: App
) -> None:
    for role, heading in [(Role.HANDLAGGARE, "Dina idéer"), (Role.PROJEKTAGARE, "Dina insatser")]:
        login = demo_login(role)
        page = signed_in(role).get("/").text
        mine = _section(page, "mina-rubrik")
        assert mine is not None and heading in mine
        refs = re.findall(r'<tr data-ref="([^"]+)">', mine)
        visible = cases.iter_cases(
            demo_app, forbund="akst", filters=cases.CaseFilter(viewer_email=login.email)
        )
        # Their own are what they may see (actions.yaml see_case), the first ten in list order.
        assert refs == [view.ref for view in visible][:10] and refs


def test_a_large_state_is_counted_up_to_a_cap_and_says_so(
    signed_in: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflow.services.cases import todo

    # The cap keeps a count from reading a whole state's index; a small one shows its words.
    monkeypatch.setattr(todo, "COUNT_CAP", 2)
    page = signed_in(Role.FORBUNDSCHEF).get("/").text
    assert "Pågående (fler än 2)</h3>" in page and "Idé (2)</h3>" in page
    assert "Fler än " in page
    start = page.index('aria-labelledby="att-gora-pagaende"')
    pagaende = page[start : page.index("</table>", start)]
    assert len(re.findall(r"<tr data-ref=", pagaende)) == 6  # all shown; only the count stops


def test_the_forbundschefs_menu_follows_the_work_cases_board_funding_administration(
    signed_in: ClientFactory,
) -> None:
    page = signed_in(Role.FORBUNDSCHEF).get("/").text
    menu = page[page.index('aria-label="Huvudmeny"') : page.index("</nav>")]
    labels = [
        html.unescape(label) for label in re.findall(r'<a href="[^"]*"[^>]*>([^<]+)</a>', menu)
    ]
    assert labels == [label for label in NAV_ORDER if label in labels], (
        labels
    )  # in the order of the work, nothing left out of it
    assert labels[:3] == ["Att göra", "Ärenden", "Ny idé"] and len(labels) >= 10
    assert labels.index("Möten") < labels.index("Ekonomi") < labels.index("Utkorg")


def test_amounts_in_tkr_are_grouped_by_thousands_with_a_narrow_no_break_space() -> None:
    assert tkr(6340) == "6\u202f340" and tkr(750) == "750" and tkr(None) == ""
    assert tkr(1234567) == "1\u202f234\u202f567" and tkr(-6340) == "-6\u202f340"
    assert tkr("+ 6340") == "+ 6\u202f340" and tkr(12.5) == "12,5"
