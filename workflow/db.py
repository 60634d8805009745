"""Engines, transactions and migrations for SQLite (default, WAL) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session

from workflow.errors import BadInput
from workflow.migrations.heads import HEADS
from workflow.settings import PACKAGE_DIR, Settings

if TYPE_CHECKING:  # Alembic is imported by `finsam init` alone (migrate), never at start-up
    from alembic.config import Config

MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
READ_ONLY = "finsam_read_only"
# The PostgreSQL advisory lock that one migration at a time holds ("FINS" in ASCII).
MIGRATION_LOCK = 0x46494E53
VERSION_TABLE = "alembic_version"


def _parse_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise BadInput(
            f"ogiltig databas-URL {raw!r}; ange t.ex. sqlite:///finsam.db "
            "eller postgresql+psycopg://user@host/db"
        ) from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _check_sqlite_path(url: URL) -> None:
    """Fail early with a clear line instead of sqlite3's 'unable to open database file'."""
    if not url.database or url.database == ":memory:":
        return
    path = Path(url.database).expanduser().absolute()
    folder = path.parent
    if not folder.is_dir():
        raise BadInput(
            f"kan inte skapa databasen {path}: mappen {folder} finns inte; "
            "ange en annan sökväg med --db eller FINSAM_DATABASE_URL"
        )
    target = path if path.exists() else folder
    if not os.access(target, os.W_OK):
        raise BadInput(
            f"kan inte skriva till databasen {path}: saknar skrivrätt; "
            "ange en annan sökväg med --db eller FINSAM_DATABASE_URL"
        )


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def make_engine(settings: Settings) -> Engine:
    url = _parse_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    _check_sqlite_path(url)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
    synchronous = settings.sqlite_synchronous

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); pysqlite's implicit BEGIN is deferred and would let
        # two writers read the same state before either takes the lock.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()
        # SQLite's own lower() folds only ASCII, so a search for "ÅLDER" would miss "ålder"
        # (ilike compiles to lower() on both sides); Python's folds every letter, as
        # PostgreSQL's does. No index is built on lower(), so redefining it changes no index.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writing transaction takes SQLite's write lock at once, so what it reads stays true
        # until it commits; readers use a deferred BEGIN and never block writers (WAL).
        # Straight to the driver: this runs before every transaction, and SQLAlchemy's
        # execution path would cost more than the BEGIN itself (bench/lifecycle.py).
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


@dataclass
class Database:
    settings: Settings
    engine: Engine

    @classmethod
    def open(cls, settings: Settings) -> Database:
        return cls(settings=settings, engine=make_engine(settings))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One all-or-nothing unit of work: commit on success, roll back on any error.

        The connection owns the transaction and the Session joins it (SQLAlchemy's pattern for
        a session inside an external transaction): the Session's own transaction bookkeeping
        cost a fifth of a short change's time (bench/lifecycle.py).
        """
        with (
            self.engine.begin() as connection,
            Session(
                bind=connection, expire_on_commit=False, join_transaction_mode="rollback_only"
            ) as session,
        ):
            yield session
            session.flush()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        engine = self.engine.execution_options(**{READ_ONLY: True})
        # Closing (not rolling back) ends the read transaction and keeps what was loaded usable.
        with Session(engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read whose statements all see the database as of its first one, for a read made
        of several queries that must agree (an export walking two ordered queries side by
        side). SQLite's read transaction is such a snapshot already (WAL); PostgreSQL's
        default, READ COMMITTED, gives each statement its own, so it reads REPEATABLE READ."""
        engine = self.engine.execution_options(**{READ_ONLY: True})
        if engine.dialect.name == "postgresql":
            engine = engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with Session(engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    # -- schema ---------------------------------------------------------------------------

    def _alembic_config(self, connection: Connection) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        return config

    def migrate(self) -> list[str]:
        """Create or upgrade the schema to the newest revision; returns the heads now in place."""
        from alembic import command

        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Several processes may start with `finsam init` at once: the others wait here
                # and then find the schema at the newest revision. One key for the whole
                # database, not per schema, since CREATE EXTENSION (0026) is database-wide.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            command.upgrade(self._alembic_config(connection), "heads")
        return sorted(self.current_revisions())

    def current_revisions(self) -> set[str]:
        """The revisions the database's schema has (none when it was never initialised).

        Plain SQL on Alembic's version table, so that every command can check the schema
        without importing Alembic (workflow/migrations/heads.py).
        """
        with self.engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            if not connection.dialect.has_table(connection, VERSION_TABLE):
                return set()
            rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
            return {row[0] for row in rows}

    def schema_status(self) -> tuple[set[str], set[str]]:
        """(revisions the database has, revisions this code expects)."""
        return self.current_revisions(), set(HEADS)

    def require_schema(self) -> None:
        try:
            current, expected = self.schema_status()
        except OperationalError as exc:
            raise BadInput(f"kan inte öppna databasen: {exc.orig}; kontrollera --db") from None
        if not current:
            raise BadInput("databasen är inte initierad; kör 'finsam init' först")
        if current != expected:
            raise BadInput("databasen har ett äldre schema; kör 'finsam init' för att uppgradera")


def safe_url(raw: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(raw).render_as_string(hide_password=True)
    except ArgumentError:
        return raw
