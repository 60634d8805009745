"""reminders, outbox and the register of governing documents

Revision ID: 0004_reminders
Revises: 0001_core
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0004_reminders"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "policy_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("dnr", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("renewal_years", sa.Integer(), nullable=True),
        sa.Column("renew_by", sa.Date(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["forbund_id"], ["forbund.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("forbund_id", "title"),
    )
    with op.batch_alter_table("policy_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_document_forbund_id"), ["forbund_id"], unique=False
        )

    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_ref", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("send_on", sa.Date(), nullable=False),
        sa.Column("send_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.ForeignKeyConstraint(["forbund_id"], ["forbund.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "forbund_id",
            "rule",
            "step",
            "subject_kind",
            "subject_id",
            "due_on",
            name="uq_reminder_key",
        ),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        # Partial: the sweep only ever looks for unsent rows (style.md).
        batch_op.create_index(
            "ix_reminder_due_pending",
            ["forbund_id", "send_at"],
            unique=False,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )
        batch_op.create_index("ix_reminder_subject", ["subject_kind", "subject_id"], unique=False)

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=True),
        sa.Column("reminder_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("to_address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("to_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("text_body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("html_body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("lease_until", workflow.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", workflow.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["forbund_id"], ["forbund.id"]),
        sa.ForeignKeyConstraint(["reminder_id"], ["reminder.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_message_forbund_id"), ["forbund_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_message_reminder_id"), ["reminder_id"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_pending",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )


def downgrade() -> None:
    op.drop_table("outbox_message")
    op.drop_table("reminder")
    op.drop_table("policy_document")
