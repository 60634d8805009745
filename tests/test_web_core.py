"""The web's front door: login and logout, sessions, CSRF, headers, health, Swedish dates."""

from __future__ import annotations

import inspect
import io
from datetime import date, datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.support import TravelClock
from tests.web_support import ClientFactory, WebClient
from workflow.app import App
from workflow.channel import acting_through
from workflow.clock import STOCKHOLM
from workflow.models import AuditEvent, WebSession
from workflow.services.access import passwords
from workflow.services.cases.audit import verify_all
from workflow.services.demo.logins import demo_login
from workflow.services.organisation.people import deactivate_person
from workflow.vocabulary import Role
from workflow.web.deps import SESSION_COOKIE
from workflow.web.templating import datum, kort_datum, tid


def _events(app: App, trigger: str) -> list[AuditEvent]:
    with app.db.reading() as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.trigger == trigger).order_by(AuditEvent.id)
            ).scalars()
        )


def _sessions(app: App) -> int:
    with app.db.reading() as session:
        return session.execute(select(func.count()).select_from(WebSession)).scalar_one()


def test_a_page_needs_a_login_and_comes_back_after_it(anonymous: WebClient) -> None:
    first = anonymous.get("/", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/logga-in?nasta=/"
    token = anonymous.csrf("/logga-in?nasta=/")
    answer = anonymous.post(
        "/logga-in",
        data={
            "email": demo_login(Role.HANDLAGGARE).email,
            "password": "demo-finsam-2026",
            "csrf_token": token,
            "nasta": "/",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie
    page = anonymous.get("/")
    assert page.status_code == 200
    assert "Att göra" in page.text and "Sofia Persson" in page.text


def test_login_is_an_audit_event_through_the_web_and_the_chain_still_holds(
    client_as: ClientFactory, demo_app: App
) -> None:
    client_as(Role.FORBUNDSCHEF, through_form=True)
    (event,) = _events(demo_app, "logga_in")
    assert event.channel == "web" and event.actor_email == "chef@akst.example"
    assert all(report.ok for report in verify_all(demo_app))


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(
    anonymous: WebClient, demo_app: App
) -> None:
    wrong = anonymous.login(demo_login(Role.SEKRETERARE).email, "inte-lösenordet")
    unknown = anonymous.login("ingen.alls@akst.example", "inte-lösenordet")
    assert wrong.status_code == unknown.status_code == 401
    assert _message(wrong.text) == _message(unknown.text)
    assert "fel e-postadress eller lösenord" in _message(wrong.text).lower()
    # Only the known account's förbund has an event; the unknown one belongs to none.
    (event,) = _events(demo_app, "inloggning_nekad")
    assert event.subject_ref == "sekreterare@akst.example" and event.channel == "web"


def _message(page: str) -> str:
    start = page.index('role="alert"')
    return page[start : page.index("</div>", start)]


def test_logout_ends_the_session_on_the_server(client_as: ClientFactory, demo_app: App) -> None:
    client = client_as(Role.SEKRETERARE, through_form=True)
    stolen = client.cookies[SESSION_COOKIE]
    assert _sessions(demo_app) == 1
    answer = client.post_form("/logga-ut", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/logga-in?utloggad=1"
    assert _sessions(demo_app) == 0
    # The old cookie, replayed, no longer opens anything.
    client.cookies.set(SESSION_COOKIE, stolen, domain="testserver.local", path="/")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert [e.channel for e in _events(demo_app, "logga_ut")] == ["web"]


def test_each_login_gets_a_new_session_id(anonymous: WebClient) -> None:
    anonymous.cookies.set(SESSION_COOKIE, "planted", domain="testserver.local", path="/")
    answer = anonymous.login(demo_login(Role.ADMIN).email)
    assert answer.cookies[SESSION_COOKIE] != "planted"


def test_a_session_ends_when_idle_and_at_its_absolute_limit(
    client_as: ClientFactory, web_clock: TravelClock
) -> None:
    idle = client_as(Role.HANDLAGGARE)
    web_clock.advance(minutes=59)
    assert idle.get("/").status_code == 200
    web_clock.advance(minutes=59)  # active a minute before: the idle time counts from there
    assert idle.get("/").status_code == 200
    web_clock.advance(minutes=61)
    assert idle.get("/", follow_redirects=False).status_code == 303

    busy = client_as(Role.HANDLAGGARE)
    for _ in range(13):  # 11 hours 55 minutes, never idle
        web_clock.advance(minutes=55)
        assert busy.get("/").status_code == 200
    web_clock.advance(minutes=55)  # over 12 hours since login, however busy
    assert busy.get("/", follow_redirects=False).status_code == 303


def test_deactivating_a_person_ends_their_sessions_at_once(
    client_as: ClientFactory, demo_app: App
) -> None:
    client = client_as(Role.PROJEKTAGARE)
    assert client.get("/").status_code == 200
    deactivate_person(demo_app, actor_email="admin@akst.example", email="projektagare@akst.example")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert _sessions(demo_app) == 0
    again = WebClient(client.app, base_url="https://testserver").login("projektagare@akst.example")
    assert again.status_code == 401


def test_a_post_without_the_csrf_token_is_refused(client_as: ClientFactory, demo_app: App) -> None:
    client = client_as(Role.SEKRETERARE)
    forged = client.post("/logga-ut", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert "Formuläret kunde inte skickas" in forged.text
    wrong = client.post("/logga-ut", data={"csrf_token": "gissat"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert _sessions(demo_app) == 1
    # htmx sends the token as a header instead.
    token = client.csrf("/")
    done = client.post("/logga-ut", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert done.status_code == 303 and _sessions(demo_app) == 0


def test_the_login_form_itself_needs_its_token(anonymous: WebClient) -> None:
    answer = anonymous.post(
        "/logga-in",
        data={"email": demo_login(Role.ADMIN).email, "password": "demo-finsam-2026"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and SESSION_COOKIE not in answer.cookies


def test_security_headers_are_on_pages_errors_and_static_files(anonymous: WebClient) -> None:
    for path, status in [("/logga-in", 200), ("/finns-inte", 404), ("/static/finsam.css", 200)]:
        answer = anonymous.get(path)
        assert answer.status_code == status
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_an_unknown_page_is_a_swedish_404_with_the_footer(anonymous: WebClient) -> None:
    answer = anonymous.get("/finns-inte")
    assert answer.status_code == 404 and "Sidan finns inte" in answer.text
    assert 'href="/tillganglighet"' in answer.text and 'lang="sv"' in answer.text


def test_health_and_readiness(anonymous: WebClient) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"


def test_no_inline_script_in_any_template() -> None:
    from workflow.web.templating import TEMPLATES_DIR

    for template in TEMPLATES_DIR.rglob("*.j2"):
        source = template.read_text(encoding="utf-8")
        for tag in source.split("<script")[1:]:
            assert "src=" in tag.split(">")[0], f"inline script in {template.name}"
        assert " on" + "click=" not in source and "style=" not in source, template.name


def test_the_rehash_happens_at_login_when_parameters_change(
    client_as: ClientFactory, demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher, extract_parameters
    from sqlalchemy import update

    from workflow.models import PasswordCredential, Person
    from workflow.settings import PasswordHashSettings

    # The production parameters (the tests otherwise run with cheap ones, tests/conftest.py):
    # the shipped defaults are argon2-cffi's, RFC 9106's low-memory profile.
    monkeypatch.setattr(demo_app.settings.web, "password_hash", PasswordHashSettings())
    production = PasswordHasher()

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("demo-finsam-2026")
    with demo_app.db.transaction() as session:
        person_id = session.execute(
            select(Person.id).where(Person.email == "admin@akst.example")
        ).scalar_one()
        session.execute(
            update(PasswordCredential)
            .where(PasswordCredential.person_id == person_id)
            .values(password_hash=weak)
        )
    client_as(Role.ADMIN, through_form=True)
    with demo_app.db.reading() as session:
        now = session.get(PasswordCredential, person_id)
        assert now is not None and now.password_hash != weak
        assert not passwords.needs_rehash(now.password_hash)
        assert not passwords.needs_rehash(now.password_hash, demo_app)
        assert extract_parameters(now.password_hash) == production._parameters
        assert (production.time_cost, production.memory_cost) == (3, 65536)


def test_the_shipped_password_cost_is_rfc_9106_and_the_tests_run_cheaper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workflow.settings import load_settings

    tests_cost = load_settings().web.password_hash
    assert (tests_cost.time_cost, tests_cost.memory_cost, tests_cost.parallelism) == (1, 64, 1)
    for name in ("TIME_COST", "MEMORY_COST", "PARALLELISM"):
        monkeypatch.delenv(f"FINSAM_WEB__PASSWORD_HASH__{name}")
    shipped = load_settings().web.password_hash
    assert (shipped.time_cost, shipped.memory_cost, shipped.parallelism) == (3, 65536, 4)


def test_the_cli_sets_a_password_and_events_record_their_channel(
    demo_app: App, anonymous: WebClient
) -> None:
    with acting_through("cli"):
        passwords.set_password(
            demo_app, email="chef@akst.example", password="ett nytt lösen", by="test"
        )
    assert anonymous.login("chef@akst.example", "ett nytt lösen").status_code == 303
    changed = [e for e in _events(demo_app, "byt_losenord") if e.channel == "cli"]
    assert len(changed) == 1 and changed[0].actor_email == "test"


def test_swedish_dates_and_times() -> None:
    evening = datetime(2026, 12, 13, 23, 30, tzinfo=STOCKHOLM)
    assert datum(evening) == "13 december 2026"
    assert kort_datum(date(2026, 1, 5)) == "2026-01-05"
    assert tid(datetime(2026, 6, 1, 9, 0, tzinfo=STOCKHOLM)) == "kl. 9.00"
    # Stored in UTC, shown in Stockholm: 23.30 UTC on 31 December is already the new year.
    from datetime import UTC

    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert datum(late) == "1 januari 2027" and tid(late) == "kl. 0.30"


def test_finsam_people_password_from_stdin_then_the_web_login_works(
    demo_app: App,
    demo_url: str,
    anonymous: WebClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.support import finsam

    monkeypatch.setattr("sys.stdin", io.StringIO("ett helt nytt lösen\n"))
    code, out, err = finsam(capsys, demo_url, "people", "password", "chef@akst.example", "--stdin")
    assert code == 0, err
    assert "Nytt lösenord satt för Maria Lindqvist" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("kort\n"))
    code, _, err = finsam(capsys, demo_url, "people", "password", "chef@akst.example", "--stdin")
    assert code == 2 and err.startswith("fel: lösenordet är för kort")
    assert anonymous.login("chef@akst.example", "ett helt nytt lösen").status_code == 303
    changed = [e for e in _events(demo_app, "byt_losenord") if e.channel == "cli"]
    assert [e.actor_email for e in changed] == ["finsam people password"]


def test_the_accessibility_statement_says_what_the_law_asks(anonymous: WebClient) -> None:
    page = anonymous.get("/tillganglighet").text
    for part in (
        "delvis förenlig",
        "Innehåll som inte är tillgängligt",
        "Hur vi testat",
        "Senaste bedömningen gjordes den",
        "uppdaterades senast den",
        "kansliet@example.se",
        "https://www.digg.se/tdosanmalan",
    ):
        assert part in page, part


# Routes that await something outside the database (the OpenID provider, over httpx) and hand
# their own database work to the thread pool.
AWAITING_ROUTES = {"oidc_start", "oidc_callback"}


def test_no_route_runs_its_database_work_on_the_event_loop(web: FastAPI) -> None:
    """An `async def` route runs on uvicorn's event loop: a database call there stalls every
    other request of the process while it waits. Routes are plain functions (the form comes
    parsed through deps.FormDep), so FastAPI runs them in its thread pool."""
    from workflow.web.app import route_table

    on_the_loop = sorted(
        info.route.name
        for info in route_table(web)
        if inspect.iscoroutinefunction(info.route.endpoint)
        and info.route.name not in AWAITING_ROUTES
    )
    assert on_the_loop == [], f"async routes doing blocking work: {on_the_loop}"


def test_a_refusal_on_a_page_leaves_off_the_command_line_way_out() -> None:
    from workflow.web.forms import sentence

    assert (
        sentence("inget ärende '2012/011-01' i förbundet nv; se 'finsam cases list'")
        == "Inget ärende '2012/011-01' i förbundet nv."
    )
    assert (
        sentence("mötet är justerat; en rättelse är en ny §; läs om det med 'finsam meetings show'")
        == "Mötet är justerat; en rättelse är en ny §."
    )
    assert sentence("titel saknas; ge idén en titel") == "Titel saknas; ge idén en titel."
