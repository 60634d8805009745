"""The FastAPI application: pages and (under /api/v1) the JSON API over the same services.

    create_web_app(app)   the application for an App (tests, `finsam serve`)
    asgi()                a factory for uvicorn: `uvicorn --factory workflow.web.app:asgi`

Each domain's pages are one module in workflow/web/routes/ exposing `router`; add it to
ROUTERS. The JSON API lives in workflow/web/api/ and is added to API_ROUTERS (mounted under
/api/v1).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from workflow.app import App
from workflow.web import errors
from workflow.web.api import cases as api_cases
from workflow.web.middleware import SecurityMiddleware
from workflow.web.routes import auth, health, home, info, tokens

STATIC_DIR = Path(__file__).resolve().parent / "static"

# The pages, one router per domain (workflow/web/routes/<domain>.py).
ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    home.router,
    info.router,
    tokens.router,
]

# The JSON API (workflow/web/api/<domain>.py), each mounted under API_PREFIX.
API_PREFIX = "/api/v1"
API_ROUTERS: list[APIRouter] = [api_cases.router]


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
