"""scale read indexes: the reports still owed, by due date

Revision ID: 0025_scale_read_indexes
Revises: 0024_diarium_secrecy
Create Date: 2026-12-02

The reports still owed by due date (`reports overdue`) sorted every report of a förbund for
one page (issue 15, 100 000 cases). An index on the förbund and the due date of the owed
reports lets a page start at the first report due and sort only those due on the same day (by
dnr). It is partial, as the reminders' due index (0004): an index on all reports by förbund
and due date would draw SQLite's plan for the approved reports (the participant counts) off
the index on status, and make that query twice as slow.

(The dnr in bytewise order on PostgreSQL, first meant for this revision too, is served by
0025_webp95_list_indexes, whose list index leads with forbund_id and dnr COLLATE "C".)
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


def downgrade() -> None:
    op.drop_index("ix_report_owed_due_on", table_name="report")
