"""SQLModel tables. Events are the truth; `Ticket` is their projection (see tickets.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, MetaData, TypeDecorator, text
from sqlmodel import Field, SQLModel

# Stable constraint names, so batch-mode migrations can find and alter constraints on SQLite.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; stored as naive UTC text in SQLite."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    column = Column(UTCDateTime(), nullable=nullable, index=index)
    if nullable:  # so a Ticket built in memory (the fold) has the same fields as a loaded one
        return Field(default=None, sa_column=column)
    return Field(sa_column=column)


class DeviceIdentity(SQLModel, table=True):
    """This laptop: its id and the prefix of the ticket references it hands out."""

    __tablename__ = "device_identity"

    id: int = Field(default=1, primary_key=True)
    device_id: str
    ref_prefix: str
    created_at: datetime = utc_column()


class HallRow(SQLModel, table=True):
    __tablename__ = "hall"

    code: str = Field(primary_key=True)
    name: str
    name_ar: str = ""


class CourseSession(SQLModel, table=True):
    """A course running in a hall; later it adds working time to the SLA calendar."""

    __tablename__ = "course_session"

    id: str = Field(primary_key=True)
    hall_code: str = Field(index=True)
    course: str
    trainer: str = ""
    starts_at: datetime = utc_column(index=True)
    ends_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    deleted: bool = False
    # Changed here and not yet accepted by the central server (sync.py; last writer wins).
    sync_pending: bool = True


class RosterEntry(SQLModel, table=True):
    """The roles document: who is responsible at each escalation step (titles, no personal data)."""

    __tablename__ = "roster_entry"

    id: str = Field(primary_key=True)
    title: str
    title_ar: str = ""
    responsibility: str = ""
    contact: str = ""


class Ticket(SQLModel, table=True):
    """The projection of a ticket's events. Never edited except by folding a new event in."""

    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_origin_seq", "origin_device", "device_seq", unique=True),
        # The queue walks one of these per hall and status, in page order (queue_sql.py,
        # migration 0010); the open tickets of every hall are one range of ix_ticket_open.
        Index("ix_ticket_page_age", "hall_code", "status", "created_at", "id"),
        Index(
            "ix_ticket_page_priority", "hall_code", "status", "priority_rank", "created_at", "id"
        ),
        Index("ix_ticket_page_seat", "hall_code", "status", "seat", "created_at", "id"),
        Index("ix_ticket_page_ref", "hall_code", "status", "ref"),
        Index("ix_ticket_open", "is_open", "hall_code"),
        # The Level 2 tickets alone: a Level 2 desk's "routed to me" arm (migration 0013).
        Index("ix_ticket_level2", "is_open", sqlite_where=text("with_desk = 'level2'")),
    )

    id: str = Field(primary_key=True)
    ref: str = Field(unique=True)
    hall_code: str
    session_id: str | None = None
    session_label: str = ""
    title: str
    seat: str = ""
    trainee_name: str = ""
    trainee_contact: str = ""
    category: str = "other"
    priority: str = "normal"
    channel: str = "in_hall"
    caller_number: str = ""
    remote_session_id: str = ""
    status: str = "new"
    assignee: str = ""
    tier: str = "L1"
    created_by: str = ""
    origin_device: str = ""
    device_seq: int = 0
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    first_response_at: datetime | None = utc_column(nullable=True)
    resolved_at: datetime | None = utc_column(nullable=True)
    verified_at: datetime | None = utc_column(nullable=True)
    last_hlc: str = ""
    event_count: int = 0
    conflicts: int = 0
    # Derived for fast queries: status != verified, and the priority's order (critical = 3).
    is_open: bool = True
    priority_rank: int = 1
    # SLA facts folded from events: pause intervals (JSON), clocks warned/breached (comma lists),
    # the escalation rung reached, and the root-cause analysis.
    pauses: str = "[]"
    warned: str = ""
    breached: str = ""
    escalation_level: int = 0
    escalated_at: datetime | None = utc_column(nullable=True)
    rca_cause: str = ""
    rca_what: str = ""
    rca_action: str = ""
    rca_owner: str = ""
    rca_at: datetime | None = utc_column(nullable=True)
    # Who has the ticket now: its hall's technician or Level 2 (routing.py; "route" events).
    with_desk: str = "hall"


