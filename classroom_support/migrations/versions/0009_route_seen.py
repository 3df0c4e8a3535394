"""Routed to me: the route events this desk has opened and been told about (local only).

Revision ID: 0009_route_seen
Revises: 0008_queue_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_route_seen"
down_revision = "0008_queue_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "route_seen",
        sa.Column("ticket_id", sa.String(), nullable=False),
        sa.Column("opened_event", sa.String(), nullable=False),
        sa.Column("told_event", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_route_seen")),
    )


def downgrade() -> None:
    op.drop_table("route_seen")
