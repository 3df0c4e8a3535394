"""Routing: the central ticket projection says who has a ticket now (`with_desk`: its hall
or Level 2), like the laptop's.

Revision ID: 0004_route
Revises: 0003_people
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_route"
down_revision = "0003_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("central_ticket", schema=None) as batch:
        batch.add_column(sa.Column("with_desk", sa.String(), nullable=False, server_default="hall"))


def downgrade() -> None:
    with op.batch_alter_table("central_ticket", schema=None) as batch:
        batch.drop_column("with_desk")
