"""owner insatser index: a project owner's insatser in dnr order, with their state

Revision ID: 0032_owner_insatser_index
Revises: 0031_reminder_plan
Create Date: 2026-12-03

The project owner's start page (services/funding/reports.py owner_overview) lists the person's
running insatser first, then the closed ones, each in dnr order, and their owed reports. With
only ix_insats_project_owner (the person alone) SQLite walked the förbund's every insats by
förbund and sorted the person's, and found the reports by walking every owed report of the
förbund: 212 ms a request at 100 000 insatser (issue 15). Led by the person, with the dnr in
the case list's order and the state, this index gives both walks and the reports' insatser
from the person's own entries. It replaces ix_insats_project_owner, whose lookups it serves.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032_owner_insatser_index"
down_revision: str | Sequence[str] | None = "0031_reminder_plan"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BYTEWISE = {"dnr": 'COLLATE "C"'}  # the case list's order on PostgreSQL (services/paging.py)


def upgrade() -> None:
    op.create_index(
        "ix_insats_owner_dnr",
        "insats",
        ["project_owner_id", "forbund_id", "dnr", "id", "state"],
        postgresql_ops=BYTEWISE,
    )
    op.drop_index("ix_insats_project_owner", table_name="insats")


def downgrade() -> None:
    op.create_index("ix_insats_project_owner", "insats", ["project_owner_id"])
    op.drop_index("ix_insats_owner_dnr", table_name="insats")
