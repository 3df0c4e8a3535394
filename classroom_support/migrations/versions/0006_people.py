"""The staff directory: people pulled from the central server (read-only here).

Revision ID: 0006_people
Revises: 0005_roles
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_people"
down_revision = "0005_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("halls", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("lang", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    with op.batch_alter_table("person", schema=None) as batch:
        batch.create_index(batch.f("ix_person_role"), ["role"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch:
        batch.drop_index(batch.f("ix_person_role"))
    op.drop_table("person")
