"""read paths: an index for listing reminders a page at a time

Revision ID: 0010_read_paths
Revises: 0009_mail_recovery
Create Date: 2026-12-02

`reminders list` reads one page ordered by (send_on, send_at, id) within a förbund and
continues after a cursor with a row-value comparison; without this index every page sorted all
the förbund's reminder rows (a million at ten years). It is led by the day, not the moment: an
index led by send_at would be taken by SQLite (without ANALYZE statistics) for the sweep's
`status = 'pending' AND send_at <= now` too, walking every sent row before now instead of the
partial index of pending rows (0004). The other paged lists are served by indexes that were
there already: cases by the unique (forbund_id, dnr) index (registered cases, then ideas with
dnr IS NULL in id order), the outbox and meetings by their förbund index and primary key.
The sweep's partial index on pending rows (0004) stays what the claim uses (bench/sweep.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_read_paths"
down_revision: str | Sequence[str] | None = "0009_mail_recovery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_reminder_list", "reminder", ["forbund_id", "send_on", "send_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_reminder_list", table_name="reminder")
