"""The e-mail channel's state: each polled mailbox's UIDVALIDITY, last UID and poll lease, and
the ledger of imported messages (central/mail/inbound.py).

Revision ID: 0006_mail_in
Revises: 0005_mail_outbox
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_mail_in"
down_revision = "0005_mail_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "central_mailbox",
        sa.Column("mailbox", sa.String(300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_uid", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("holder", sa.String(100), nullable=False, server_default=""),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("mailbox", name=op.f("pk_central_mailbox")),
    )
    op.create_table(
        "central_mail_import",
        sa.Column("mailbox", sa.String(300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_key", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("sender", sa.String(200), nullable=False, server_default=""),
        sa.Column("reason", sa.String(200), nullable=False, server_default=""),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "mailbox", "uidvalidity", "uid", name=op.f("pk_central_mail_import")
        ),
    )
    op.create_index(
        op.f("ix_central_mail_import_message_key"),
        "central_mail_import",
        ["message_key"],
        unique=False,
    )
    op.create_index(
        "ix_central_mail_import_sender",
        "central_mail_import",
        ["sender", "imported_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_central_mail_import_sender", table_name="central_mail_import")
    op.drop_index(op.f("ix_central_mail_import_message_key"), table_name="central_mail_import")
    op.drop_table("central_mail_import")
    op.drop_table("central_mailbox")
