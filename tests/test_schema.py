"""The migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex
from sqlmodel import SQLModel

from workflow.app import App
from workflow.models import Insats


def test_the_migrated_schema_matches_the_models(app: App) -> None:
    with app.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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
