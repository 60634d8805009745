"""Real databases for every test: a SQLite file, and a schema on the PostgreSQL server.

PostgreSQL tests are skipped, with the reason, when the server cannot be reached; CI sets
FINSAM_REQUIRE_POSTGRES=1 so that an unreachable server fails the run instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support import TravelClock, World, build_world
from workflow.app import App
from workflow.clock import STOCKHOLM
from workflow.settings import load_settings

# argon2id at its cheapest in tests (workflow/settings.py PasswordHashSettings): the shipped
# cost is about 0.4 s of CPU per login on this machine. One test keeps the shipped parameters
# and their rehash (tests/test_web_core.py); subprocesses inherit these too.
os.environ.setdefault("FINSAM_WEB__PASSWORD_HASH__TIME_COST", "1")
os.environ.setdefault("FINSAM_WEB__PASSWORD_HASH__MEMORY_COST", "64")
os.environ.setdefault("FINSAM_WEB__PASSWORD_HASH__PARALLELISM", "1")

POSTGRES_URL = os.environ.get(
    "FINSAM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("FINSAM_REQUIRE_POSTGRES") == "1"


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: no server for these tests
        return f"PostgreSQL på {POSTGRES_URL} nås inte ({exc.__class__.__name__}: {str(exc).splitlines()[0]})"
    return None


def _schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A fresh schema for this test run, migrated once, dropped at the end."""
    problem = _postgres_problem()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(f"{problem}; FINSAM_REQUIRE_POSTGRES=1 kräver servern")
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    app = App.create(load_settings(database_url=_schema_url(schema)))
    app.db.migrate()
    app.close()
    yield schema
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (a real file of its own)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = App.create(load_settings(database_url=f"sqlite:///{path}"))
    app.db.migrate()
    app.close()
    return path


def _truncate_all(url: str) -> None:
    """Empty every table of the schema and restart its id sequences, as a fresh migrated
    schema is. DELETE with triggers off (session_replication_role = replica: no foreign-key
    or append-only trigger fires), not TRUNCATE: TRUNCATE makes new files for all ~40 tables
    and syncs them, about 2 s a test on a busy server; DELETE of a test's few rows takes 0.03 s."""
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            )
        ).scalars()
        statements = [f'DELETE FROM "{table}"' for table in tables]
        if statements:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("; ".join(statements)))
        connection.execute(
            text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            )
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "finsam.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = _schema_url(request.getfixturevalue("postgres_schema"))
    _truncate_all(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Only SQLite, for tests about the default embedded database itself."""
    path = tmp_path / "finsam.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> TravelClock:
    return TravelClock(datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM))


@pytest.fixture
def app(db_url: str, clock: TravelClock) -> Iterator[App]:
    application = App.create(load_settings(database_url=db_url), clock=clock)
    yield application
    application.close()


@pytest.fixture
def world(app: App, clock: TravelClock) -> World:
    return build_world(app, clock)


@pytest.fixture(autouse=True)
def _attachment_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attachments (services/attachments) go to the test's own folder, never the work tree."""
    monkeypatch.setenv("FINSAM_ATTACHMENTS__DIRECTORY", str(tmp_path / "bilagor"))


# The web application's fixtures (tests/web_support.py) and the browser's (marker `browser`,
# tests/browser_support.py), registered here so every test module can use them.
from tests.api_support import api_as  # noqa: E402, F401
from tests.browser_support import browser, live_server, page  # noqa: E402, F401
from tests.web_support import (  # noqa: E402, F401
    DEMO_KINDS,
    anonymous,
    client_as,
    demo_app,
    demo_postgres_template,
    demo_sqlite_template,
    demo_url,
    drop_shared_postgres_demo,
    web,
    web_clock,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Note which kinds of demo template the selected tests use (tests/web_support.py), and
    run the browser tests last: the session's Playwright keeps an event loop in the worker's
    main thread, and code under test that runs its own loop (the SMTP client) must not meet it
    in a test that only happens to come after one."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    kinds: set[str] = set()
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "demo_url" in names or "demo_postgres_template" in names:
            callspec = getattr(item, "callspec", None)
            kind = callspec.params.get("db_url") if callspec is not None else None
            kinds.add(kind or "postgresql")
    config.stash[DEMO_KINDS] = kinds


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The xdist controller, after every worker has finished: drop the shared demo schema."""
    if hasattr(session.config, "workerinput"):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None and factory._basetemp is not None:
        drop_shared_postgres_demo(factory._basetemp)
