"""The first painted queue without the ORM: everything the queue screen shows at start-up, read
with plain `sqlite3` on a read-only connection, so the app can paint before SQLAlchemy, SQLModel,
the SLA monitor and the sync client are imported (they load in a worker after the first frame;
app.py then swaps the real context in and the queue reloads through `TicketDesk`).

`read_first_frame` answers only when its answer is the one the normal path would give; it
returns None (and the app starts the normal way) when the schema is not current (migrations
to run), the default holidays were never seeded, or the file needs the checks of
`db.open_database` first. A desk with sync set up takes this path too: the header's sync state
is read in the same snapshot (`sync_status.read_sync_status`, what the sync client reads).

`FirstFrameContext` stands in for `context.AppContext` until then, with the few reads the queue
screen and the header make, answered from what was read (no database access while it stands:
keys and clicks wait for the real context, app.py). Headless: no Textual here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from classroom_support.clock import CLOCK_ANCHOR_KEY, Clock, ClockAnchor, CorrectedClock
from classroom_support.config import Config, Paths
from classroom_support.db_plain import open_reader
from classroom_support.permissions import HALL, LEVEL2, DeviceScope, scope_from_text
from classroom_support.plain_read import (
    QUEUE_VIEW_COLUMNS,
    TICKET_COLUMNS,
    QueuePage,
    TicketRow,
    new_routed_ids,
    read_queue,
    stored_datetime,
)
from classroom_support.queue_sql import QueueQuery, read_blocking
from classroom_support.records import field, record
from classroom_support.sla import BusinessCalendar, Closure, SessionWindow
from classroom_support.sla_policy import SlaPolicy, TicketClockReader
from classroom_support.sync_status import SyncStatus, read_sync_status

# A ticket "blocks the hall" when it is critical or about the hall's equipment (the queue's
# class alert; screens/queue.py).
BLOCKING_CATEGORIES = ("av", "pc", "network")
BLOCKING_LIMIT = 20


def stored_time(value: datetime) -> str:
    """An aware datetime as the store writes it (naive UTC text), for comparisons in SQL."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def routed_target(role: str) -> str:
    """The `with_desk` a desk of `role` receives routed tickets as ("" for none); routed.py
    re-exports it (here, so the first frame does not import the ORM)."""
    return {LEVEL2: "level2", HALL: "hall"}.get(role, "")


class SessionInfo(NamedTuple):
    """A course session as the header and the class alert read it (models.CourseSession)."""

    id: str
    hall_code: str
    course: str
    starts_at: datetime
    ends_at: datetime


@record
class FirstFrame:
    query: QueueQuery
    page: QueuePage
    scope: DeviceScope
    new_routed: set[str]
    sessions: list[SessionInfo]  # this hall's, not deleted, not yet ended (by start)
    blocking: list[TicketRow]
    calendars: dict[str, BusinessCalendar]
    clock: Clock
    sync: SyncStatus  # the header's sync state (SyncClient.status) until the client is in


def desk_scope(status: SyncStatus) -> DeviceScope:
    """The device scope as the desk reads it (permissions.stored_scope), from the same row."""
    known = status.all_halls or bool(status.halls)
    return scope_from_text(status.role, status.halls, status.all_halls, known=known)


def _calendar(conn: sqlite3.Connection, config: Config, hall: str | None) -> BusinessCalendar:
    """monitor.SlaService._build_calendar in plain SQL."""
    sql = "SELECT starts_at, ends_at, course, hall_code FROM course_session WHERE deleted = 0"
    params: list[Any] = []
    if hall:
        sql += " AND hall_code = ?"
        params.append(hall)
    sessions = [
        SessionWindow(stored_datetime(a), stored_datetime(b), course, code)  # type: ignore[arg-type]
        for a, b, course, code in conn.execute(sql, params)
    ]
    closures = [
        Closure(date.fromisoformat(a), date.fromisoformat(b), name, bool(estimated))
        for a, b, name, estimated in conn.execute(
            "SELECT start_day, end_day, name, estimated FROM closure WHERE deleted = 0"
        )
    ]
    return BusinessCalendar.from_config(config, sessions, closures)


def calendar_key(config: Config, hall: str | None) -> str:
    """SlaService.calendar's cache key: per hall when sessions count per hall, else one."""
    return hall if config.sessions_scope == "hall" and hall else "*"


def read_first_frame(
    config: Config, paths: Paths, *, limit: int, clock: Clock | None = None
) -> FirstFrame | None:
    """What the queue screen shows first, or None when the normal path must answer (above).
    `clock` as for `open_context`: the corrected system clock unless a test passes its own."""
    conn = open_reader(paths.database)
    if conn is None:
        return None
    try:
        return _read(conn, config, paths, limit, clock or CorrectedClock())
    except sqlite3.Error:
        return None  # busy beyond the timeout, damaged: the normal path says what is wrong
    finally:
        conn.close()


