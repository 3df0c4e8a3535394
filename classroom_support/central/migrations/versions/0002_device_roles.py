"""Device roles and scope: every token gets a role (hall, contact-centre, level2, manager) and
may cover all halls. Existing tokens become `hall` devices of the halls they had.

Revision ID: 0002_device_roles
Revises: 0001_initial
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_device_roles"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("central_device", schema=None) as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=20), nullable=False, server_default="hall")
        )
        batch.add_column(
            sa.Column("all_halls", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("central_device", schema=None) as batch:
        batch.drop_column("all_halls")
        batch.drop_column("role")
