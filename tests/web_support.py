"""The web application in tests: the demo on a real database, and clients logged in by role.

    def test_x(client_as: ClientFactory) -> None:
        client = client_as(Role.HANDLAGGARE)            # logged in, akst
        other = client_as(Role.HANDLAGGARE, "nv")        # the second demo förbund
        page = client.get("/")
        client.post_form("/arenden/ny", {"title": "..."})   # the CSRF token is added

The demo (both förbund, with one login per role: workflow/services/demo/logins.py) is loaded
once per test run into a template, for SQLite a file and for PostgreSQL a schema, and copied
into each test's own database (the `db_url` fixture, so every test runs on both). Loading it
afresh takes many seconds; the copy a fraction of one.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from tests.support import TravelClock
from workflow.app import App
from workflow.models import Forbund, Person
from workflow.services import demo
from workflow.services.access.sessions import create_session
from workflow.services.demo.logins import DEMO_PASSWORD, demo_login
from workflow.settings import load_settings
from workflow.vocabulary import Role
from workflow.web.app import create_web_app
from workflow.web.deps import SESSION_COOKIE

# The demo's "today" (its newer cases are dated from it), as the README's.
DEMO_DAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BASE_URL = "https://testserver"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _load_demo(url: str) -> None:
    # A template: durability on power loss does not matter, and NORMAL is much faster.
    settings = load_settings(database_url=url, sqlite_synchronous="NORMAL")
    app = App.create(settings, clock=TravelClock(DEMO_DAY))
    demo.load_demo(app)
    app.close()


# Under pytest-xdist the workers share one demo of each kind (built by whichever worker needs
# it first, under a file lock, in the run's common temporary directory), instead of each
# loading its own: the PostgreSQL demo costs about 15 s of CPU and the SQLite one 8 s. While
# one worker builds a kind, another that needs it builds the other kind meanwhile.
_READY = "demo-{kind}.ready"
# The kinds of demo this run's tests use (set at collection, tests/conftest.py).
DEMO_KINDS = pytest.StashKey[set[str]]()


def _shared_dir(factory: pytest.TempPathFactory) -> Path | None:
    """The directory all xdist workers of this run share (None outside xdist)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    return factory.getbasetemp().parent


def _build_once(
    shared: Path, kind: str, build: Callable[[], str], *, wait: bool = True
) -> str | None:
    """The template of `kind` (its path or schema), built by the first worker to get here.
    `wait=False`: None at once if another worker is building it."""
    ready = shared / _READY.format(kind=kind)
    if ready.exists():
        return ready.read_text(encoding="utf-8")
    with (shared / f"demo-{kind}.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        if ready.exists():
            return ready.read_text(encoding="utf-8")
        value = build()
        partial = ready.with_suffix(".partial")
        partial.write_text(value, encoding="utf-8")
        partial.replace(ready)
        return value


def _demo_kind(request: pytest.FixtureRequest, kind: str) -> str:
    """This run's template of `kind`; under xdist shared by the workers (see above)."""
    factory = request.getfixturevalue("tmp_path_factory")
    builders = {"sqlite": lambda: _build_sqlite_demo(request), "postgresql": _build_postgres_demo}
    shared = _shared_dir(factory)
    if shared is None:
        return builders[kind]()
    mine = _build_once(shared, kind, builders[kind], wait=False)
    if mine is not None:
        return mine
    # Another worker is building `kind`: build another kind this run needs meanwhile.
    for other in sorted(request.config.stash.get(DEMO_KINDS, set()) - {kind}):
        if other == "sqlite" or _postgres_reachable():
            _build_once(shared, other, builders[other], wait=False)
    value = _build_once(shared, kind, builders[kind])
    assert value is not None
    return value


def _postgres_reachable() -> bool:
    from tests.conftest import _postgres_problem

    return _postgres_problem() is None


def _build_sqlite_demo(request: pytest.FixtureRequest) -> str:
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    shared = _shared_dir(factory)
    folder = shared if shared is not None else factory.mktemp("demo-template")
    path = folder / "demo.db"
    building = folder / f"demo-{uuid.uuid4().hex[:8]}.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), building)
    _load_demo(f"sqlite:///{building}")
    building.replace(path)
    return str(path)


def _build_postgres_demo() -> str:
    from tests.conftest import POSTGRES_URL, _schema_url

    schema = f"demo_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    app = App.create(load_settings(database_url=_schema_url(schema)))
    app.db.migrate()
    app.close()
    _load_demo(_schema_url(schema))
    return schema


def drop_postgres_demo(schema: str) -> None:
    from tests.conftest import POSTGRES_URL

    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def drop_shared_postgres_demo(basetemp: Path) -> None:
    """At the end of an xdist run (in the controller, after every worker): drop the shared
    PostgreSQL demo, if a worker built one."""
    ready = basetemp / _READY.format(kind="postgresql")
    if ready.exists():
        drop_postgres_demo(ready.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_sqlite_template(request: pytest.FixtureRequest) -> Path:
    """A SQLite file holding the migrated demo, copied into each test's database."""
    return Path(_demo_kind(request, "sqlite"))


@pytest.fixture(scope="session")
def demo_postgres_template(request: pytest.FixtureRequest) -> Iterator[str]:
    """A schema on the server holding the migrated demo, copied into each test's schema."""
    schema = _demo_kind(request, "postgresql")
    yield schema
    if _shared_dir(request.getfixturevalue("tmp_path_factory")) is None:
        drop_postgres_demo(schema)  # under xdist the controller drops it, after every worker


def _copy_postgres(template: str, url: str) -> None:
    """Every row of the template schema into the (empty, migrated) schema of `url`, triggers
    off (the chain head is copied, not recomputed), then the id sequences moved past them."""
    engine = create_engine(url)
    with engine.begin() as connection:
        target = connection.execute(text("SELECT current_schema()")).scalar_one()
        tables = (
            connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :s "
                    "AND tablename <> 'alembic_version'"
                ),
                {"s": template},
            )
            .scalars()
            .all()
        )
        serials = connection.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = :s AND column_default LIKE 'nextval(%'"
            ),
            {"s": target},
        ).all()
        # One round trip for all the rows and one for the sequences, not one per table.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(
            text(
                "; ".join(
                    f'INSERT INTO {target}."{table}" SELECT * FROM {template}."{table}"'
                    for table in tables
                )
            )
        )
        if serials:
            connection.execute(
                text(
                    "SELECT "
                    + ", ".join(
                        f"setval(pg_get_serial_sequence('{target}.\"{table}\"', '{column}'), "
                        f'COALESCE((SELECT max("{column}") FROM {target}."{table}"), 0) + 1, false)'
                        for table, column in serials
                    )
                )
            )
    engine.dispose()


