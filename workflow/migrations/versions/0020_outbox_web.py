"""outbox web: the audit chain checks asked for on the web, with their progress

Revision ID: 0020_outbox_web
Revises: 0014_start_pages
Create Date: 2026-12-02

A check of a large audit trail runs in the background (services/cases/audit_trail.py); its
row says how far it has come and, at the end, whether the chain holds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0020_outbox_web"
down_revision: str | Sequence[str] | None = "0014_start_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = workflow.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "audit_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("broken_at", sa.Integer(), nullable=True),
        sa.Column("problem", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("started_at", UTC(timezone=True), nullable=False),
        sa.Column("finished_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["forbund_id"], ["forbund.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_verification_forbund_id"), "audit_verification", ["forbund_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_verification_forbund_id"), table_name="audit_verification")
    op.drop_table("audit_verification")
