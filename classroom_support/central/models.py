"""The central server's tables: SQLAlchemy Core on their own MetaData.

Deliberately *not* SQLModel table classes: those would register in the laptop's
`SQLModel.metadata`, and the laptop's Alembic migrations and its schema test compare exactly
that metadata with the laptop database. The central schema has its own Alembic scripts
(`central/migrations/`, applied by `central/store/schema.py`): a change here needs a new
script, and `tests/test_central_migrations.py` fails until there is one.

The ticket projection reuses the laptop's `Ticket` columns, so both sides store the same fold.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)

from classroom_support.models import Ticket, UTCDateTime

central_metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Devices (every desk: hall laptops, the contact centre, Level 2, managers): a token (stored as
# its sha256) with a role (permissions.py) scoped to some halls, or to all of them.
devices = Table(
    "central_device",
    central_metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("halls", String(1000), nullable=False),  # comma-separated hall codes
    Column("role", String(20), nullable=False, server_default="hall"),
    # Every hall, including halls added later; `halls` is then empty.
    Column("all_halls", Boolean(), nullable=False, server_default=false()),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("ref_prefix", String(8), nullable=True, unique=True),
    Column("device_id", String(64), nullable=True, unique=True),  # the laptop's own id
    Column("created_at", UTCDateTime(), nullable=False),
    Column("bound_at", UTCDateTime(), nullable=True),
    Column("last_seen_at", UTCDateTime(), nullable=True),
    Column("revoked", Boolean(), nullable=False, default=False),
)

# One row, "seq": the last server sequence handed out. Updated inside every writing
# transaction, so sequence numbers become visible in commit order (see docs/sync-protocol.md).
counters = Table(
    "central_counter",
    central_metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger(), nullable=False),
)

events = Table(
    "central_event",
    central_metadata,
    Column("id", String(64), primary_key=True),  # the client's UUID: the idempotency key
    Column("seq", BigInteger(), nullable=False, unique=True),
    Column("ticket_id", String(64), nullable=False),
    Column("hall_code", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("hlc", String(32), nullable=False, index=True),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("pushed_by", String(36), nullable=False),  # central_device.id, or "central"
    Index("ix_central_event_ticket_hlc", "ticket_id", "hlc", "id"),
    Index("ix_central_event_hall_seq", "hall_code", "seq"),
)


def _ticket_columns() -> list[Column[object]]:
    return [
        Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
        for c in Ticket.__table__.columns  # type: ignore[attr-defined]
    ]


tickets = Table(
    "central_ticket",
    central_metadata,
    *_ticket_columns(),
    UniqueConstraint("ref", name="uq_central_ticket_ref"),
    Index("ix_central_ticket_open", "is_open", "hall_code"),
)

sessions = Table(
    "central_course_session",
    central_metadata,
    Column("id", String(64), primary_key=True),
    Column("hall_code", String(40), nullable=False),
    Column("course", String(400), nullable=False),
    Column("trainer", String(400), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("deleted", Boolean(), nullable=False),
    Column("seq", BigInteger(), nullable=False, index=True),
    Column("updated_by", String(36), nullable=False),
)

closures = Table(
    "central_closure",
    central_metadata,
    Column("id", String(64), primary_key=True),
    Column("start_day", String(10), nullable=False),
    Column("end_day", String(10), nullable=False),
    Column("name", String(400), nullable=False),
    Column("name_ar", String(400), nullable=False),
    Column("estimated", Boolean(), nullable=False),
    Column("deleted", Boolean(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("seq", BigInteger(), nullable=False, index=True),
    Column("updated_by", String(36), nullable=False),
)

roster = Table(
    "central_roster",
    central_metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(400), nullable=False),
    Column("title_ar", String(400), nullable=False),
    Column("responsibility", String(2000), nullable=False),
    Column("contact", String(400), nullable=False),
    Column("deleted", Boolean(), nullable=False),
    Column("seq", BigInteger(), nullable=False, index=True),
)

# The staff directory (central/store/people.py): edits and removals take a server sequence
# number like sessions do, so the directory flows down with the pull; a removal is a tombstone.
people = Table(
    "central_person",
    central_metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("halls", String(1000), nullable=False),  # comma-separated hall codes
    Column("email", String(254), nullable=False),
    Column("lang", String(2), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("deleted", Boolean(), nullable=False),
    Column("seq", BigInteger(), nullable=False, index=True),
    # The managers' daily mail digest (central/mail/digest.py); server-only, never synced.
    Column("digest", Boolean(), nullable=False, server_default=true()),
)

meta = Table(
    "central_meta",
    central_metadata,
    Column("key", String(100), primary_key=True),
    Column("value", String(1000), nullable=False),
)

# Knowledge-base articles (central/kb.py). Edits and tombstones take a server sequence number
# like sessions do, so the articles flow down to laptops through the same pull.
kb_articles = Table(
    "central_kb_article",
    central_metadata,
    Column("id", String(36), primary_key=True),
    Column("slug", String(80), nullable=False, unique=True),
    Column("title", String(400), nullable=False),
    Column("title_ar", String(400), nullable=False),
    Column("tags", String(1000), nullable=False),  # comma-separated
    Column("body", Text(), nullable=False),
    Column("body_ar", Text(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("deleted", Boolean(), nullable=False),
    Column("seq", BigInteger(), nullable=False, index=True),
    Column("updated_by", String(200), nullable=False),
)

# Administrators of the knowledge base (`classroom-support central add-admin`): a token stored
# as its SHA-256, like device tokens, but not tied to a hall and not usable for sync.
admins = Table(
    "central_admin",
    central_metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked", Boolean(), nullable=False, default=False),
)

# Web-form tokens that filed a ticket (single use): written in the transaction that files the
# ticket, so a replayed or re-sent form finds it and answers with the first ticket. `digest` is
# a keyed hash of what was sent, to tell a re-send from a different problem on the same page;
# `browser` the form cookie's id, to know the same problem re-sent from a re-fetched page.
form_submissions = Table(
    "central_form_submission",
    central_metadata,
    Column("nonce", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("browser", String(64), nullable=False),
    Column("filed_at", UTCDateTime(), nullable=False),
    Index("ix_central_form_submission_browser", "browser", "digest"),
)

# The web form's rate limit, shared by every server process: per client address, the times
# (epoch milliseconds, space-separated, at most the limit) of its recent posts in the window.
form_rate = Table(
    "central_form_rate",
    central_metadata,
    Column("client_key", String(100), primary_key=True),
    Column("hits", Text(), nullable=False),
    Column("last_ms", BigInteger(), nullable=False, index=True),
)

# Notifications waiting to be mailed, written in the transaction of the event that causes them
# (central/mail/). One row per (cause, recipient): a cause seen twice queues nothing new. A
# sender claims rows (`claimed_by` until `claimed_until`), so several workers never send one
# twice; `status` is pending, claimed, sent or dead (a 5xx answer, kept with its reason).
mail_outbox = Table(
    "central_mail_outbox",
    central_metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("cause", String(200), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("lang", String(5), nullable=False),
    Column("subject", String(1000), nullable=False),
    Column("body_text", Text(), nullable=False),
    Column("body_html", Text(), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_by", String(100), nullable=False),
    Column("claimed_until", UTCDateTime(), nullable=True),
    Column("last_error", String(1000), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    UniqueConstraint("cause", "recipient", name="uq_central_mail_outbox_cause"),
    Index("ix_central_mail_outbox_due", "status", "next_attempt_at"),
)

# The e-mail channel (central/mail/inbound.py). One row per polled mailbox (its URL without the
# password, and folder): the mailbox's UIDVALIDITY and the highest UID imported under it, and a
# lease, so that of several server workers one polls at a time.
mailboxes = Table(
    "central_mailbox",
    central_metadata,
    Column("mailbox", String(300), primary_key=True),
    Column("uidvalidity", BigInteger(), nullable=False, server_default="0"),
    Column("last_uid", BigInteger(), nullable=False, server_default="0"),
    Column("holder", String(100), nullable=False, server_default=""),
    Column("lease_until_ms", BigInteger(), nullable=False, server_default="0"),
)

# Every message the poller has dealt with, written in the same transaction as the ticket or note
# it made: a crash or a dropped connection never imports a message twice, nor skips one.
# `message_key` (sha256 of the Message-ID, or of the raw message without one) recognises a
# message seen before under another UID (the mailbox's UIDVALIDITY changed, or it was copied).
mail_imports = Table(
    "central_mail_import",
    central_metadata,
    Column("mailbox", String(300), primary_key=True),
    Column("uidvalidity", BigInteger(), primary_key=True),
    Column("uid", BigInteger(), primary_key=True),
    Column("message_key", String(64), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),  # ticket, note, refused, duplicate
    Column("ticket_id", String(64), nullable=False, server_default=""),
    Column("sender", String(200), nullable=False, server_default=""),
    Column("reason", String(200), nullable=False, server_default=""),
    Column("imported_at", UTCDateTime(), nullable=False),
    Index("ix_central_mail_import_sender", "sender", "imported_at"),  # the rate per sender
)

__all__ = [
    "admins",
    "central_metadata",
    "closures",
    "counters",
    "devices",
    "events",
    "form_rate",
    "form_submissions",
    "kb_articles",
    "mail_imports",
    "mail_outbox",
    "mailboxes",
    "meta",
    "people",
    "roster",
    "sessions",
    "tickets",
]
