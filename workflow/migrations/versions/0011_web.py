"""web: passwords, sessions, login throttle, password links; the channel of each audit event

Revision ID: 0011_web
Revises: 0010_read_paths
Create Date: 2026-12-02

The web application (workflow/web) keeps everything several `finsam serve` processes must
share in the database (workflow/models/access.py). audit_event gets the channel an event came
through; a plain ADD COLUMN (not a batch copy) so SQLite keeps the chain-head trigger of 0005.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0011_web"
down_revision: str | Sequence[str] | None = "0010_read_paths"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = workflow.models.types.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "password_credential",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", Text(length=200), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_table(
        "web_session",
        sa.Column("id_hash", Text(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("method", Text(length=20), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_web_session_person_id", "web_session", ["person_id"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", Text(length=254), nullable=False),
        sa.Column("address", Text(length=64), nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failure_account", "login_failure", ["account", "at"])
    op.create_index("ix_login_failure_address", "login_failure", ["address", "at"])
    op.create_table(
        "password_link",
        sa.Column("token_hash", Text(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("used_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_password_link_person_id", "password_link", ["person_id"])
    op.add_column("audit_event", sa.Column("channel", Text(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("channel")
    op.drop_index("ix_password_link_person_id", table_name="password_link")
    op.drop_table("password_link")
    op.drop_index("ix_login_failure_address", table_name="login_failure")
    op.drop_index("ix_login_failure_account", table_name="login_failure")
    op.drop_table("login_failure")
    op.drop_index("ix_web_session_person_id", table_name="web_session")
    op.drop_table("web_session")
    op.drop_table("password_credential")
