"""feeds: each person's calendar feed and their choice of how reminders reach them

Revision ID: 0021_feeds
Revises: 0014_start_pages
Create Date: 2026-12-02

A person's ICS feed is reached by a secret address, stored as its SHA-256 only
(calendar_feed). Per reminder rule a person chooses e-mail at once, a daily or weekly digest
or the start page only (notification_preference); a reminder held back from its own e-mail
waits in digest_item for its digest, or is shown on the start page.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0021_feeds"
down_revision: str | Sequence[str] | None = "0014_start_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = workflow.models.types.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", Text(length=64), nullable=False),
        sa.Column("prefix", Text(length=16), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("last_used_at", UTC(timezone=True), nullable=True),
        sa.Column("revoked_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_calendar_feed_person_id", "calendar_feed", ["person_id"])
    op.create_index("ix_calendar_feed_token_hash", "calendar_feed", ["token_hash"], unique=True)
    op.create_table(
        "notification_preference",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("rule", Text(length=60), nullable=False),
        sa.Column("delivery", Text(length=20), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id", "rule"),
    )
    op.create_table(
        "digest_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("rule", Text(length=60), nullable=False),
        sa.Column("delivery", Text(length=20), nullable=False),
        sa.Column("subject_ref", Text(length=80), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("subject", Text(length=400), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("deliver_at", UTC(timezone=True), nullable=True),
        sa.Column("status", Text(length=20), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["forbund_id"], ["forbund.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["reminder_id"], ["reminder.id"]),
        sa.ForeignKeyConstraint(["outbox_message_id"], ["outbox_message.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_digest_item_reminder_id", "digest_item", ["reminder_id"])
    op.create_index("ix_digest_item_person", "digest_item", ["person_id", "created_at"])
    op.create_index(
        "ix_digest_item_due",
        "digest_item",
        ["forbund_id", "deliver_at"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_digest_item_due", table_name="digest_item")
    op.drop_index("ix_digest_item_person", table_name="digest_item")
    op.drop_index("ix_digest_item_reminder_id", table_name="digest_item")
    op.drop_table("digest_item")
    op.drop_table("notification_preference")
    op.drop_index("ix_calendar_feed_token_hash", table_name="calendar_feed")
    op.drop_index("ix_calendar_feed_person_id", table_name="calendar_feed")
    op.drop_table("calendar_feed")
