"""Alembic environment: always run through Database.migrate(), which hands us a connection."""

from alembic import context
from sqlmodel import SQLModel

from workflow.models import load_all

load_all()  # every table must be on the metadata for autogenerate
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
