"""The migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlmodel import SQLModel

from workflow.app import App

# Indexes Alembic cannot compare, each checked on its own below. The index on dnr in bytewise
# order (models/insats.py) is PostgreSQL's only and an expression in the models: SQLite cannot
# reflect expression indexes (and has no such index), and PostgreSQL reflects it as a plain
# index on the two columns, without the collation that is its point.
NOT_COMPARED = frozenset({"ix_insats_forbund_dnr_bytewise"})


def _comparable(metadata: MetaData) -> MetaData:
    """A copy of the models' tables without the indexes in NOT_COMPARED."""
    copy = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    for table in copy.tables.values():
        for index in [i for i in table.indexes if i.name in NOT_COMPARED]:
            table.indexes.discard(index)
    return copy


def _compared_name(name: Any, type_: str, parent_names: Any) -> bool:
    return not (type_ == "index" and name in NOT_COMPARED)


def test_the_migrated_schema_matches_the_models(app: App) -> None:
    with app.db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _compared_name}
        )
        differences = compare_metadata(context, _comparable(SQLModel.metadata))
    assert differences == []


def test_dnr_has_a_bytewise_index_on_postgresql_and_needs_none_on_sqlite(app: App) -> None:
    with app.db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            definition = connection.execute(
                text(
                    "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                    "AND indexname = 'ix_insats_forbund_dnr_bytewise'"
                )
            ).scalar_one()
            assert definition.endswith('.insats USING btree (forbund_id, dnr COLLATE "C")')
        else:
            # SQLite compares text bytewise: the unique (forbund_id, dnr) serves that order.
            names = {index["name"] for index in inspect(connection).get_indexes("insats")}
            assert "ix_insats_forbund_dnr_bytewise" not in names


def test_init_is_idempotent_and_reports_the_schema(app: App) -> None:
    first = app.db.migrate()
    assert app.db.migrate() == first
    current, expected = app.db.schema_status()
    assert current == expected
