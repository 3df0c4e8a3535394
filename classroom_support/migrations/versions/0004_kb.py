"""Knowledge base: articles pulled from the central server for offline self-help.

Revision ID: 0004_kb
Revises: 0003_sync
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import classroom_support.models

revision = "0004_kb"
down_revision = "0003_sync"
branch_labels = None
depends_on = None

UTC_DT = classroom_support.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "kb_article",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("title_ar", sa.String(), nullable=False),
        sa.Column("tags", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("body_ar", sa.String(), nullable=False),
        sa.Column("updated_at", UTC_DT(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article")),
    )
    with op.batch_alter_table("kb_article", schema=None) as batch:
        batch.create_index(batch.f("ix_kb_article_slug"), ["slug"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("kb_article", schema=None) as batch:
        batch.drop_index(batch.f("ix_kb_article_slug"))
    op.drop_table("kb_article")