@pytest.fixture
def demo_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """`db_url` (both databases) holding the demo."""
    if db_url.startswith("sqlite"):
        shutil.copy(
            request.getfixturevalue("demo_sqlite_template"), db_url.removeprefix("sqlite:///")
        )
    else:
        _copy_postgres(request.getfixturevalue("demo_postgres_template"), db_url)
    return db_url


@pytest.fixture
def web_clock() -> TravelClock:
    """The clock of the web tests: the demo's day, moving only when the test moves it."""
    return TravelClock(DEMO_DAY)


@pytest.fixture
def demo_app(demo_url: str, web_clock: TravelClock) -> Iterator[App]:
    application = App.create(load_settings(database_url=demo_url), clock=web_clock)
    yield application
    application.close()


@pytest.fixture
def web(demo_app: App) -> FastAPI:
    return create_web_app(demo_app)


class WebClient(TestClient):
    """A browser without JavaScript: cookies kept, CSRF token read from the pages."""

    def csrf(self, path: str = "/logga-in") -> str:
        """This session's CSRF token, as a form of ours carries it (from the page at `path`)."""
        page = self.get(path)
        found = _CSRF.search(page.text)
        assert found, f"no csrf_token on {path} ({page.status_code})"
        return found.group(1)

    def post_form(
        self, path: str, data: dict[str, Any] | None = None, *, token_from: str = "/", **kwargs: Any
    ) -> httpx.Response:
        """POST a form the way a page of ours does: with this session's CSRF token."""
        token = self.csrf(token_from)
        return self.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)

    def login(self, email: str, password: str = DEMO_PASSWORD) -> httpx.Response:
        token = self.csrf("/logga-in")
        return self.post(
            "/logga-in",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=False,
        )


ClientFactory = Callable[..., WebClient]


@pytest.fixture
def anonymous(web: FastAPI) -> Iterator[WebClient]:
    """A client not logged in."""
    with WebClient(web, base_url=BASE_URL) as client:
        yield client


def open_session(app: App, email: str, forbund: str) -> str:
    """A session for the person, opened as a login does but without the password's work
    (argon2 costs a good part of a second on a busy machine); the cookie's token."""
    with app.db.transaction() as session:
        person_id = session.execute(
            select(Person.id)
            .join(Forbund, Forbund.id == Person.forbund_id)
            .where(Forbund.slug == forbund, Person.email == email)
        ).scalar_one()
        return create_session(app, session, person_id, app.clock())


def logged_in_client(web: FastAPI, email: str, forbund: str) -> WebClient:
    client = WebClient(web, base_url=BASE_URL)
    client.__enter__()
    token = open_session(web.state.finsam, email, forbund)
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local", path="/")
    return client


@pytest.fixture
def client_as(web: FastAPI) -> Iterator[ClientFactory]:
    """`client_as(role, forbund="akst")`: a client logged in as the demo login of that role
    (`through_form=True`: by the login form, with the password, as a person does)."""
    clients: list[WebClient] = []

    def make(role: Role | str, forbund: str = "akst", *, through_form: bool = False) -> WebClient:
        email = demo_login(role, forbund).email
        if through_form:
            client = WebClient(web, base_url=BASE_URL)
            client.__enter__()
            answer = client.login(email)
            assert answer.status_code == 303, answer.text
        else:
            client = logged_in_client(web, email, forbund)
        clients.append(client)
        assert client.get("/", follow_redirects=False).status_code == 200
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
