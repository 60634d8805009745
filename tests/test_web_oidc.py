"""Login through a förbund's OpenID provider: a real provider (oidc-provider-mock) in a thread.

The demo förbund akst maps a login by e-mail, nv by the provider's subject linked with
`finsam people identity`. The TestClient follows every redirect by hand: to the provider,
its consent form (posted like the browser does), and back to our callback.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import httpx
import pytest
from fastapi import FastAPI
from oidc_provider_mock import run_server_in_thread
from playwright.sync_api import Page
from sqlalchemy import text
from sqlmodel import select

from tests.browser_support import LiveServer, assert_accessible
from tests.support import Cli, TravelClock
from tests.web_support import BASE_URL, WebClient
from workflow.app import App
from workflow.errors import DefinitionError
from workflow.models import AuditEvent, WebSession
from workflow.services.access import identities
from workflow.services.access.oidc import PERSONAL_NUMBER_REFUSED, REFUSED
from workflow.services.demo.logins import demo_login
from workflow.settings import PERSONAL_NUMBER_CLAIM, load_settings
from workflow.vocabulary import Role

SECRET_ENV = "FINSAM_TEST_OIDC_SECRET"
# Skatteverket's test personnummer (valid check digit): must never reach the database.
PERSONNUMMER = "191212121212"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The provider's issuer, e.g. http://localhost:43123 (nonce required, as ours sends one)."""
    with run_server_in_thread(port=0, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


def _user(provider: str, sub: str, **claims: object) -> str:
    """Put a user with these claims on the provider; returns the subject."""
    answer = httpx.put(f"{provider}/users/{sub}", json=claims)
    assert answer.status_code == 204, answer.text
    return sub


def _oidc_settings(provider: str) -> dict[str, object]:
    return {
        "akst": {
            "issuer": provider,
            "client_id": "finsam-akst",
            "client_secret_env": SECRET_ENV,
            "person_claim": "email",
        },
        "nv": {
            "issuer": provider,
            "client_id": "finsam-nv",
            "client_secret_env": SECRET_ENV,
            "person_claim": "sub",
        },
    }


@pytest.fixture
def oidc_app(
    demo_url: str, web_clock: TravelClock, provider: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[App]:
    monkeypatch.setenv(SECRET_ENV, "hemligt-i-miljon")
    settings = load_settings(database_url=demo_url, web={"oidc": _oidc_settings(provider)})
    application = App.create(settings, clock=web_clock)
    yield application
    application.close()


@pytest.fixture
def oidc_web(oidc_app: App) -> FastAPI:
    from workflow.web.app import create_web_app

    return create_web_app(oidc_app)


@pytest.fixture
def browser_client(oidc_web: FastAPI) -> Iterator[WebClient]:
    with WebClient(oidc_web, base_url=BASE_URL) as client:
        yield client


def _to_provider(client: WebClient, forbund: str) -> str:
    start = client.get(f"/logga-in/{forbund}/oidc", follow_redirects=False)
    assert start.status_code == 303, start.text
    return start.headers["location"]


def _consent(authorize_url: str, sub: str) -> str:
    """The provider's form as a person sends it; returns where the provider sends them back."""
    form = httpx.get(authorize_url)
    assert form.status_code == 200, form.text
    back = httpx.post(authorize_url, data={"sub": sub}, follow_redirects=False)
    assert back.status_code == 302, back.text
    return back.headers["location"]


def _back(client: WebClient, callback: str) -> httpx.Response:
    parts = urlparse(callback)
    assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def _log_in(client: WebClient, forbund: str, sub: str) -> httpx.Response:
    return _back(client, _consent(_to_provider(client, forbund), sub))


def _access_events(app: App, trigger: str) -> list[AuditEvent]:
    with app.db.reading() as session:
        return list(
            session.exec(
                select(AuditEvent).where(
                    AuditEvent.subject_kind == "access", AuditEvent.trigger == trigger
                )
            )
        )


def _everything_stored(app: App) -> str:
    """Every row of the tables a login writes, as text, to search for what must not be there."""
    with app.db.reading() as session:
        connection = session.connection()
        rows = [
            *connection.execute(text("SELECT * FROM audit_event")).all(),
            *connection.execute(text("SELECT * FROM person_identity")).all(),
            *connection.execute(text("SELECT * FROM web_session")).all(),
            *connection.execute(text("SELECT * FROM login_failure")).all(),
        ]
    return "\n".join(str(tuple(row)) for row in rows)


def test_the_login_page_offers_the_provider_only_where_one_is_configured(
    browser_client: WebClient, anonymous: WebClient
) -> None:
    page = browser_client.get("/logga-in?nasta=/arenden").text
    assert 'href="/logga-in/akst/oidc?nasta=%2Farenden"' in page
    assert "/logga-in/nv/oidc" in page
    assert "/oidc" not in anonymous.get("/logga-in").text
    assert browser_client.get("/logga-in/okand/oidc", follow_redirects=False).status_code == 404


def test_a_login_by_e_mail_opens_a_session_like_a_password_login(
    browser_client: WebClient, oidc_app: App, provider: str
) -> None:
    person = demo_login(Role.HANDLAGGARE, "akst")
    sub = _user(provider, "anna-idp-1", email=person.email.upper(), email_verified=True)
    back = _log_in(browser_client, "akst", sub)
    assert back.status_code == 303 and back.headers["location"] == "/"
    assert "finsam_session" in back.headers["set-cookie"]
    start = browser_client.get("/")
    assert start.status_code == 200 and "Logga ut" in start.text
    [event] = [e for e in _access_events(oidc_app, "logga_in") if e.actor_email == person.email]
    assert event.channel == "web" and event.data["method"] == "oidc"
    assert event.data["issuer"] == provider
    with oidc_app.db.reading() as session:
        assert [s.method for s in session.exec(select(WebSession))] == ["oidc"]


def test_a_login_comes_back_to_the_page_asked_for(browser_client: WebClient, provider: str) -> None:
    person = demo_login(Role.FORBUNDSCHEF, "akst")
    sub = _user(provider, "chef-idp", email=person.email)
    start = browser_client.get("/logga-in/akst/oidc?nasta=/tillganglighet", follow_redirects=False)
    back = _back(browser_client, _consent(start.headers["location"], sub))
    assert back.headers["location"] == "/tillganglighet"


def test_a_login_by_a_linked_subject_finds_the_person(
    browser_client: WebClient, oidc_app: App, provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    person = demo_login(Role.SEKRETERARE, "nv")
    # The provider's e-mail is of no use in nv: only the linked subject counts.
    sub = _user(provider, "SE2321000016-ABC1", email="nagon.annan@example.se")
    said = Cli(oidc_app.settings.database_url, capsys)(
        "people", "identity", person.email, "--issuer", provider, "--subject", sub
    )
    assert sub in said
    back = _log_in(browser_client, "nv", sub)
    assert back.status_code == 303, back.text
    assert "Logga ut" in browser_client.get("/").text
    [linked] = _access_events(oidc_app, identities.KOPPLA_IDENTITET)
    assert linked.data == {"issuer": provider, "subject": sub}


def test_an_unknown_identity_gets_the_failed_login_page_and_is_recorded(
    browser_client: WebClient, oidc_app: App, provider: str
) -> None:
    sub = _user(provider, "okand-77", email="ingen.sadan@akst.example")
    back = _log_in(browser_client, "akst", sub)
    assert back.status_code == 401
    assert REFUSED[:40] in back.text.replace("\n", " ").lower()
    assert "finsam_session=" not in back.headers.get("set-cookie", "")
    assert "Logga ut" not in browser_client.get("/logga-in").text
    [event] = _access_events(oidc_app, "inloggning_nekad")
    assert event.channel == "web" and "ingen.sadan@akst.example" in (event.comment or "")
    # A subject nobody linked, in the förbund that maps by subject, is refused the same way.
    assert _log_in(browser_client, "nv", sub).status_code == 401
    assert len(_access_events(oidc_app, "inloggning_nekad")) == 2


def test_an_unverified_e_mail_finds_nobody(browser_client: WebClient, provider: str) -> None:
    person = demo_login(Role.HANDLAGGARE, "akst")
    sub = _user(provider, "overifierad", email=person.email, email_verified=False)
    assert _log_in(browser_client, "akst", sub).status_code == 401


def test_a_personal_number_as_identity_is_refused_and_never_stored(
    browser_client: WebClient, oidc_app: App, provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = _user(provider, PERSONNUMMER, email="x@nv.example")
    back = _log_in(browser_client, "nv", sub)
    assert back.status_code == 401
    assert "personnummer sparas aldrig" in back.text
    assert _access_events(oidc_app, "inloggning_nekad")
    # Nor can an operator link one.
    cli = Cli(oidc_app.settings.database_url, capsys)
    person = demo_login(Role.SEKRETERARE, "nv")
    for number in (PERSONNUMMER, "19121212-1212", "121212-1212"):
        cli("people", "identity", person.email, "--issuer", provider, "--subject", number, code=2)
        assert identities.PERSONAL_NUMBER_REFUSED in cli.error
    stored = _everything_stored(oidc_app)
    # (The number in each form it was given; six digits alone turn up in random hashes.)
    for form in (PERSONNUMMER, "19121212-1212", "121212-1212", "1212121212"):
        assert form not in stored
    assert PERSONAL_NUMBER_REFUSED.startswith("inloggningstjänsten")


def test_the_sweden_connect_personal_number_claim_is_dropped_unread(
    browser_client: WebClient, oidc_app: App, provider: str
) -> None:
    person = demo_login(Role.HANDLAGGARE, "akst")
    sub = _user(provider, "bankid-9", email=person.email, **{PERSONAL_NUMBER_CLAIM: PERSONNUMMER})
    assert _log_in(browser_client, "akst", sub).status_code == 303
    assert PERSONNUMMER not in _everything_stored(oidc_app)


def test_a_wrong_state_is_refused_and_logs_nobody_in(
    browser_client: WebClient, oidc_app: App, provider: str, oidc_web: FastAPI
) -> None:
    person = demo_login(Role.HANDLAGGARE, "akst")
    sub = _user(provider, "anna-state", email=person.email)
    callback = _consent(_to_provider(browser_client, "akst"), sub)
    parts = urlparse(callback)
    query = parse_qs(parts.query)
    query["state"] = ["forfalskat-state"]
    forged = urlunparse(parts._replace(query=urlencode(query, doseq=True)))
    back = _back(browser_client, forged)
    assert back.status_code == 400 and "kunde inte slutföras" in back.text
    # The right answer, but in another browser (no pending login of its own): refused too.
    with WebClient(oidc_web, base_url=BASE_URL) as stranger:
        assert _back(stranger, callback).status_code == 400
    # The provider refusing (the person pressed Deny) ends the same way.
    refused = _to_provider(browser_client, "akst")
    denied = httpx.post(refused, data={"action": "deny"}, follow_redirects=False)
    assert _back(browser_client, denied.headers["location"]).status_code == 400
    assert _access_events(oidc_app, "logga_in") == []
    assert "Logga ut" not in browser_client.get("/logga-in").text


def test_settings_refuse_a_personal_number_claim_and_a_missing_secret(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(DefinitionError, match=SECRET_ENV):
        load_settings(web={"oidc": _oidc_settings(provider)})
    with pytest.raises(DefinitionError, match="personnummer"):
        load_settings(
            web={
                "oidc": {
                    "akst": {
                        "issuer": provider,
                        "client_id": "c",
                        "person_claim": PERSONAL_NUMBER_CLAIM,
                    }
                }
            }
        )


@pytest.mark.browser
def test_a_person_logs_in_through_the_provider_in_the_browser(
    oidc_app: App, provider: str, page: Page
) -> None:
    person = demo_login(Role.HANDLAGGARE, "akst")
    sub = _user(provider, "anna-browser", email=person.email)
    with LiveServer(oidc_app) as server:
        page.goto(f"{server.url}/logga-in")
        assert_accessible(page)
        page.get_by_role("link", name="Logga in med e-legitimation (akst)").click()
        page.wait_for_url(f"{provider}/**")
        page.get_by_placeholder("sub").fill(sub)
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{server.url}/")
        assert page.get_by_role("button", name="Logga ut").is_visible()
        assert_accessible(page)


def test_refused_provider_logins_are_throttled_like_failed_passwords(
    browser_client: WebClient, oidc_app: App, provider: str
) -> None:
    """Someone with an account at the provider who is nobody here cannot fill the förbund's
    chain with refusals: after the address's limit the login stops before anything is written."""
    limit = oidc_app.settings.web.login_failures_per_account
    sub = _user(provider, "okand-88", email="ingen.alls@akst.example")
    for _ in range(limit):
        assert _log_in(browser_client, "akst", sub).status_code == 401
    recorded = len(_access_events(oidc_app, "inloggning_nekad"))
    throttled = _log_in(browser_client, "akst", sub)
    assert throttled.status_code == 429
    assert "för många misslyckade inloggningar" in throttled.text.lower()
    assert len(_access_events(oidc_app, "inloggning_nekad")) == recorded
