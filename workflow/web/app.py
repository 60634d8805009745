"""The FastAPI application: pages and (under /api/v1) the JSON API over the same services.

    create_web_app(app)   the application for an App (tests, `finsam serve`)
    asgi()                a factory for uvicorn: `uvicorn --factory workflow.web.app:asgi`

Each domain's pages are one module in workflow/web/routes/ exposing `router`; add it to
ROUTERS. The JSON API lives in workflow/web/api/ and is added to API_ROUTERS (mounted under
/api/v1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from workflow.app import App
from workflow.web import errors
from workflow.web.api import cases as api_cases
from workflow.web.api import protocols as api_protocols
from workflow.web.api import reports as api_reports
from workflow.web.api import review as api_review
from workflow.web.middleware import SecurityMiddleware
from workflow.web.routes import (
    account,
    anslagstavla,
    audit,
    auth,
    beredning,
    calendar,
    case_list,
    cases,
    diarium,
    funding,
    health,
    home,
    ideas,
    info,
    meetings,
    oidc,
    outbox,
    password,
    policies,
    protocol,
    reminder_settings,
    reminders,
    reports,
    review,
    setup,
    tokens,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"

# The pages, one router per domain (workflow/web/routes/<domain>.py).
ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    password.router,
    oidc.router,
    home.router,
    info.router,
    tokens.router,
    account.router,
    calendar.router,
    reminder_settings.router,
    case_list.router,
    ideas.router,
    setup.router,
    policies.router,
    protocol.router,
    anslagstavla.router,
    beredning.router,
    meetings.router,
    reminders.router,
    outbox.router,
    audit.router,
    diarium.router,
    reports.router,
    review.router,
    funding.router,
    cases.router,  # last: /arenden/{ref:path} would take any other /arenden/... page
]

# The JSON API (workflow/web/api/<domain>.py), each mounted under API_PREFIX.
API_PREFIX = "/api/v1"
API_ROUTERS: list[APIRouter] = [
    api_cases.router,
    api_reports.router,
    api_reports.files_router,
    api_protocols.router,
    api_review.router,
]


@dataclass(frozen=True)
class RouteInfo:
    """One route as served: its full path (prefixes included), methods and route object."""

    path: str
    methods: frozenset[str]
    route: APIRoute

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)(?::\w+)?}", self.path)

    @property
    def openapi_extra(self) -> dict[str, Any] | None:
        return self.route.openapi_extra


def route_table(web: FastAPI) -> list[RouteInfo]:
    """Every FastAPI route the application serves, for tests generated from the routing table
    (FastAPI 0.16x includes routers lazily, so `web.routes` alone does not list them)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI flattens included routers into web.routes
        contexts: list[Any] = list(web.routes)
    else:
        contexts = list(iter_route_contexts(web.routes))
    table = []
    for context in contexts:
        route = getattr(context, "original_route", context)
        if isinstance(route, APIRoute):
            table.append(RouteInfo(str(context.path), frozenset(context.methods or ()), route))
    return table


def create_web_app(app: App) -> FastAPI:
    web = FastAPI(
        title="finsam-workflow",
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    web.state.finsam = app
    for router in ROUTERS:
        web.include_router(router)
    for router in API_ROUTERS:
        web.include_router(router, prefix=API_PREFIX)
    web.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(web)
    web.add_middleware(SecurityMiddleware)
    return web


def asgi() -> FastAPI:
    """For uvicorn's --factory: the App from the settings (FINSAM_* and config/finsam.toml)."""
    app = App.create()
    app.db.require_schema()
    return create_web_app(app)
