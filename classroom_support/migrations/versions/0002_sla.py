"""SLA: folded SLA facts on tickets, queue indexes, closures, meta.

Revision ID: 0002_sla
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import classroom_support.models

revision = "0002_sla"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

UTC_DT = classroom_support.models.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch:
        batch.add_column(sa.Column("is_open", sa.Boolean(), nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("priority_rank", sa.Integer(), nullable=False, server_default="1")
        )
        batch.add_column(sa.Column("pauses", sa.String(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("warned", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("breached", sa.String(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("escalated_at", UTC_DT(), nullable=True))
        for name in ("rca_cause", "rca_what", "rca_action", "rca_owner"):
            batch.add_column(sa.Column(name, sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("rca_at", UTC_DT(), nullable=True))
        batch.create_index(
            "ix_ticket_queue_age", ["hall_code", "is_open", "created_at", "id"], unique=False
        )
        batch.create_index(
            "ix_ticket_queue_priority",
            ["hall_code", "is_open", "priority_rank", "created_at"],
            unique=False,
        )
    # Existing tickets: derive the new columns from what the rows already say.
    op.execute("UPDATE ticket SET is_open = (status != 'verified')")
    op.execute(
        "UPDATE ticket SET priority_rank = CASE priority WHEN 'low' THEN 0 WHEN 'normal' THEN 1 "
        "WHEN 'high' THEN 2 WHEN 'critical' THEN 3 ELSE 1 END"
    )
    op.create_table(
        "closure",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("start_day", sa.String(), nullable=False),
        sa.Column("end_day", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("name_ar", sa.String(), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_DT(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closure")),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )


def downgrade() -> None:
    op.drop_table("meta")
    op.drop_table("closure")
    with op.batch_alter_table("ticket", schema=None) as batch:
        batch.drop_index("ix_ticket_queue_priority")
        batch.drop_index("ix_ticket_queue_age")
        for name in (
            "rca_at",
            "rca_owner",
            "rca_action",
            "rca_what",
            "rca_cause",
            "escalated_at",
            "escalation_level",
            "breached",
            "warned",
            "pauses",
            "priority_rank",
            "is_open",
        ):
            batch.drop_column(name)
