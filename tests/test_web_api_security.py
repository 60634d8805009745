"""The JSON API's security, generated from the routing table as the pages' is
(tests/test_web_security.py): an API route added later is covered without touching this file.

  - Without a token every API route is a 401 problem with a Bearer challenge.
  - A token of förbund A asking for anything of förbund B (the path filled with B's values,
    workflow/web/samples.py) gets 404 problem+json, for every role, and the attempt is an
    `atkomst_nekad` event of channel "api" in A's chain. A changing route whose body is refused
    first (422) has read nothing, so it tells nothing either; anything else fails.
  - No GET changes anything, for any role.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

from tests.api_support import bearer, token_for
from tests.support import sqlite_by_default
from tests.test_web_security import _counts, _fill
from tests.web_support import BASE_URL
from workflow.app import App
from workflow.models import AuditEvent
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role
from workflow.web.app import API_PREFIX, RouteInfo, route_table
from workflow.web.samples import is_own_forbund_only, is_public

FORBUND = ("akst", "nv")

# The matrices call every route as every role: long, and about routing and rights, not the
# database (tests/support.py).
pytestmark = sqlite_by_default
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
PROBLEM = "application/problem+json"


def _api_routes(web: FastAPI) -> list[RouteInfo]:
    return [
        r
        for r in route_table(web)
        if r.path.startswith(API_PREFIX)
        and r.route.include_in_schema
        and not is_public(r.openapi_extra)
    ]


@pytest.fixture
def tokens_of(demo_app: App) -> Iterator[dict[tuple[str, Role], TestClient]]:
    """A client with a fresh API token per role and förbund."""
    from workflow.web.app import create_web_app

    web = create_web_app(demo_app)
    made: dict[tuple[str, Role], TestClient] = {}
    for slug in FORBUND:
        for role in Role:
            secret = token_for(demo_app, role, slug, name=f"matris-{role.value}")
            client = TestClient(web, base_url=BASE_URL, headers=bearer(secret))
            client.__enter__()
            made[(slug, role)] = client
    yield made
    for client in made.values():
        client.__exit__(None, None, None)


def _refusals(app: App, email: str) -> list[AuditEvent]:
    with app.db.reading() as session:
        return list(
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.trigger == "atkomst_nekad", AuditEvent.actor_email == email)
                .order_by(AuditEvent.id)
            ).scalars()
        )


def test_without_a_token_every_api_route_is_a_401_problem(web: FastAPI, demo_app: App) -> None:
    routes = _api_routes(web)
    assert len(routes) >= 5
    with TestClient(web, base_url=BASE_URL) as client:
        for route in routes:
            path = _fill(demo_app, route, "akst")
            for method in sorted(route.methods):
                answer = client.request(method, path, json={})
                where = f"{method} {route.path}"
                assert answer.status_code == 401, f"{where}: {answer.status_code}"
                assert answer.headers["content-type"].startswith(PROBLEM), where
                assert answer.headers["www-authenticate"].startswith("Bearer"), where


def _refuses_an_empty_body(route: RouteInfo) -> bool:
    """Whether the route's body model has required fields (so `{}` is refused unread)."""
    field = route.route.body_field
    if field is None:
        return False
    try:
        TypeAdapter(field.field_info.annotation).validate_python({})
    except ValidationError:
        return True
    return False


def test_another_forbunds_anything_is_404_on_the_api_for_every_route_and_role(
    web: FastAPI, demo_app: App, tokens_of: dict[tuple[str, Role], TestClient]
) -> None:
    routes = [r for r in _api_routes(web) if r.params and not is_own_forbund_only(r.openapi_extra)]
    assert any(r.path == f"{API_PREFIX}/cases/{{ref:path}}" for r in routes)
    for route in routes:
        for mine, theirs in (FORBUND, FORBUND[::-1]):
            path = _fill(demo_app, route, theirs)
            for role in Role:
                email = demo_login(role, mine).email
                before = len(_refusals(demo_app, email))
                logged = 0
                for method in sorted(route.methods):
                    headers = {"If-Match": '"1"'} if method in CHANGING else {}
                    answer = tokens_of[(mine, role)].request(method, path, json={}, headers=headers)
                    where = f"{method} {path} as {role} of {mine}"
                    if method in CHANGING and _refuses_an_empty_body(route):
                        # FastAPI refuses the body before the route runs: nothing was read,
                        # so nothing is told (the API answers 400, naming the missing field).
                        assert answer.status_code == 400, f"{where}: {answer.status_code}"
                        continue
                    assert answer.status_code == 404, f"{where}: {answer.status_code}"
                    assert answer.headers["content-type"].startswith(PROBLEM), where
                    logged += 1
                refusals = _refusals(demo_app, email)
                assert len(refusals) == before + logged, f"{route.path} as {role}: not logged"
                for event in refusals[before:]:
                    assert event.channel == "api" and event.data["path"] == path


def test_no_api_get_changes_anything_for_any_role(
    web: FastAPI, demo_app: App, tokens_of: dict[tuple[str, Role], TestClient]
) -> None:
    routes = [r for r in _api_routes(web) if "GET" in r.methods]
    paths = {(slug, r.path): _fill(demo_app, r, slug) for slug in FORBUND for r in routes}
    before = _counts(demo_app)
    for (slug, _role), client in tokens_of.items():
        for route in routes:
            answer = client.get(paths[(slug, route.path)])
            assert answer.status_code < 500, route.path
    assert _counts(demo_app) == before
