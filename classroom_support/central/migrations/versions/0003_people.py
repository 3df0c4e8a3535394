"""The staff directory: `central_person`, synced down to laptops by sequence number.

Revision ID: 0003_people
Revises: 0002_device_roles
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_people"
down_revision = "0002_device_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "central_person",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("halls", sa.String(length=1000), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_central_person")),
    )
    with op.batch_alter_table("central_person", schema=None) as batch:
        batch.create_index(batch.f("ix_central_person_seq"), ["seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("central_person", schema=None) as batch:
        batch.drop_index(batch.f("ix_central_person_seq"))
    op.drop_table("central_person")
