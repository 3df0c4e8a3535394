"""The central server's transactional core: devices, pushed events, the sequence, projections,
the change feed, central edits and the SLA job. No HTTP here (api.py is a thin layer on top).

Every writing transaction first locks the one counter row (`SELECT ... FOR UPDATE`; on SQLite
the whole database via `BEGIN IMMEDIATE`), hands out sequence numbers from it and writes it back
before committing. Writers are therefore serialised on that row, so a higher sequence number is
never visible before a lower one: a reader that has seen `seq = n` has seen every row `<= n`,
and a cursor can never skip a row that commits late.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import (
    Connection,
    Engine,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.exc import OperationalError

from classroom_support.central import models as m
from classroom_support.central.store.engine import BUSY_TIMEOUT_MS
from classroom_support.clock import Clock
from classroom_support.config import Config
from classroom_support.sla import BusinessCalendar
from classroom_support.sla_policy import SlaPolicy

CENTRAL = "central"  # pushed_by / updated_by for changes made on the server itself
IN_CHUNK = 500  # ids per IN (...) list
HEAD_CHANNEL = "central_head"  # PostgreSQL NOTIFY channel of the head (central/changes.py)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), IN_CHUNK):
        yield items[i : i + IN_CHUNK]


class StoreCore:
    """State shared by every part of the store, and the transactions they all use."""

    def __init__(self, engine: Engine, config: Config, clock: Clock) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock
        self.policy = SlaPolicy.from_config(config)
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._calendars: dict[str, BusinessCalendar] = {}
        self._calendar_version: tuple[int, int] | None = None
        self.central_device_id = ""
        self.central_prefix = ""
        self._writer = threading.Lock()  # SQLite only: see one_writer()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A writing transaction that holds the counter lock from its first statement, like
        SQLite's `BEGIN IMMEDIATE`: on PostgreSQL a row read before taking the lock could be
        changed by another writer meanwhile, and folding onto it would lose that change."""
        if self.is_sqlite:
            with self.one_writer(), self.engine.begin() as conn:
                yield conn
            return
        with self.engine.begin() as conn:
            conn.execute(
                select(m.counters.c.name).where(m.counters.c.name == "seq").with_for_update()
            )
            yield conn

    @contextmanager
    def one_writer(self) -> Iterator[None]:
        """SQLite: one writing transaction per process at a time, the others queued here.
        SQLite's own wait for its lock is a sleep-and-retry poll, not a queue: with many
        threads polling, some lose every round and pass the busy timeout (a 503) while others
        get in. Queued here, at most one thread per process polls. Same bound as SQLite's.
        Nothing on PostgreSQL, whose row locks are a queue."""
        if not self.is_sqlite:
            yield
            return
        if not self._writer.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise OperationalError(
                "BEGIN IMMEDIATE", None, Exception("database is locked (writers queued)")
            )
        try:
            yield
        finally:
            self._writer.release()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        if self.is_sqlite:
            engine = self.engine.execution_options(central_read=True)
        else:  # one snapshot for the whole page
            engine = self.engine.execution_options(isolation_level="REPEATABLE READ")
        with engine.connect() as conn, conn.begin():
            yield conn

    def _lock_head(self, conn: Connection) -> int:
        return int(
            conn.execute(
                select(m.counters.c.value).where(m.counters.c.name == "seq").with_for_update()
            ).scalar_one()
        )

    def _set_head(self, conn: Connection, value: int) -> None:
        """The one place the head moves. On PostgreSQL it also tells every worker's change feed
        (central/changes.py), in this transaction: NOTIFY is delivered only on commit."""
        conn.execute(update(m.counters).where(m.counters.c.name == "seq").values(value=value))
        if not self.is_sqlite:
            conn.execute(select(func.pg_notify(literal(HEAD_CHANNEL), literal(str(value)))))

    def head(self) -> int:
        with self.read() as conn:
            return int(
                conn.execute(
                    select(m.counters.c.value).where(m.counters.c.name == "seq")
                ).scalar_one()
            )
