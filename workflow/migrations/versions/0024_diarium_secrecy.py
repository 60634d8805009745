"""diarium secrecy: a registered case whose subject the public diarium masks

Revision ID: 0024_diarium_secrecy
Revises: 0022_policy_attachments
Create Date: 2026-12-02

One row per case marked secret under offentlighets- och sekretesslagen (2009:400), with the
paragraph that applies; the public diarium shows the entry but not its subject.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0024_diarium_secrecy"
down_revision: str | Sequence[str] | None = "0022_policy_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = workflow.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "diarium_secrecy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("insats_id", sa.Integer(), nullable=False),
        sa.Column("paragraph", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("marked_by_id", sa.Integer(), nullable=True),
        sa.Column("marked_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["forbund_id"], ["forbund.id"]),
        sa.ForeignKeyConstraint(["insats_id"], ["insats.id"]),
        sa.ForeignKeyConstraint(["marked_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("insats_id"),
    )
    op.create_index(op.f("ix_diarium_secrecy_forbund_id"), "diarium_secrecy", ["forbund_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_diarium_secrecy_forbund_id"), table_name="diarium_secrecy")
    op.drop_table("diarium_secrecy")