def _read(
    conn: sqlite3.Connection, config: Config, paths: Paths, limit: int, clock: Clock
) -> FirstFrame | None:
    conn.execute("BEGIN")  # one snapshot for everything below
    meta = dict(
        conn.execute(
            "SELECT key, value FROM meta WHERE key IN (?, ?)",
            (CLOCK_ANCHOR_KEY, "closures_seeded"),
        ).fetchall()
    )
    if "closures_seeded" not in meta:
        return None  # the normal path seeds the default holidays first
    sync = read_sync_status(conn, paths.database)
    scope = desk_scope(sync)
    if isinstance(clock, CorrectedClock):  # as open_context sets it
        anchor = meta.get(CLOCK_ANCHOR_KEY)
        clock.use(ClockAnchor.from_json(anchor) if anchor else None)
    now = clock.now()
    multi = scope.known and (scope.all_halls or len(scope.halls) > 1)
    # QueueScreen.follow_scope's first query.
    query = QueueQuery(
        hall_code=None if multi else config.hall,
        routed_to=routed_target(scope.role),
        limit=limit,
    )
    page = read_queue(conn, query, columns=QUEUE_VIEW_COLUMNS)  # as QueueScreen reads
    new_routed = new_routed_ids(conn, page.rows, query.routed_to)
    sessions = [
        SessionInfo(sid, code, course, stored_datetime(a), stored_datetime(b))  # type: ignore[arg-type]
        for sid, code, course, a, b in conn.execute(
            "SELECT id, hall_code, course, starts_at, ends_at FROM course_session "
            "WHERE hall_code = ? AND deleted = 0 AND ends_at > ? ORDER BY starts_at",
            (config.hall, stored_time(now)),
        )
    ]
    blocking = [
        TicketRow.from_row(r)
        for r in read_blocking(
            conn, config.hall, BLOCKING_CATEGORIES, BLOCKING_LIMIT, TICKET_COLUMNS
        )
    ]
    calendars: dict[str, BusinessCalendar] = {}
    for hall in {config.hall, *(t.hall_code for t in page.rows)}:
        key = calendar_key(config, hall)
        if key not in calendars:
            calendars[key] = _calendar(conn, config, None if key == "*" else key)
    conn.execute("COMMIT")
    return FirstFrame(query, page, scope, new_routed, sessions, blocking, calendars, clock, sync)


# --------------------------------------------------------------------------- the stand-in


class FirstFrameWatcher:
    """db.ChangeWatcher's face, without a connection: nothing to notice before the real one."""

    generation = 0

    def poll(self) -> int:
        return 0

    def close(self) -> None:
        """Nothing open."""


@record
class FirstFrameDb:
    path: Path
    _watcher: FirstFrameWatcher = field(default_factory=FirstFrameWatcher)

    def watcher(self) -> FirstFrameWatcher:
        return self._watcher

    def close(self) -> None:
        """Nothing open."""


class FirstFrameDesk:
    def __init__(self, frame: FirstFrame) -> None:
        self.frame = frame

    def scope(self) -> DeviceScope:
        return self.frame.scope

    def multi_hall(self) -> bool:
        scope = self.frame.scope
        return scope.known and (scope.all_halls or len(scope.halls) > 1)

    def queue(self, query: QueueQuery, columns: Sequence[str] = QUEUE_VIEW_COLUMNS) -> QueuePage:
        if query != self.frame.query or tuple(columns) != QUEUE_VIEW_COLUMNS:
            raise LookupError("only the first page is known before the desk is loaded")
        return self.frame.page

    def blocking(self, hall_code: str, categories: tuple[str, ...], limit: int = 20) -> list[Any]:
        return self.frame.blocking[:limit]


class FirstFrameSessions:
    def __init__(self, frame: FirstFrame, clock: Clock) -> None:
        self.frame = frame
        self.clock = clock

    def current(self, hall_code: str | None = None) -> SessionInfo | None:
        now = self.clock.now()
        return next(
            (s for s in self.frame.sessions if s.starts_at <= now < s.ends_at),
            None,
        )

    def next_start(self, hall_code: str | None = None) -> SessionInfo | None:
        now = self.clock.now()
        return next((s for s in self.frame.sessions if s.starts_at > now), None)


class FirstFrameSla(TicketClockReader):
    """The parts of monitor.SlaService the queue's countdowns use."""

    def __init__(self, frame: FirstFrame, config: Config, clock: Clock) -> None:
        self.frame = frame
        self.config = config
        self.clock = clock
        self.policy = SlaPolicy.from_config(config)
        self.moved_earlier: set[str] = set()

    def calendar(self, hall: str | None = None) -> BusinessCalendar:
        return self.frame.calendars[calendar_key(self.config, hall)]


class FirstFrameContext:
    """Stands in for AppContext until the real one is open (see the module doc)."""

    ready = False  # the real context has `desk`, `sla`, ... with every method

    def __init__(self, frame: FirstFrame, config: Config, paths: Paths) -> None:
        self.frame = frame
        self.config = config
        self.paths = paths
        self.clock = frame.clock
        self.db = FirstFrameDb(paths.database)
        self.desk = FirstFrameDesk(frame)
        self.sessions = FirstFrameSessions(frame, frame.clock)
        self.sla = FirstFrameSla(frame, config, frame.clock)

    def close(self) -> None:
        """Nothing open."""
