"""Device roles: the role and hall scope the central server gave this device.

Revision ID: 0005_roles
Revises: 0004_kb
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_roles"
down_revision = "0004_kb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every laptop synced so far was a hall laptop of the halls it already holds.
    with op.batch_alter_table("sync_state", schema=None) as batch:
        batch.add_column(sa.Column("role", sa.String(), nullable=False, server_default="hall"))
        batch.add_column(
            sa.Column("all_halls", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch:
        batch.drop_column("all_halls")
        batch.drop_column("role")
