"""What the header and the sync screen show about sync (`SyncStatus`), and a reader of it on a
plain `sqlite3` connection for the first painted queue (first_frame.py): the answer of
`SyncClient.status()` (a test holds them equal) without SQLAlchemy, SQLModel or httpx, so a desk
with sync set up paints its first frame as early as one without. Headless; sync.py re-exports
`SyncStatus` and the constants.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from classroom_support.db_plain import TOKEN_SUFFIX
from classroom_support.plain_read import stored_datetime

SKEW_WARNING_MS = 120_000  # the header warns past two minutes
PENDING_CAP = 10_000  # the header counts the outbox up to this, then shows "10000+"


class SyncStatus(NamedTuple):
    """What the header and the sync screen show; read from the database, never guessed."""

    configured: bool
    url: str
    last_result: str
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str
    pending: int
    parked: int
    skew_ms: int | None
    cursor: int
    device_name: str
    halls: str
    role: str = "hall"
    all_halls: bool = False

    @property
    def online(self) -> bool:
        return self.last_result in ("ok", "parked")

    @property
    def pending_text(self) -> str:
        return f"{PENDING_CAP}+" if self.pending > PENDING_CAP else str(self.pending)

    @property
    def skew_warning(self) -> bool:
        return self.skew_ms is not None and abs(self.skew_ms) > SKEW_WARNING_MS


# models.SyncState's columns the status shows, and their values when the row is missing (a
# laptop that was never set up: `SyncState(id=1)`).
STATE_COLUMNS = (
    "central_url",
    "last_result",
    "last_success_at",
    "last_attempt_at",
    "next_attempt_at",
    "last_error",
    "skew_ms",
    "cursor",
    "device_name",
    "halls",
    "role",
    "all_halls",
)
STATE_DEFAULTS = ("", "never", None, None, None, "", None, 0, "", "", "hall", 0)
# The outbox: events the server has not acknowledged and that are not parked (sync_push).
PENDING_SQL = (
    "SELECT count(*) FROM (SELECT e.id FROM ticket_event AS e WHERE e.server_seq IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM sync_parked AS p WHERE p.item_id = e.id) LIMIT ?)"
)
# The same count when nothing is parked (the usual case), from the server_seq index alone:
# the parked check reads each event's row for its id, 10,001 rows for a full outbox (~4 ms,
# and the header asks every second).
UNACKED_SQL = "SELECT count(*) FROM (SELECT 1 FROM ticket_event WHERE server_seq IS NULL LIMIT ?)"


def pending_sql(parked: int) -> str:
    """The outbox count's statement (one parameter: PENDING_CAP + 1), given the parked count
    read in the same transaction."""
    return PENDING_SQL if parked else UNACKED_SQL


def read_sync_status(conn: sqlite3.Connection, database: Path) -> SyncStatus:
    """`SyncClient.status()` for the database at `database`, read on `conn` (in the caller's
    transaction, if any): set up means a central URL stored and the token file beside the
    database; the outbox is counted up to PENDING_CAP + 1, and only when set up."""
    row = conn.execute(f"SELECT {', '.join(STATE_COLUMNS)} FROM sync_state WHERE id = 1").fetchone()
    url, result, success, attempt, next_at, error, skew, cursor, name, halls, role, every = (
        row or STATE_DEFAULTS
    )
    configured = bool(url) and database.with_name(database.name + TOKEN_SUFFIX).exists()
    pending = parked = 0
    if configured:
        parked = int(conn.execute("SELECT count(*) FROM sync_parked").fetchone()[0])
        pending = int(conn.execute(pending_sql(parked), (PENDING_CAP + 1,)).fetchone()[0])
    return SyncStatus(
        configured=configured,
        url=url,
        last_result=result,
        last_success_at=stored_datetime(success),
        last_attempt_at=stored_datetime(attempt),
        next_attempt_at=stored_datetime(next_at),
        last_error=error,
        pending=pending,
        parked=parked,
        skew_ms=skew,
        cursor=cursor,
        device_name=name,
        halls=halls,
        role=role,
        all_halls=bool(every),
    )
