"""mail recovery: sender processes, relay state and incidents, failure causes, frame history

Revision ID: 0009_mail_recovery
Revises: 0004_reminders, 0003_funding
Create Date: 2026-11-30

The outbox gets why a message failed and since when it has been deferred; senders and the
relay get rows of their own (workflow/services/reminders/workers.py, relay.py). A revised
budget frame keeps its earlier split as superseded rows instead of deleting them, so the
frame_contribution table (0003_funding) is altered too: this revision follows both (a
depends_on would leave 0003 a head of the scripts but not of the database, which
`Database.require_schema` reads as an old schema).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0009_mail_recovery"
down_revision: str | Sequence[str] | None = ("0004_reminders", "0003_funding")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = workflow.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "scheduler_process",
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("beats", sa.Integer(), nullable=False),
        sa.Column("fenced", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTC(timezone=True), nullable=False),
        sa.Column("beat_at", UTC(timezone=True), nullable=False),
        sa.Column("swept_at", UTC(timezone=True), nullable=True),
        sa.Column("delivered_at", UTC(timezone=True), nullable=True),
        sa.Column("stopped_at", UTC(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_table(
        "relay_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("cause", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_probe_at", UTC(timezone=True), nullable=True),
        sa.Column("checked_at", UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "relay_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cause", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC(timezone=True), nullable=False),
        sa.Column("last_failure_at", UTC(timezone=True), nullable=False),
        sa.Column("ended_at", UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failure_cause", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
        batch_op.add_column(sa.Column("deferred_since", UTC(timezone=True), nullable=True))
    with op.batch_alter_table("frame_contribution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_at", UTC(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("frame_contribution", schema=None) as batch_op:
        batch_op.drop_column("superseded_at")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("deferred_since")
        batch_op.drop_column("failure_cause")
    op.drop_table("relay_incident")
    op.drop_table("relay_state")
    op.drop_table("scheduler_process")
