"""Routing: who has a ticket now (`ticket.with_desk`: its hall or Level 2).

Revision ID: 0007_route
Revises: 0006_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_route"
down_revision = "0006_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every ticket so far was with its hall: nothing could route it.
    with op.batch_alter_table("ticket", schema=None) as batch:
        batch.add_column(sa.Column("with_desk", sa.String(), nullable=False, server_default="hall"))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch:
        batch.drop_column("with_desk")
