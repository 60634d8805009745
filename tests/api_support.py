"""The JSON API in tests: clients holding a personal API token of a demo login.

    def test_x(api_as: ApiClientFactory) -> None:
        client = api_as(Role.HANDLAGGARE)             # Authorization: Bearer <token>, akst
        other = api_as(Role.SEKRETERARE, "nv")        # the second demo förbund
        client.get("/api/v1/cases")

The tokens are real (workflow/services/access/tokens.py), made for the demo person of that
role in the test's own database (tests/web_support.py: the demo on both databases).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web_support import BASE_URL
from workflow.app import App
from workflow.services.access import tokens
from workflow.services.demo.logins import demo_login
from workflow.vocabulary import Role

API = "/api/v1"

ApiClientFactory = Callable[..., TestClient]


def token_for(app: App, role: Role | str, forbund: str = "akst", name: str = "test") -> str:
    """A new token of the demo login of that role (its secret)."""
    login = demo_login(role, forbund)
    return tokens.create_token(app, email=login.email, name=name, forbund=forbund).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api_as(web: FastAPI, demo_app: App) -> Iterator[ApiClientFactory]:
    """`api_as(role, forbund="akst")`: a client sending a fresh token of that demo login."""
    clients: list[TestClient] = []
    made: dict[tuple[str, str], str] = {}

    def make(role: Role | str, forbund: str = "akst") -> TestClient:
        key = (str(Role(role).value), forbund)
        if key not in made:
            made[key] = token_for(demo_app, role, forbund, name=f"test-{len(made)}")
        client = TestClient(web, base_url=BASE_URL, headers=bearer(made[key]))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def full_size(request: pytest.FixtureRequest) -> bool:
    """Whether the run asked for the full-size variants (`pytest -m full`): a test marked
    `full` runs small by default and at full size when selected by that marker."""
    return "full" in str(request.config.getoption("markexpr", "") or "")
