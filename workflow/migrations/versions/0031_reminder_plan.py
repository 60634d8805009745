"""reminder plan: when the förbund's reminders were last planned as a whole

Revision ID: 0031_reminder_plan
Revises: 0030_funding_read_indexes
Create Date: 2026-12-03

Each sweep of the scheduler (every few minutes) planned the förbund's reminders as a whole:
at 100 000 insatser 20 s of CPU and 820 MiB, with the förbund's audit chain locked, so every
change of the förbund waited (issue 15). Now the sweep plans the whole förbund once a local day,
or at once when the definitions that plan changed, and otherwise only what it is about to
send. This table says when the last whole plan was, and from which definitions.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from workflow.models.types import UTCDateTime

Text = sqlmodel.sql.sqltypes.AutoString

revision: str = "0031_reminder_plan"
down_revision: str | Sequence[str] | None = "0030_funding_read_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_plan",
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("plan_key", Text(length=64), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["forbund_id"], ["forbund.id"]),
        sa.PrimaryKeyConstraint("forbund_id"),
    )


def downgrade() -> None:
    op.drop_table("reminder_plan")
