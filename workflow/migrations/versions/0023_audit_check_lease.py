"""audit check lease: a running check of the chain names its owner and beats

Revision ID: 0023_audit_check_lease
Revises: 0020_outbox_web
Create Date: 2026-12-02

A check of the audit chain runs in a thread of one web process. `owner` names that process
(host:pid:random) and `beats` counts its heartbeat, so that another process can tell a check
whose process stopped from one still at work without trusting any clock
(services/cases/audit_trail.py). A check left running by an earlier version has no owner and
is seen as stopped once its beats stand still for the lease.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0023_audit_check_lease"
down_revision: str | Sequence[str] | None = "0020_outbox_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_verification") as batch:
        batch.add_column(
            sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch.add_column(sa.Column("beats", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("audit_verification") as batch:
        batch.drop_column("beats")
        batch.drop_column("owner")
