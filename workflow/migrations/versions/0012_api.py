"""api: personal API tokens and Idempotency-Key answers

Revision ID: 0012_api
Revises: 0011_web
Create Date: 2026-12-02

The JSON API (workflow/web/api) keeps what several `finsam serve` processes must share in the
database (workflow/models/api_access.py): tokens, stored as their SHA-256 only, and the first
answer to each Idempotency-Key a person sent.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0012_api"
down_revision: str | Sequence[str] | None = "0011_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = workflow.models.types.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", Text(length=100), nullable=False),
        sa.Column("token_hash", Text(length=64), nullable=False),
        sa.Column("prefix", Text(length=16), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("last_used_at", UTC(timezone=True), nullable=True),
        sa.Column("expires_at", UTC(timezone=True), nullable=True),
        sa.Column("revoked_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_api_token_person_id", "api_token", ["person_id"])
    op.create_index("ix_api_token_token_hash", "api_token", ["token_hash"], unique=True)
    op.create_table(
        "api_idempotency",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("key", Text(length=200), nullable=False),
        sa.Column("fingerprint", Text(length=64), nullable=False),
        sa.Column("method", Text(length=10), nullable=False),
        sa.Column("path", Text(length=500), nullable=False),
        sa.Column("state", Text(length=10), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("completed_at", UTC(timezone=True), nullable=True),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id", "key"),
    )
    op.create_index("ix_api_idempotency_expires_at", "api_idempotency", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_api_idempotency_expires_at", table_name="api_idempotency")
    op.drop_table("api_idempotency")
    op.drop_index("ix_api_token_token_hash", table_name="api_token")
    op.drop_index("ix_api_token_person_id", table_name="api_token")
    op.drop_table("api_token")
