"""Attachments (bilagor) of a case: an application's, a report's or an agreement's files;
and the documents of a styrdokument (subject_kind `styrdokument`, policy_id set, no insats).

The file itself is kept outside the database, named by the SHA-256 of its content
(workflow/services/attachments); the row says whose case it belongs to, what it is attached
to, its name as given, who added it and when. Rows are never deleted except by a gallring
rule (services/archive/gallring.py, kind `bilaga`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from workflow.models.types import UTCDateTime

OWNER_RULE = (
    "(insats_id IS NOT NULL AND policy_id IS NULL) OR "
    "(insats_id IS NULL AND policy_id IS NOT NULL AND subject_kind = 'styrdokument')"
)


class Attachment(SQLModel, table=True):
    __table_args__ = (
        Index("ix_attachment_subject", "insats_id", "subject_kind", "subject_id"),
        # A case's attachment always has its insats; a styrdokument's file has its policy.
        CheckConstraint(OWNER_RULE, name="ck_attachment_owner"),
    )

    id: int | None = Field(default=None, primary_key=True)
    forbund_id: int = Field(foreign_key="forbund.id", index=True)
    # None only for a styrdokument's file (policy_id set instead).
    insats_id: int | None = Field(default=None, foreign_key="insats.id")
    policy_id: int | None = Field(default=None, foreign_key="policy_document.id", index=True)
    # ansokan (subject_id: none) | rapport (a report's id) | avtal (an agreement's id)
    # | styrdokument (a policy's document; policy_id)
    subject_kind: str = Field(max_length=20)
    subject_id: int | None = None
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64, index=True)
    added_by_id: int = Field(foreign_key="person.id")
    added_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
