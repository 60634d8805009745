"""The migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from workflow.app import App


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
