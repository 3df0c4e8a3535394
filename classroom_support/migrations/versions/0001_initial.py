"""initial schema

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-28 04:09:35.754935
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import classroom_support.models

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_session",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hall_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("course", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("trainer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("starts_at", classroom_support.models.UTCDateTime(), nullable=False),
        sa.Column("ends_at", classroom_support.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", classroom_support.models.UTCDateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_session")),
    )
    with op.batch_alter_table("course_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_course_session_hall_code"), ["hall_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_course_session_starts_at"), ["starts_at"], unique=False
        )

    op.create_table(
        "device_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ref_prefix", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", classroom_support.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_identity")),
    )
    op.create_table(
        "hall",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name_ar", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_hall")),
    )
    op.create_table(
        "roster_entry",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title_ar", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("responsibility", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_entry")),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hall_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("session_label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("seat", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("trainee_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("trainee_contact", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("caller_number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("remote_session_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("assignee", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("origin_device", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("device_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", classroom_support.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", classroom_support.models.UTCDateTime(), nullable=False),
        sa.Column("first_response_at", classroom_support.models.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", classroom_support.models.UTCDateTime(), nullable=True),
        sa.Column("verified_at", classroom_support.models.UTCDateTime(), nullable=True),
        sa.Column("last_hlc", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket")),
        sa.UniqueConstraint("ref", name=op.f("uq_ticket_ref")),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_hall_status_created", ["hall_code", "status", "created_at"], unique=False
        )
        batch_op.create_index("ix_ticket_origin_seq", ["origin_device", "device_seq"], unique=True)

    op.create_table(
        "ticket_event",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ticket_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payload", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("occurred_at", classroom_support.models.UTCDateTime(), nullable=False),
        sa.Column("hlc", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("server_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_event_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_event")),
    )
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_event_hlc"), ["hlc"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ticket_event_server_seq"), ["server_seq"], unique=False
        )
        batch_op.create_index(
            "ix_ticket_event_ticket_hlc", ["ticket_id", "hlc", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_event_ticket_hlc")
        batch_op.drop_index(batch_op.f("ix_ticket_event_server_seq"))
        batch_op.drop_index(batch_op.f("ix_ticket_event_hlc"))

    op.drop_table("ticket_event")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_origin_seq")
        batch_op.drop_index("ix_ticket_hall_status_created")

    op.drop_table("ticket")
    op.drop_table("roster_entry")
    op.drop_table("hall")
    op.drop_table("device_identity")
    with op.batch_alter_table("course_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_session_starts_at"))
        batch_op.drop_index(batch_op.f("ix_course_session_hall_code"))

    op.drop_table("course_session")