class TicketEvent(SQLModel, table=True):
    """One append-only change to a ticket. The id is client-made and is the sync idempotency key."""

    __tablename__ = "ticket_event"
    __table_args__ = (
        Index("ix_ticket_event_ticket_hlc", "ticket_id", "hlc", "id"),
        # The route events alone: the queue's "routed to me" arm (migration 0011).
        Index("ix_ticket_event_route", "ticket_id", sqlite_where=text("kind = 'route'")),
    )

    id: str = Field(primary_key=True)
    ticket_id: str = Field(foreign_key="ticket.id")
    kind: str
    payload: str = "{}"
    device_id: str
    actor: str
    occurred_at: datetime = utc_column()
    hlc: str = Field(index=True)
    server_seq: int | None = Field(default=None, index=True)


class ClosureRow(SQLModel, table=True):
    """A day or range of days (local) without weekly hours: public holidays, institute closures."""

    __tablename__ = "closure"

    id: str = Field(primary_key=True)
    start_day: str  # YYYY-MM-DD
    end_day: str
    name: str
    name_ar: str = ""
    estimated: bool = False
    deleted: bool = False
    updated_at: datetime = utc_column()
    sync_pending: bool = True


class MetaEntry(SQLModel, table=True):
    """Small facts about this database (e.g. that the default holidays were seeded once)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str = ""


class SyncState(SQLModel, table=True):
    """This laptop's link to the central server (one row): where, how far pulled, how it went.

    The token is not here: it lives in a 0600 file beside the database (sync.token_path)."""

    __tablename__ = "sync_state"

    id: int = Field(default=1, primary_key=True)
    central_url: str = ""
    cursor: int = 0  # the server sequence pulled up to; never goes back
    device_bound: bool = False  # the server accepted this device's id and reference prefix
    device_name: str = ""
    halls: str = ""  # the halls the token is scoped to (comma list, from the server)
    # What this device may do (permissions.py), from the server's hello and each pull; a
    # laptop never accepted by a server is a hall device.
    role: str = "hall"
    all_halls: bool = False  # every hall, including halls added later (`halls` is then empty)
    last_attempt_at: datetime | None = utc_column(nullable=True)
    last_success_at: datetime | None = utc_column(nullable=True)
    last_result: str = "never"  # ok | parked | offline | busy | server_error | unauthorized ...
    last_error: str = ""
    skew_ms: int | None = None  # server clock minus this laptop's clock
    failures: int = 0  # consecutive failed runs (for the backoff)
    next_attempt_at: datetime | None = utc_column(nullable=True)


class SyncLogEntry(SQLModel, table=True):
    """One request of a sync run (hello / push batch / pull page), or a failure; newest kept."""

    __tablename__ = "sync_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_column(index=True)
    step: str  # hello | push | rows | pull | run
    outcome: str  # ok | http status | offline | ...
    sent: int = 0
    applied: int = 0
    duplicates: int = 0
    rejected: int = 0
    received: int = 0
    cursor: int = 0
    duration_ms: int = 0
    detail: str = ""


class SyncParked(SQLModel, table=True):
    """An event or row the server refused (a 4xx or a per-item rejection): kept, not resent,
    shown with the reason until the technician retries it."""

    __tablename__ = "sync_parked"

    item_id: str = Field(primary_key=True)
    item_kind: str = "event"  # event | session | closure
    reason: str = ""
    status_code: int = 0
    parked_at: datetime = utc_column()


class KbArticleRow(SQLModel, table=True):
    """A knowledge-base article pulled from the central server, kept for offline self-help.
    Read-only on the laptop: articles are edited centrally (see classroom_support/kb.py)."""

    __tablename__ = "kb_article"

    id: str = Field(primary_key=True)  # the central server's article id
    slug: str = Field(index=True, unique=True)
    title: str = ""
    title_ar: str = ""
    tags: str = ""  # comma-separated
    body: str = ""  # Markdown, English
    body_ar: str = ""  # Markdown, Arabic
    updated_at: datetime = utc_column()


class PersonRow(SQLModel, table=True):
    """A person of the staff directory, pulled from the central server (classroom_support/
    people.py). Read-only on the laptop. `email` and `lang` are empty unless this desk is one
    the server sends contact details to."""

    __tablename__ = "person"

    id: str = Field(primary_key=True)  # the central server's person id
    name: str
    role: str = Field(index=True)
    halls: str = ""  # comma-separated hall codes
    email: str = ""
    lang: str = ""


class RouteSeen(SQLModel, table=True):
    """This desk's own record of the route events it has seen (routed.py), never synced: the
    one it last opened the ticket after (it shows as new until then) and the one it was last
    told about (the toast and bell ring once per arrival)."""

    __tablename__ = "route_seen"

    ticket_id: str = Field(primary_key=True)
    opened_event: str = ""
    told_event: str = ""
