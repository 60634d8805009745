"""Security that must hold on every route, generated from the routing table.

  - A person of förbund A asking for a route of förbund B (the path's parameters filled with
    B's values, workflow/web/samples.py) gets 404, and the attempt is an `atkomst_nekad`
    event in A's chain: every route with path parameters, every role, both demo förbund.
  - No GET changes anything: every GET route, as every role, leaves every table as it was
    (only refusals are recorded, as events).
  - Every state-changing route refuses a request without the CSRF token (403), changing
    nothing.
  - Security headers on 200, 404 and 500.

Routes added later to ROUTERS are covered without touching this file; a probe router added
here shows it (and keeps the matrix from being empty before the case pages exist).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import SQLModel

from tests.support import sqlite_by_default
from tests.web_support import BASE_URL, WebClient, logged_in_client
from workflow.app import App
from workflow.models import AuditEvent
from workflow.services import cases
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role
from workflow.web.app import API_PREFIX, RouteInfo, create_web_app, route_table
from workflow.web.deps import AppDep, CurrentUser, verify_csrf
from workflow.web.samples import finder_for, is_public

FORBUND = ("akst", "nv")

# The matrices call every route as every role: long, and about routing and rights, not the
# database (tests/support.py).
pytestmark = sqlite_by_default
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

# A route as the pages will have them: a case of the person's own förbund, read and changed.
probe = APIRouter()


@probe.get("/prov/arenden/{ref:path}")
def probe_case(app: AppDep, user: CurrentUser, ref: str) -> PlainTextResponse:
    view = cases.get_case(app, ref=ref, forbund=user.forbund_slug)
    return PlainTextResponse(view.title)


@probe.post("/prov/arenden/{ref:path}/kommentar", dependencies=[Depends(verify_csrf)])
def probe_comment(
    app: AppDep, user: CurrentUser, ref: str, text: Annotated[str, Form()] = ""
) -> PlainTextResponse:
    view = cases.get_case(app, ref=ref, forbund=user.forbund_slug)
    return PlainTextResponse(view.title)


@probe.get("/prov/fel")
def probe_failure(request: Request) -> PlainTextResponse:
    raise RuntimeError("hemlig intern detalj")


@pytest.fixture
def site(demo_app: App) -> FastAPI:
    web = create_web_app(demo_app)
    web.include_router(probe)
    return web


@pytest.fixture
def logins(site: FastAPI) -> Iterator[dict[tuple[str, Role], WebClient]]:
    """A logged-in client per role and förbund."""
    made: dict[tuple[str, Role], WebClient] = {}
    for slug in FORBUND:
        for role in Role:
            made[(slug, role)] = logged_in_client(site, demo_login(role, slug).email, slug)
    yield made
    for client in made.values():
        client.__exit__(None, None, None)


def _page_routes(web: FastAPI) -> list[RouteInfo]:
    return [r for r in route_table(web) if not r.path.startswith(API_PREFIX)]


def _fill(app: App, route: RouteInfo, slug: str) -> str:
    path = route.path
    for name in route.params:
        finder = finder_for(route.openapi_extra, name)
        assert finder is not None, (
            f"{route.path}: no sample for the path parameter {name!r}; register one in "
            "workflow/web/samples.py (@sample) or name one in openapi_extra"
        )
        # The whole placeholder, converter included: "{ref:path}" left unfilled would ask for
        # a case literally named so, a 404 that proves nothing.
        value = finder(app, slug)
        path = re.sub(r"{" + name + r"(?::\w+)?}", lambda _, v=value: v, path)
    assert "{" not in path, path
    return path


def _counts(app: App) -> dict[str, int]:
    """Rows per table, audit events apart from refusals counted on their own."""
    counts: dict[str, int] = {}
    with app.db.reading() as session:
        for table in SQLModel.metadata.sorted_tables:
            counts[table.name] = session.execute(
                select(func.count()).select_from(table)
            ).scalar_one()
        counts["audit_event"] = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.trigger != "atkomst_nekad")
        ).scalar_one()
    return counts


def _refusals(app: App, email: str) -> list[AuditEvent]:
    with app.db.reading() as session:
        return list(
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.trigger == "atkomst_nekad", AuditEvent.actor_email == email)
                # In the order written: without it PostgreSQL may give them in any order.
                .order_by(AuditEvent.id)
            ).scalars()
        )


def test_another_forbunds_anything_is_404_and_logged_for_every_route_and_role(
    site: FastAPI, demo_app: App, logins: dict[tuple[str, Role], WebClient]
) -> None:
    routes = [r for r in _page_routes(site) if r.params and not is_public(r.openapi_extra)]
    assert any(r.path == "/prov/arenden/{ref:path}" for r in routes)
    # A session's CSRF token is derived from the session and stays the same: read it once per
    # client, not once per request (each read renders a start page).
    tokens = {key: client.csrf("/") for key, client in logins.items()}
    for route in routes:
        for mine, theirs in (FORBUND, FORBUND[::-1]):
            path = _fill(demo_app, route, theirs)
            for role in Role:
                client = logins[(mine, role)]
                email = demo_login(role, mine).email
                before = len(_refusals(demo_app, email))
                for method in sorted(route.methods):
                    token = tokens[(mine, role)]
                    answer = client.request(
                        method,
                        path,
                        data={"csrf_token": token} if method in CHANGING else None,
                        follow_redirects=False,
                    )
                    where = f"{method} {path} as {role} of {mine}"
                    assert answer.status_code == 404, f"{where}: {answer.status_code}"
                    assert "Sidan finns inte" in answer.text or answer.headers[
                        "content-type"
                    ].startswith("application/problem+json"), where
                refusals = _refusals(demo_app, email)
                assert len(refusals) == before + len(route.methods), (
                    f"{route.path} as {role}: not recorded as atkomst_nekad; did the path match "
                    "the route (a dnr holds '/': use {ref:path}) and does it take CurrentUser?"
                )
                event = refusals[-1]
                assert event.channel == "web" and event.data["path"] == path
                assert event.forbund_id != _forbund_of(demo_app, theirs)


def _forbund_of(app: App, slug: str) -> int:
    from workflow.models import Forbund

    with app.db.reading() as session:
        return int(session.execute(select(Forbund.id).where(Forbund.slug == slug)).scalar_one())


def test_no_get_changes_anything_for_any_route_or_role(
    site: FastAPI, demo_app: App, logins: dict[tuple[str, Role], WebClient]
) -> None:
    routes = [r for r in _page_routes(site) if "GET" in r.methods and r.path != "/prov/fel"]
    assert len(routes) >= 5
    # The samples first: a finder may make what it names (an API token), before the count.
    paths = {(slug, r.path): _fill(demo_app, r, slug) for slug in FORBUND for r in routes}
    before = _counts(demo_app)
    for (slug, _role), client in logins.items():
        for route in routes:
            answer = client.get(paths[(slug, route.path)], follow_redirects=False)
            assert answer.status_code < 500, route.path
    assert _counts(demo_app) == before


def test_every_changing_route_refuses_a_post_without_the_csrf_token(
    site: FastAPI, demo_app: App, logins: dict[tuple[str, Role], WebClient]
) -> None:
    routes = [r for r in _page_routes(site) if r.methods & CHANGING]
    assert any(r.path == "/logga-ut" for r in routes)
    client = logins[("akst", Role.FORBUNDSCHEF)]
    paths = {r.path: _fill(demo_app, r, "akst") for r in routes}  # before the count, as above
    before = _counts(demo_app)
    for route in routes:
        path = paths[route.path]
        for method in sorted(route.methods & CHANGING):
            # As a cross-site form would send it: the cookies, no token.
            answer = client.request(
                method,
                path,
                data={"email": "x@akst.example"},
                headers={"Origin": "https://angripare.example"},
                follow_redirects=False,
            )
            assert answer.status_code == 403, f"{method} {route.path}: {answer.status_code}"
    assert _counts(demo_app) == before
    assert client.get("/").status_code == 200  # still logged in: logout was refused too


def test_security_headers_on_200_404_and_500_without_internals(site: FastAPI) -> None:
    with TestClient(site, base_url=BASE_URL, raise_server_exceptions=False) as client:
        answers = {
            200: client.get("/logga-in"),
            404: client.get("/finns/inte"),
            500: client.get("/prov/fel"),
        }
    for status, answer in answers.items():
        assert answer.status_code == status
        headers = answer.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "max-age" in headers["strict-transport-security"]
    failure = answers[500].text
    assert "Något gick fel hos oss" in failure and 'lang="sv"' in failure
    assert "hemlig" not in failure and "RuntimeError" not in failure and "Traceback" not in failure


def test_no_hsts_on_loopback(site: FastAPI) -> None:
    with TestClient(site, base_url="http://127.0.0.1:8000") as client:
        answer = client.get("/logga-in")
    assert "strict-transport-security" not in answer.headers
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_login_over_plain_http_is_refused_outside_loopback(site: FastAPI) -> None:
    with WebClient(site, base_url="http://finsam.example.se") as client:
        page = client.get("/logga-in")
        assert "https://" in page.text
        token = client.csrf("/logga-in")
        answer = client.post(
            "/logga-in",
            data={
                "email": demo_login(Role.ADMIN).email,
                "password": "demo-finsam-2026",
                "csrf_token": token,
            },
            follow_redirects=False,
        )
    assert answer.status_code == 403
    assert "finsam_session" not in answer.headers.get("set-cookie", "")


def test_a_next_address_never_leads_off_the_site(site: FastAPI) -> None:
    with WebClient(site, base_url=BASE_URL) as client:
        token = client.csrf("/logga-in")
        answer = client.post(
            "/logga-in",
            data={
                "email": demo_login(Role.ADMIN).email,
                "password": "demo-finsam-2026",
                "csrf_token": token,
                "nasta": "//angripare.example/",
            },
            follow_redirects=False,
        )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
