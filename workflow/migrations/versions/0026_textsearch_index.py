"""text search index: the case list's free text found in an index on both databases

Revision ID: 0026_textsearch_index
Revises: 0025_webp95_list_indexes
Create Date: 2026-12-02

The case list's text filter (services/cases/text_search.py) finds its text anywhere in a
case's dnr or title. A substring is not a range of any B-tree index, so the list read every
case of the förbund before it knew a text matched none (about 300 ms at 100 000 cases on
SQLite, bench/web.py). Both databases index the three-letter pieces (trigrams) instead:

- SQLite: an FTS5 table `insats_text` with the trigram tokenizer (case-insensitive: it folds
  every letter, É as e, Å as å), one row per case with the case's id as its rowid. Triggers
  keep it in step with every write of a dnr or title, whatever writes it (a service, an
  import, a benchmark's bulk insert, the sqlite3 shell). They store `lower()` of each: in
  the app's connections Python's (workflow/db.py), elsewhere SQLite's ASCII one; the
  tokenizer folds the rest either way, and the list checks every row it finds against the
  filter as it always has, so the index only narrows the rows, never decides them.
  Beware: a later batch migration that copies `insats` (op.batch_alter_table) drops these
  triggers with the old table and must create them again.
- PostgreSQL: GIN indexes with pg_trgm's operator class on lower(dnr) and lower(title), which
  serve `lower(...) LIKE lower(...)`. pg_trgm is an extension: creating it needs the CREATE
  privilege on the database (a superuser, or a trusted-extension owner, see README).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_textsearch_index"
down_revision: str | Sequence[str] | None = "0025_webp95_list_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As services/cases/text_search.py reads them.
FTS_TABLE = "insats_text"
TRIGGERS = {
    "insats_text_insert": f"""
        CREATE TRIGGER insats_text_insert AFTER INSERT ON insats BEGIN
            INSERT INTO {FTS_TABLE}(rowid, dnr, title)
            VALUES (new.id, lower(new.dnr), lower(new.title));
        END""",
    "insats_text_update": f"""
        CREATE TRIGGER insats_text_update AFTER UPDATE OF id, dnr, title ON insats BEGIN
            DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
            INSERT INTO {FTS_TABLE}(rowid, dnr, title)
            VALUES (new.id, lower(new.dnr), lower(new.title));
        END""",
    "insats_text_delete": f"""
        CREATE TRIGGER insats_text_delete AFTER DELETE ON insats BEGIN
            DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
        END""",
}
PG_INDEXES = {"ix_insats_dnr_trgm": "dnr", "ix_insats_title_trgm": "title"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
            "dnr, title, tokenize = 'trigram case_sensitive 0')"
        )
        # Run by Database.migrate, in the app's connection: lower() is Python's here.
        op.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, dnr, title) "
            "SELECT id, lower(dnr), lower(title) FROM insats"
        )
        for statement in TRIGGERS.values():
            op.execute(statement)
        return
    # In `public`, not the schema being migrated (the first on the search path): an extension
    # is one per database, and dropping a schema would drop it for every other schema too.
    # Where a DBA installed it beforehand, in whatever schema, that one is used.
    bind = op.get_bind()
    bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    schema = bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
    ).scalar_one()
    ops = f"{bind.dialect.identifier_preparer.quote_schema(schema)}.gin_trgm_ops"
    for name, column in PG_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON insats USING gin (lower({column}) {ops})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute(f"DROP TABLE {FTS_TABLE}")
        return
    for name in PG_INDEXES:
        op.execute(f"DROP INDEX {name}")
    # The extension stays: other schemas of the database may use it.
