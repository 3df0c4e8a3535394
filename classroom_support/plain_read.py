"""Reading tickets without the ORM: rows as `TicketRow`, a queue page through the same
statements as the desk (queue_sql.read_page), and the routed marks (routed.new_ids), for the
first painted queue (first_frame.py) and `tickets list`. Standard library and queue_sql only:
nothing here imports SQLAlchemy or SQLModel.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from classroom_support.i18n import tr
from classroom_support.queue_sql import QueueQuery, read_page, row_key
from classroom_support.records import field, record

# models.Ticket's fields in declaration order (a test checks), with how each is stored.
TICKET_COLUMNS = [
    "id",
    "ref",
    "hall_code",
    "session_id",
    "session_label",
    "title",
    "seat",
    "trainee_name",
    "trainee_contact",
    "category",
    "priority",
    "channel",
    "caller_number",
    "remote_session_id",
    "status",
    "assignee",
    "tier",
    "created_by",
    "origin_device",
    "device_seq",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "verified_at",
    "last_hlc",
    "event_count",
    "conflicts",
    "is_open",
    "priority_rank",
    "pauses",
    "warned",
    "breached",
    "escalation_level",
    "escalated_at",
    "rca_cause",
    "rca_what",
    "rca_action",
    "rca_owner",
    "rca_at",
    "with_desk",
]
DATETIME_COLUMNS = frozenset(
    [
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "verified_at",
        "escalated_at",
        "rca_at",
    ]
)
BOOL_COLUMNS = frozenset({"is_open"})
# What the queue screen reads of a page's rows: its cells, the countdown (the SLA headline:
# sla_policy.headline_of), the "routed to you" mark, and every sort's key (queue_sql's
# ORDER_COLUMNS, a test checks). Its pages select these alone: a page's rows cost their
# columns, and these are 16 of the 41.
QUEUE_VIEW_COLUMNS = (
    "id",
    "ref",
    "hall_code",
    "title",
    "seat",
    "priority",
    "channel",
    "status",
    "assignee",
    "created_at",
    "first_response_at",
    "resolved_at",
    "is_open",
    "pauses",
    "escalation_level",
    "with_desk",
)


@record
class QueuePage:
    rows: list[Any]  # models.Ticket from the desk, TicketRow from here
    total: int  # -1 when the query asked for no count
    offset: int
    limit: int
    query: QueueQuery = field(default_factory=QueueQuery)
    # The keys of the first and last row (queue_sql.row_key), for the pages before and after.
    first_key: tuple[Any, ...] | None = None
    last_key: tuple[Any, ...] | None = None


def age_text(created_at: datetime, now: datetime) -> str:
    """'3d 4h', '2h 05m', '7m' — compact, for the queue."""
    seconds = max(0, int((now - created_at).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return tr("age.days", d=days, h=hours)
    if hours:
        return tr("age.hours", h=hours, m=f"{minutes:02d}")
    return tr("age.minutes", m=minutes)


def stored_datetime(text: str | None) -> datetime | None:
    """A stored naive-UTC timestamp (models.UTCDateTime) as the aware datetime the ORM gives."""
    if text is None:
        return None
    try:
        # Parsed with its offset: a fifth of the time of parsing it naive and replacing the
        # zone (.replace with a keyword is slow), on every timestamp of every page row.
        return datetime.fromisoformat(text + "+00:00")
    except ValueError:  # not the naive text this schema stores
        return datetime.fromisoformat(text).replace(tzinfo=UTC)


def converted_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """Which of `columns` a TicketRow converts from how they are stored."""
    return tuple(c for c in columns if c in DATETIME_COLUMNS or c in BOOL_COLUMNS)


class TicketRow:
    """One ticket row read without the ORM: the same attributes, values and `model_dump()` as a
    loaded `models.Ticket`, for reading only."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)

    @classmethod
    def from_row(
        cls,
        row: Sequence[Any],
        columns: Sequence[str] = TICKET_COLUMNS,
        converted: Sequence[str] | None = None,
    ) -> TicketRow:
        """The row of a `SELECT columns` (a page row has its key after them); `converted`:
        `converted_columns(columns)`, worked out once for a page's rows."""
        values = dict(zip(columns, row, strict=False))
        for name in converted_columns(columns) if converted is None else converted:
            value = values[name]
            values[name] = bool(value) if name in BOOL_COLUMNS else stored_datetime(value)
        return cls(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a TicketRow is read-only")

    def model_dump(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"TicketRow(ref={self._values['ref']!r}, status={self._values['status']!r})"


def has_fts(conn: sqlite3.Connection) -> bool:
    """The problem-text search index of migration 0012 is there (TicketDesk._has_fts)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ticket_fts_open'"
    ).fetchone()
    return found is not None


def read_queue(
    conn: sqlite3.Connection,
    query: QueueQuery,
    fts: bool | None = None,
    columns: Sequence[str] = TICKET_COLUMNS,
) -> QueuePage:
    """One page of the queue on a plain sqlite3 connection, in one read snapshot (the
    caller's, or its own): `TicketDesk.queue`, the first frame and `tickets list` all read
    here. `fts`: whether the search index is there (None: look). `columns`: what the rows
    hold (QUEUE_VIEW_COLUMNS for the queue screen)."""
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")  # the count and the rows from one snapshot
    try:
        found_fts = has_fts(conn) if fts is None else fts
        total, found = read_page(conn, query, columns, fts=found_fts)
    finally:
        if began:
            conn.execute("COMMIT")
    converted = converted_columns(columns)
    return QueuePage(
        rows=[TicketRow.from_row(r, columns, converted) for r in found],
        total=total,
        offset=query.offset,
        limit=query.limit,
        query=query,
        first_key=row_key(query, found[0], columns) if found else None,
        last_key=row_key(query, found[-1], columns) if found else None,
    )


def new_routed_ids(conn: sqlite3.Connection, tickets: Sequence[Any], target: str) -> set[str]:
    """routed.new_ids in plain SQL: the page's tickets routed to this desk, not opened since
    their latest route event."""
    if not target or not tickets:
        return set()
    ids = [t.id for t in tickets]
    marks = ", ".join("?" for _ in ids)
    latest: dict[str, tuple[str, str]] = {}  # ticket id -> (hlc, event id) of its latest route
    for ticket_id, event_id, hlc in conn.execute(
        f"SELECT ticket_id, id, hlc FROM ticket_event WHERE kind = 'route' "
        f"AND ticket_id IN ({marks})",
        ids,
    ):
        held = latest.get(ticket_id)
        if held is None or (hlc, event_id) > held:
            latest[ticket_id] = (hlc, event_id)
    routed = [t.id for t in tickets if t.is_open and t.with_desk == target and t.id in latest]
    if not routed:
        return set()
    opened = dict(
        conn.execute(
            f"SELECT ticket_id, opened_event FROM route_seen WHERE ticket_id IN "
            f"({', '.join('?' for _ in routed)})",
            routed,
        ).fetchall()
    )
    return {tid for tid in routed if opened.get(tid) != latest[tid][1]}
