"""The migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

import threading
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex
from sqlmodel import SQLModel

from workflow.app import App
from workflow.models import Insats
from workflow.services.cases.text_search import FTS_TABLE
from workflow.settings import load_settings

# The text search's indexes are not models (0026_textsearch_index): SQLite's FTS5 table of
# case texts and its shadow tables (insats_text_data, ...), kept by triggers, and
# PostgreSQL's pg_trgm indexes on lower(dnr) and lower(title), which would need the extension
# wherever the models build a schema; test_the_text_search_index_is_in_place checks them.
TRIGRAM_INDEXES = {"ix_insats_dnr_trgm", "ix_insats_title_trgm"}


def _modelled(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
    if name is None:
        return True
    if kind == "table":
        return not name.startswith(FTS_TABLE)
    return not (kind == "index" and name in TRIGRAM_INDEXES)


def test_the_migrated_schema_matches_the_models(app: App) -> None:
    with app.db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _modelled}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_init_is_idempotent_and_reports_the_schema(app: App) -> None:
    first = app.db.migrate()
    assert app.db.migrate() == first
    current, expected = app.db.schema_status()
    assert current == expected


def test_the_list_indexes_order_the_dnr_as_the_case_list_does(app: App) -> None:
    """compare_metadata does not see an index column's collation. The case list's indexes
    (models/insats.py) give its order only if, on PostgreSQL, they hold the dnr `COLLATE
    "C"` (bytewise, as SQLite compares): in the models and in the migrated schema alike."""
    names = {"ix_insats_list_dnr", "ix_insats_list_state"}
    indexes = [i for i in Insats.__table__.indexes if i.name in names]  # type: ignore[attr-defined]
    assert {i.name for i in indexes} == names
    for index in indexes:
        assert 'dnr COLLATE "C"' in str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    if app.db.engine.dialect.name != "postgresql":
        return
    with app.db.engine.connect() as connection:
        migrated: dict[str, str] = dict(
            connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = current_schema() AND tablename = 'insats'"
                )
            ).all()
        )
    for name in names:
        assert 'dnr COLLATE "C"' in migrated[name], migrated[name]


def test_the_text_search_index_is_in_place(app: App) -> None:
    with app.db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            found = connection.exec_driver_sql(
                "SELECT type, name FROM sqlite_master WHERE name LIKE 'insats_text%'"
            ).all()
            assert ("table", FTS_TABLE) in found
            assert {n for t, n in found if t == "trigger"} == {
                "insats_text_insert",
                "insats_text_update",
                "insats_text_delete",
            }
            return
        indexes = dict(
            connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = current_schema() AND tablename = 'insats'"
                )
            ).all()
        )
    for name in TRIGRAM_INDEXES:
        assert "gin_trgm_ops" in indexes[name] and "lower(" in indexes[name], indexes[name]


@pytest.mark.postgres
def test_two_processes_initialising_one_database_at_once_both_succeed(
    postgres_schema: str,
) -> None:
    """Containers often each run `finsam init` as they start: the migrations take turns (an
    advisory lock), so the second finds the schema done instead of failing half-way."""
    from tests.conftest import POSTGRES_URL, _schema_url

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    apps = [App.create(load_settings(database_url=_schema_url(schema))) for _ in range(2)]
    start = threading.Barrier(2)
    results: list[object] = [None, None]

    def init(n: int) -> None:
        start.wait()
        try:
            results[n] = apps[n].db.migrate()
        except Exception as failed:  # the failure is the finding
            results[n] = failed

    try:
        threads = [threading.Thread(target=init, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert results[0] == results[1] and isinstance(results[0], list) and results[0]
    finally:
        for app in apps:
            app.close()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
