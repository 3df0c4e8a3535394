"""Alembic environment for the central schema: always run in-process, on a connection (and
inside the transaction) that `central/store/schema.py` hands over."""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel.sql.sqltypes import AutoString

from classroom_support.central.models import central_metadata
from classroom_support.central.store.schema import VERSION_TABLE
from classroom_support.models import UTCDateTime

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic path is supported
    raise RuntimeError("run central migrations through `classroom-support central migrate`")


def render_item(kind: str, obj: Any, _autogen: AutogenContext) -> str | bool:
    """Scripts are frozen history: write the column types they create in plain SQLAlchemy,
    not as the project's own types (UTCDateTime, SQLModel's AutoString) that may change."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String({obj.length or ''})"
    return False


context.configure(
    connection=connection,
    target_metadata=central_metadata,
    # Its own version table: a database shared with the laptop's (or anything else's) Alembic
    # keeps the two histories apart.
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
