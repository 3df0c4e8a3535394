"""Mail notifications: the outbox `central_mail_outbox`, and a person's digest opt-out.

Revision ID: 0005_mail_outbox
Revises: 0004_route
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_mail_outbox"
down_revision = "0004_route"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "central_mail_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("subject", sa.String(length=1000), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_central_mail_outbox")),
        sa.UniqueConstraint("cause", "recipient", name="uq_central_mail_outbox_cause"),
    )
    with op.batch_alter_table("central_mail_outbox", schema=None) as batch:
        batch.create_index("ix_central_mail_outbox_due", ["status", "next_attempt_at"])
    with op.batch_alter_table("central_person", schema=None) as batch:
        batch.add_column(
            sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("central_person", schema=None) as batch:
        batch.drop_column("digest")
    with op.batch_alter_table("central_mail_outbox", schema=None) as batch:
        batch.drop_index("ix_central_mail_outbox_due")
    op.drop_table("central_mail_outbox")
