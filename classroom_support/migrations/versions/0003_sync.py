"""Sync: sync state, log and parked items; pending flags on sessions and closures.

Existing closures get content-derived ids (the same default holiday has the same id on every
laptop and on the central server); the untouched defaults are not queued for upload.

Revision ID: 0003_sync
Revises: 0002_sla
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import classroom_support.models
from classroom_support.config import SAUDI_HOLIDAYS
from classroom_support.syncwire import seed_closure_id

revision = "0003_sync"
down_revision = "0002_sla"
branch_labels = None
depends_on = None

UTC_DT = classroom_support.models.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("course_session", schema=None) as batch:
        batch.add_column(
            sa.Column("sync_pending", sa.Boolean(), nullable=False, server_default="1")
        )
    with op.batch_alter_table("closure", schema=None) as batch:
        batch.add_column(
            sa.Column("sync_pending", sa.Boolean(), nullable=False, server_default="1")
        )
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("central_url", sa.String(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("device_bound", sa.Boolean(), nullable=False),
        sa.Column("device_name", sa.String(), nullable=False),
        sa.Column("halls", sa.String(), nullable=False),
        sa.Column("last_attempt_at", UTC_DT(), nullable=True),
        sa.Column("last_success_at", UTC_DT(), nullable=True),
        sa.Column("last_result", sa.String(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=False),
        sa.Column("skew_ms", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DT(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "sync_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DT(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_log")),
    )
    with op.batch_alter_table("sync_log", schema=None) as batch:
        batch.create_index(batch.f("ix_sync_log_at"), ["at"], unique=False)
    op.create_table(
        "sync_parked",
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("item_kind", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("parked_at", UTC_DT(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_sync_parked")),
    )
    _rekey_closures()


def _rekey_closures() -> None:
    """Default holidays seeded before sync existed had random ids: give them the shared id and
    leave them out of the upload (the server seeds the same). Anything else is uploaded."""
    conn = op.get_bind()
    defaults = {(c.start, c.end, c.name) for c in SAUDI_HOLIDAYS}
    rows = conn.execute(
        sa.text("SELECT id, start_day, end_day, name, deleted FROM closure")
    ).fetchall()
    taken = {row[0] for row in rows}
    for old_id, start, end, name, deleted in rows:
        new_id = seed_closure_id(start, end, name)
        current = old_id
        if new_id not in taken:
            conn.execute(
                sa.text("UPDATE closure SET id = :new WHERE id = :old"),
                {"new": new_id, "old": old_id},
            )
            taken.add(new_id)
            current = new_id
        if (start, end, name) in defaults and not deleted:
            conn.execute(
                sa.text("UPDATE closure SET sync_pending = 0 WHERE id = :id"), {"id": current}
            )


def downgrade() -> None:
    op.drop_table("sync_parked")
    with op.batch_alter_table("sync_log", schema=None) as batch:
        batch.drop_index(batch.f("ix_sync_log_at"))
    op.drop_table("sync_log")
    op.drop_table("sync_state")
    with op.batch_alter_table("closure", schema=None) as batch:
        batch.drop_column("sync_pending")
    with op.batch_alter_table("course_session", schema=None) as batch:
        batch.drop_column("sync_pending")
