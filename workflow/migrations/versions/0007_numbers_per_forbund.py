"""ideas and meetings are numbered per förbund

Revision ID: 0007_numbers_per_forbund
Revises: 0002_meetings
Create Date: 2026-12-01

An idea was named ide-<row id> and a meeting by its row id, counted across every förbund of
the database, so one förbund saw how much the others did. Each förbund now numbers its own
insatser and meetings 1, 2, 3 ... in the order they were made; existing rows are numbered the
same way, so in a database with one förbund every number stays what it was. A reference by
the old number still finds its row where no new number takes it (records.py, meetings.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_numbers_per_forbund"
down_revision: str | Sequence[str] | None = "0002_meetings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("insats", "meeting")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("number", sa.Integer(), nullable=True))
        # Correlated count: the same statement on SQLite and PostgreSQL.
        op.execute(
            f"UPDATE {table} SET number = (SELECT COUNT(*) FROM {table} AS earlier "
            f"WHERE earlier.forbund_id = {table}.forbund_id AND earlier.id <= {table}.id)"
        )
        op.create_index(f"ix_{table}_forbund_number", table, ["forbund_id", "number"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_forbund_number", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("number")
