"""meetings: organs, meetings, beredning, agenda, protocol and §§

Revision ID: 0002_meetings
Revises: 0001_core
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models.types

revision: str = "0002_meetings"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organ",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["forbund_id"],
            ["forbund.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("forbund_id", "name"),
    )
    with op.batch_alter_table("organ", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organ_forbund_id"), ["forbund_id"], unique=False)

    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("organ_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", workflow.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "kallelse_sent_at", workflow.models.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["forbund_id"],
            ["forbund.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organ_id"],
            ["organ.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organ_id", "starts_at"),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_forbund_id"), ["forbund_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_organ_id"), ["organ_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "paragraph_sequence",
        sa.Column("organ_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organ_id"],
            ["organ.id"],
        ),
        sa.PrimaryKeyConstraint("organ_id", "year"),
    )
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("presence", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("capacity", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "name"),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "organ_member",
        sa.Column("organ_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["organ_id"],
            ["organ.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("organ_id", "person_id"),
    )
    op.create_table(
        "protocol",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("secretary_id", sa.Integer(), nullable=False),
        sa.Column("created_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "sent_for_justering_at", workflow.models.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("justerat_at", workflow.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("posted_on", sa.Date(), nullable=True),
        sa.Column("taken_down_on", sa.Date(), nullable=True),
        sa.Column("storage_place", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["forbund_id"],
            ["forbund.id"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["secretary_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id"),
    )
    with op.batch_alter_table("protocol", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_protocol_forbund_id"), ["forbund_id"], unique=False)

    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("insats_id", sa.Integer(), nullable=True),
        sa.Column("proposal", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("deferred_from_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deferred_from_id"],
            ["agenda_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["insats_id"],
            ["insats.id"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "section", "position"),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_item_insats_id"), ["insats_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agenda_item_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "beredning_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("insats_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["insats_id"],
            ["insats.id"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("beredning_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_beredning_note_insats_id"), ["insats_id"], unique=False
        )

    op.create_table(
        "protocol_signer",
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("signed_at", workflow.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"],
            ["protocol.id"],
        ),
        sa.PrimaryKeyConstraint("protocol_id", "person_id"),
    )
    op.create_table(
        "recommendation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forbund_id", sa.Integer(), nullable=False),
        sa.Column("insats_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("motivation", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("conditions", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("missing_items", sa.JSON(), nullable=False),
        sa.Column("unanimous", sa.Boolean(), nullable=False),
        sa.Column("dissent", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", workflow.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["forbund_id"],
            ["forbund.id"],
        ),
        sa.ForeignKeyConstraint(
            ["insats_id"],
            ["insats.id"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendation_forbund_id"), ["forbund_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recommendation_insats_id"), ["insats_id"], unique=False
        )

    op.create_table(
        "paragraph",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("organ_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("insats_id", sa.Integer(), nullable=True),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("att_satser", sa.JSON(), nullable=False),
        sa.Column("granted", sa.JSON(), nullable=False),
        sa.Column("conditions", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reservations", sa.JSON(), nullable=False),
        sa.Column("jav", sa.JSON(), nullable=False),
        sa.Column("motivation", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("decided_at", workflow.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["insats_id"],
            ["insats.id"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organ_id"],
            ["organ.id"],
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"],
            ["protocol.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agenda_item_id"),
        sa.UniqueConstraint("organ_id", "year", "number"),
    )
    with op.batch_alter_table("paragraph", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paragraph_insats_id"), ["insats_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_paragraph_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_paragraph_protocol_id"), ["protocol_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paragraph", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paragraph_protocol_id"))
        batch_op.drop_index(batch_op.f("ix_paragraph_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_paragraph_insats_id"))

    op.drop_table("paragraph")
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_insats_id"))
        batch_op.drop_index(batch_op.f("ix_recommendation_forbund_id"))

    op.drop_table("recommendation")
    op.drop_table("protocol_signer")
    with op.batch_alter_table("beredning_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_beredning_note_insats_id"))

    op.drop_table("beredning_note")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_item_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_agenda_item_insats_id"))

    op.drop_table("agenda_item")
    with op.batch_alter_table("protocol", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_protocol_forbund_id"))

    op.drop_table("protocol")
    op.drop_table("organ_member")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_meeting_id"))

    op.drop_table("attendance")
    op.drop_table("paragraph_sequence")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_starts_at"))
        batch_op.drop_index(batch_op.f("ix_meeting_organ_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_forbund_id"))

    op.drop_table("meeting")
    with op.batch_alter_table("organ", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organ_forbund_id"))

    op.drop_table("organ")
