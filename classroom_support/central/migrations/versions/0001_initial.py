"""The central schema as `central_metadata.create_all()` made it before migrations existed.

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-01

The tables are written out here (frozen, not imported from `central/models.py`, which moves on)
and created exactly as `create_all` created them. `schema()` is also what
`central/store/schema.py` compares an unversioned database with before stamping it with this
revision, so "made by the old `create_all`" and "made by 0001" are one definition.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The ticket projection's columns (the laptop's `Ticket` as of this revision): name, type,
# nullable. Text columns are unbounded VARCHAR, as SQLModel's AutoString renders them.
_S, _I, _B, _DT = sa.String, sa.Integer, sa.Boolean, sa.DateTime
TICKET_COLUMNS: tuple[tuple[str, type[sa.types.TypeEngine[object]], bool], ...] = (
    ("ref", _S, False),
    ("hall_code", _S, False),
    ("session_id", _S, True),
    ("session_label", _S, False),
    ("title", _S, False),
    ("seat", _S, False),
    ("trainee_name", _S, False),
    ("trainee_contact", _S, False),
    ("category", _S, False),
    ("priority", _S, False),
    ("channel", _S, False),
    ("caller_number", _S, False),
    ("remote_session_id", _S, False),
    ("status", _S, False),
    ("assignee", _S, False),
    ("tier", _S, False),
    ("created_by", _S, False),
    ("origin_device", _S, False),
    ("device_seq", _I, False),
    ("created_at", _DT, False),
    ("updated_at", _DT, False),
    ("first_response_at", _DT, True),
    ("resolved_at", _DT, True),
    ("verified_at", _DT, True),
    ("last_hlc", _S, False),
    ("event_count", _I, False),
    ("conflicts", _I, False),
    ("is_open", _B, False),
    ("priority_rank", _I, False),
    ("pauses", _S, False),
    ("warned", _S, False),
    ("breached", _S, False),
    ("escalation_level", _I, False),
    ("escalated_at", _DT, True),
    ("rca_cause", _S, False),
    ("rca_what", _S, False),
    ("rca_action", _S, False),
    ("rca_owner", _S, False),
    ("rca_at", _DT, True),
)


def schema() -> sa.MetaData:
    """Revision 0001's tables, on a fresh MetaData with the central naming convention."""
    md = sa.MetaData(naming_convention=NAMING_CONVENTION)
    col, s, dt = sa.Column, sa.String, sa.DateTime
    sa.Table(
        "central_device",
        md,
        col("id", s(36), primary_key=True),
        col("name", s(200), nullable=False),
        col("halls", s(1000), nullable=False),
        col("token_hash", s(64), nullable=False, unique=True),
        col("ref_prefix", s(8), nullable=True, unique=True),
        col("device_id", s(64), nullable=True, unique=True),
        col("created_at", dt(), nullable=False),
        col("bound_at", dt(), nullable=True),
        col("last_seen_at", dt(), nullable=True),
        col("revoked", sa.Boolean(), nullable=False),
    )
    sa.Table(
        "central_counter",
        md,
        col("name", s(40), primary_key=True),
        col("value", sa.BigInteger(), nullable=False),
    )
    sa.Table(
        "central_event",
        md,
        col("id", s(64), primary_key=True),
        col("seq", sa.BigInteger(), nullable=False, unique=True),
        col("ticket_id", s(64), nullable=False),
        col("hall_code", s(40), nullable=False),
        col("kind", s(40), nullable=False),
        col("payload", sa.Text(), nullable=False),
        col("device_id", s(64), nullable=False),
        col("actor", s(200), nullable=False),
        col("occurred_at", dt(), nullable=False),
        col("hlc", s(32), nullable=False, index=True),
        col("received_at", dt(), nullable=False),
        col("pushed_by", s(36), nullable=False),
        sa.Index("ix_central_event_ticket_hlc", "ticket_id", "hlc", "id"),
        sa.Index("ix_central_event_hall_seq", "hall_code", "seq"),
    )
    sa.Table(
        "central_ticket",
        md,
        col("id", s(), primary_key=True),
        *(col(name, kind(), nullable=nullable) for name, kind, nullable in TICKET_COLUMNS),
        sa.UniqueConstraint("ref", name="uq_central_ticket_ref"),
        sa.Index("ix_central_ticket_open", "is_open", "hall_code"),
    )
    sa.Table(
        "central_course_session",
        md,
        col("id", s(64), primary_key=True),
        col("hall_code", s(40), nullable=False),
        col("course", s(400), nullable=False),
        col("trainer", s(400), nullable=False),
        col("starts_at", dt(), nullable=False),
        col("ends_at", dt(), nullable=False),
        col("updated_at", dt(), nullable=False),
        col("deleted", sa.Boolean(), nullable=False),
        col("seq", sa.BigInteger(), nullable=False, index=True),
        col("updated_by", s(36), nullable=False),
    )
    sa.Table(
        "central_closure",
        md,
        col("id", s(64), primary_key=True),
        col("start_day", s(10), nullable=False),
        col("end_day", s(10), nullable=False),
        col("name", s(400), nullable=False),
        col("name_ar", s(400), nullable=False),
        col("estimated", sa.Boolean(), nullable=False),
        col("deleted", sa.Boolean(), nullable=False),
        col("updated_at", dt(), nullable=False),
        col("seq", sa.BigInteger(), nullable=False, index=True),
        col("updated_by", s(36), nullable=False),
    )
    sa.Table(
        "central_roster",
        md,
        col("id", s(64), primary_key=True),
        col("title", s(400), nullable=False),
        col("title_ar", s(400), nullable=False),
        col("responsibility", s(2000), nullable=False),
        col("contact", s(400), nullable=False),
        col("deleted", sa.Boolean(), nullable=False),
        col("seq", sa.BigInteger(), nullable=False, index=True),
    )
    sa.Table(
        "central_meta",
        md,
        col("key", s(100), primary_key=True),
        col("value", s(1000), nullable=False),
    )
    sa.Table(
        "central_kb_article",
        md,
        col("id", s(36), primary_key=True),
        col("slug", s(80), nullable=False, unique=True),
        col("title", s(400), nullable=False),
        col("title_ar", s(400), nullable=False),
        col("tags", s(1000), nullable=False),
        col("body", sa.Text(), nullable=False),
        col("body_ar", sa.Text(), nullable=False),
        col("updated_at", dt(), nullable=False),
        col("deleted", sa.Boolean(), nullable=False),
        col("seq", sa.BigInteger(), nullable=False, index=True),
        col("updated_by", s(200), nullable=False),
    )
    sa.Table(
        "central_admin",
        md,
        col("id", s(36), primary_key=True),
        col("name", s(200), nullable=False),
        col("token_hash", s(64), nullable=False, unique=True),
        col("created_at", dt(), nullable=False),
        col("revoked", sa.Boolean(), nullable=False),
    )
    sa.Table(
        "central_form_submission",
        md,
        col("nonce", s(64), primary_key=True),
        col("ticket_id", s(64), nullable=False),
        col("digest", s(64), nullable=False),
        col("browser", s(64), nullable=False),
        col("filed_at", dt(), nullable=False),
        sa.Index("ix_central_form_submission_browser", "browser", "digest"),
    )
    sa.Table(
        "central_form_rate",
        md,
        col("client_key", s(100), primary_key=True),
        col("hits", sa.Text(), nullable=False),
        col("last_ms", sa.BigInteger(), nullable=False, index=True),
    )
    return md


def upgrade() -> None:
    schema().create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    schema().drop_all(op.get_bind(), checkfirst=False)
