"""scale read indexes: reports by due date, and dnr in bytewise order on PostgreSQL

Revision ID: 0025_scale_read_indexes
Revises: 0024_diarium_secrecy
Create Date: 2026-12-02

Two read paths that sorted every row of a förbund for one page (issue 15, 100 000 cases):

- The reports still owed by due date (`reports overdue`): an index on the förbund and the due
  date of the owed reports lets a page start at the first report due and sort only those due
  on the same day (by dnr), where the index on the förbund read and sorted every report. It is
  partial, as the reminders' due index (0004): an index on all reports by förbund and due date
  would draw SQLite's plan for the approved reports (the participant counts) off the index on
  status, and make that query twice as slow.
- The case lists and the diarium order dnr bytewise (`COLLATE "C"` on PostgreSQL, so that both
  databases list the same order); PostgreSQL cannot read that order from the unique
  (forbund_id, dnr), which is in the database's collation, and sorted every case for each
  page. SQLite's unique index is bytewise already, so the second index is PostgreSQL's only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_scale_read_indexes"
down_revision: str | Sequence[str] | None = "0024_diarium_secrecy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    owed = sa.text("status IN ('vantar', 'komplettering')")
    op.create_index(
        "ix_report_owed_due_on",
        "report",
        ["forbund_id", "due_on"],
        sqlite_where=owed,
        postgresql_where=owed,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_insats_forbund_dnr_bytewise", "insats", ["forbund_id", sa.text('dnr COLLATE "C"')]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_insats_forbund_dnr_bytewise", table_name="insats")
    op.drop_index("ix_report_owed_due_on", table_name="report")
