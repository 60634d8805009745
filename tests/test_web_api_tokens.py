"""Personal API tokens: made and revoked by their owner, stored hashed, shown once; a
revoked or expired token, or one of a deactivated person, lets nobody in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api_support import API, bearer
from tests.support import TravelClock, finsam
from tests.web_support import BASE_URL, ClientFactory
from workflow.app import App
from workflow.errors import BadInput, NotFound
from workflow.models import AuditEvent
from workflow.models.api_access import ApiToken
from workflow.services.access import tokens
from workflow.services.demo.logins import demo_login
from workflow.services.organisation.people import deactivate_person
from workflow.vocabulary import Role

OWNER = demo_login(Role.HANDLAGGARE).email
CHEF = demo_login(Role.FORBUNDSCHEF).email


def _get(web: FastAPI, secret: str | None) -> int:
    with TestClient(web, base_url=BASE_URL) as client:
        headers = bearer(secret) if secret is not None else {}
        return client.get(f"{API}/cases", headers=headers).status_code


def test_a_token_works_until_its_owner_revokes_it(
    web: FastAPI, demo_app: App, web_clock: TravelClock
) -> None:
    made = tokens.create_token(demo_app, email=OWNER, name="rapportskript", forbund="akst")
    assert made.secret.startswith("fsm_") and len(made.secret) > 40
    with demo_app.db.reading() as session:
        row = session.execute(select(ApiToken)).scalar_one()
    # Only the hash is stored: the database lets nobody in.
    assert made.secret not in (row.token_hash, row.prefix, row.name)
    assert row.token_hash == tokens.token_hash(made.secret)
    assert row.last_used_at is None
    assert _get(web, made.secret) == 200
    (listed,) = tokens.list_tokens(demo_app, email=OWNER, forbund="akst")
    assert (listed.name, listed.active, listed.prefix) == ("rapportskript", True, made.secret[:10])
    assert listed.last_used_at is not None
    tokens.revoke_token(demo_app, email=OWNER, token="rapportskript", forbund="akst")
    assert _get(web, made.secret) == 401
    (listed,) = tokens.list_tokens(demo_app, email=OWNER, forbund="akst")
    assert not listed.active and listed.revoked_at is not None
    with demo_app.db.reading() as session:
        triggers = [
            e.trigger
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.subject_kind == "access")
            ).scalars()
            if "api_nyckel" in e.trigger
        ]
    assert triggers == ["skapa_api_nyckel", "aterkalla_api_nyckel"]
    with pytest.raises(NotFound, match="har ingen aktiv nyckel"):
        tokens.revoke_token(demo_app, email=OWNER, token="rapportskript", forbund="akst")


def test_an_expired_token_and_a_deactivated_owner_get_401(
    web: FastAPI, demo_app: App, web_clock: TravelClock
) -> None:
    short = tokens.create_token(
        demo_app,
        email=OWNER,
        name="en dag",
        forbund="akst",
        expires_at=web_clock() + timedelta(days=1),
    )
    other = tokens.create_token(demo_app, email=CHEF, name="tills vidare", forbund="akst")
    assert _get(web, short.secret) == 200
    web_clock.advance(days=1)
    assert _get(web, short.secret) == 401
    assert _get(web, other.secret) == 200
    deactivate_person(
        demo_app, actor_email=demo_login(Role.ADMIN).email, email=CHEF, forbund="akst"
    )
    assert _get(web, other.secret) == 401


def test_a_missing_or_unknown_token_is_a_401_problem(web: FastAPI, demo_app: App) -> None:
    for secret in (None, "fsm_inte-en-nyckel", "nagot annat"):
        assert _get(web, secret) == 401
    with TestClient(web, base_url=BASE_URL) as client:
        answer = client.get(f"{API}/cases", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["www-authenticate"] == 'Bearer realm="finsam"'
    assert "API-nyckel" in answer.json()["detail"]


def test_names_are_the_owners_own_and_unique_among_their_live_tokens(demo_app: App) -> None:
    tokens.create_token(demo_app, email=OWNER, name="skript", forbund="akst")
    with pytest.raises(BadInput, match="har redan en nyckel som heter 'Skript'"):
        tokens.create_token(demo_app, email=OWNER, name="Skript", forbund="akst")
    with pytest.raises(BadInput, match="ange ett namn"):
        tokens.create_token(demo_app, email=OWNER, name="  ", forbund="akst")
    tokens.create_token(demo_app, email=CHEF, name="skript", forbund="akst")
    tokens.revoke_token(demo_app, email=OWNER, token="skript", forbund="akst")
    tokens.create_token(demo_app, email=OWNER, name="skript", forbund="akst")


def test_the_cli_makes_lists_and_revokes_a_token_and_shows_the_secret_once(
    web: FastAPI, demo_app: App, demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = finsam(
        capsys, demo_url, "people", "token", "create", OWNER, "--name", "cron", forbund="akst"
    )
    assert code == 0, err
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("fsm_") and "visas inte igen" in out
    code, out, _ = finsam(capsys, demo_url, "people", "token", "list", OWNER, forbund="akst")
    assert code == 0 and "cron" in out and secret not in out and "aktiv" in out
    code, out, _ = finsam(
        capsys, demo_url, "people", "token", "revoke", OWNER, "cron", forbund="akst"
    )
    assert code == 0 and "återkallad" in out
    code, _, err = finsam(
        capsys, demo_url, "people", "token", "revoke", OWNER, "cron", forbund="akst"
    )
    assert code == 3 and err.startswith("fel: ") and len(err.strip().splitlines()) == 1
    code, _, err = finsam(
        capsys,
        demo_url,
        "people",
        "token",
        "create",
        OWNER,
        "--name",
        "x",
        "--expires",
        "i morgon",
        forbund="akst",
    )
    assert code == 2 and "ÅÅÅÅ-MM-DD" in err


def test_the_owner_makes_and_revokes_a_token_on_their_account_page(
    client_as: ClientFactory, web: FastAPI, demo_app: App
) -> None:
    browser = client_as(Role.HANDLAGGARE)
    page = browser.get("/konto/nycklar")
    assert page.status_code == 200 and "Du har inga API-nycklar" in page.text
    made = browser.post_form(
        "/konto/nycklar", {"name": "Excel-hämtning"}, token_from="/konto/nycklar"
    )
    assert made.status_code == 201
    secret = re.search(r'value="(fsm_[^"]+)"', made.text)
    assert secret and "visas inte igen" in made.text
    assert _get(web, secret.group(1)) == 200
    again = browser.get("/konto/nycklar")
    assert secret.group(1) not in again.text and "Excel-hämtning" in again.text
    (token,) = tokens.list_tokens(demo_app, email=OWNER, forbund="akst")
    # Someone else cannot revoke it: it is not theirs to find.
    other = client_as(Role.FORBUNDSCHEF)
    refused = other.post_form(f"/konto/nycklar/{token.id}/aterkalla", token_from="/konto/nycklar")
    assert refused.status_code == 404 and _get(web, secret.group(1)) == 200
    revoked = browser.post_form(
        f"/konto/nycklar/{token.id}/aterkalla",
        token_from="/konto/nycklar",
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert _get(web, secret.group(1)) == 401
    bad = browser.post_form("/konto/nycklar", {"name": ""}, token_from="/konto/nycklar")
    assert bad.status_code == 400 and "Ange ett namn på nyckeln" in bad.text
    # A cross-site POST without the form's token changes nothing.
    assert browser.post("/konto/nycklar", data={"name": "utan-token"}).status_code == 403
