"""oidc: identities at an OpenID provider linked to a person

Revision ID: 0013_oidc
Revises: 0012_api
Create Date: 2026-12-02

An OpenID Connect login finds its person by e-mail or by an identity (issuer and subject or
HSA-id) linked with `finsam people identity` (workflow/models/identity.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0013_oidc"
down_revision: str | Sequence[str] | None = "0012_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = workflow.models.types.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "person_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("issuer", Text(length=500), nullable=False),
        sa.Column("subject", Text(length=255), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["forbund_id"], ["forbund.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("forbund_id", "issuer", "subject"),
    )
    op.create_index("ix_person_identity_person_id", "person_identity", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_person_identity_person_id", table_name="person_identity")
    op.drop_table("person_identity")
