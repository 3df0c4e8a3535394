"""A word search's hits are kept for the next read of the same search on the same connection
(queue_sql.search_hits): the match runs once for every page, and again as soon as anything was
written, by this connection or another, so no page ever shows what the database no longer holds.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta

import pytest

from classroom_support import queue_sql
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.plain_read import read_queue
from classroom_support.queue_sql import QueueQuery
from classroom_support.tickets import TicketDraft

WORD = QueueQuery(search="projector", hall_code="A101", sort="ref", limit=2)
# The statement that matches (queue_sql.search_hits), one per search index read.
READS_INDEX = re.compile(r"FROM ticket_fts_(open|closed)\(")


@pytest.fixture
def made(ctx: AppContext) -> list[str]:
    titles = ("projector dim", "no projector", "Projector fan", "mouse", "keyboard")
    return [ctx.desk.create(TicketDraft(title=title)).ref for title in titles]


@pytest.fixture
def reader(ctx: AppContext) -> Iterator[sqlite3.Connection]:
    """A plain connection of the desk's database, reading as the first painted queue and
    `tickets list` do (plain_read.read_queue: one snapshot per read, ended by COMMIT)."""
    with closing(sqlite3.connect(ctx.db.path, isolation_level=None)) as conn:
        yield conn


def matches(conn: sqlite3.Connection, query: QueueQuery) -> tuple[int, list[str], int]:
    """(the count, the page's refs, how many times the search index was read)."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        page = read_queue(conn, query)
    finally:
        conn.set_trace_callback(None)
    return page.total, [t.ref for t in page.rows], sum(bool(READS_INDEX.search(s)) for s in seen)


def test_every_page_and_refresh_of_a_search_reads_the_index_once(
    ctx: AppContext, made: list[str], reader: sqlite3.Connection
) -> None:
    total, first, runs = matches(reader, WORD)
    assert (total, first, runs) == (3, made[:2], 1)
    again = matches(reader, WORD)  # a refresh: nothing written
    assert again == (3, made[:2], 0)
    page = read_queue(reader, WORD)
    assert matches(reader, WORD._replace(after=page.last_key)) == (3, made[2:3], 0)
    # Another search, or the same in another hall or state, is matched anew.
    assert matches(reader, QueueQuery(search="projector", hall_code="B202"))[::2] == (0, 1)
    assert matches(reader, QueueQuery(search="projector", statuses=("verified",)))[::2] == (0, 1)
    assert matches(reader, WORD)[::2] == (3, 1)


def test_a_write_by_another_connection_between_pages_is_seen(
    ctx: AppContext, made: list[str], reader: sqlite3.Connection
) -> None:
    assert matches(reader, WORD)[:2] == (3, made[:2])
    ctx.desk.create(TicketDraft(title="PROJECTOR remote"))  # the desk's own connection
    total, _rows, runs = matches(reader, WORD)
    assert (total, runs) == (4, 1)
    with closing(sqlite3.connect(ctx.db.path, isolation_level=None)) as other:
        other.execute("UPDATE ticket SET title = 'lamp' WHERE ref = ?", (made[0],))
    total, rows, runs = matches(reader, WORD)
    assert (total, rows, runs) == (3, made[1:3], 1)


def test_a_write_by_the_same_connection_is_seen(
    ctx: AppContext, made: list[str], reader: sqlite3.Connection
) -> None:
    assert matches(reader, WORD)[:2] == (3, made[:2])
    reader.execute("UPDATE ticket SET title = 'projector too' WHERE ref = ?", (made[3],))
    total, rows, runs = matches(reader, WORD)
    assert (total, rows, runs) == (4, made[:2], 1)
    reader.execute("BEGIN")
    reader.execute("UPDATE ticket SET title = 'lamp' WHERE ref = ?", (made[0],))
    inside = matches(reader, WORD)  # its own uncommitted write, then the rollback
    reader.execute("ROLLBACK")
    assert inside[:2] == (3, made[1:3])
    assert matches(reader, WORD)[:2] == (4, made[:2])


def test_the_desk_sees_its_own_writes_between_pages(ctx: AppContext, made: list[str]) -> None:
    assert ctx.desk.queue(WORD).total == 3
    ctx.desk.create(TicketDraft(title="projector cable"))
    assert ctx.desk.queue(WORD).total == 4
    ctx.desk.fixed_role = "level2"
    ctx.desk.resolve(made[0], "fixed")
    ctx.desk.verify(made[0])  # closed: out of the open tickets' search
    page = ctx.desk.queue(WORD)
    assert page.total == 3 and made[0] not in [t.ref for t in page.rows]
    verified = ctx.desk.queue(QueueQuery(search="projector", statuses=("verified",)))
    assert [t.ref for t in verified.rows] == [made[0]]
    with ctx.db.write_connection() as conn:  # a pooled connection: maybe the reader's own
        conn.exec_driver_sql("UPDATE ticket SET title = 'lamp' WHERE ref = ?", (made[1],))
    assert ctx.desk.queue(WORD).total == 2


def test_a_connection_that_cannot_count_its_changes_matches_every_time(
    ctx: AppContext, made: list[str], reader: sqlite3.Connection
) -> None:
    class Counted:
        """A DB-API connection without `total_changes` (a wrapper, another driver)."""

        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn
            self.reads = 0

        def execute(self, sql: str, params: object = ()) -> sqlite3.Cursor:
            self.reads += bool(READS_INDEX.search(sql))
            return self.conn.execute(sql, params)  # type: ignore[arg-type]

    conn = Counted(reader)
    for _ in range(2):
        total, _rows = queue_sql.read_page(conn, WORD, ["ref"])
        assert total == 3
    assert conn.reads == 2


def test_the_desk_keeps_the_hits_from_one_page_to_the_next(
    ctx: AppContext, made: list[str]
) -> None:
    """The desk ends its read with COMMIT (a ROLLBACK would undo the temporary tables) and
    lends a thread the connection it used last."""
    with ctx.db.read() as a, ctx.db.read() as b:  # two connections in the pool
        assert a.connection().connection is not b.connection().connection
    ctx.desk.queue(WORD)
    seen: list[str] = []
    with ctx.db.read() as s:
        conn = s.connection().connection.driver_connection
        assert conn is not None
        conn.set_trace_callback(seen.append)
    try:
        first = ctx.desk.queue(WORD)
        second = ctx.desk.queue(WORD._replace(after=first.last_key))
    finally:
        conn.set_trace_callback(None)
    assert [t.ref for t in first.rows + second.rows] == made[:3]
    assert not [s for s in seen if READS_INDEX.search(s)]
    assert seen  # the reads did go through the traced connection


def test_an_empty_hall_is_every_hall(ctx: AppContext, made: list[str]) -> None:
    # The same as no hall filter (queue_sql._filters), also for the kept hits and the count.
    every = ctx.desk.queue(WORD._replace(hall_code=None))
    assert ctx.desk.queue(WORD._replace(hall_code="")).total == every.total == 3


@pytest.mark.parametrize("walk", [True, False], ids=["many-hits-walk", "few-hits-sort"])
def test_a_search_of_every_status_finds_open_and_closed_tickets_in_order(
    ctx: AppContext,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    reader: sqlite3.Connection,
    walk: bool,
) -> None:
    """Each search index's hits go to a table of their own (queue_search.hits_table): every
    status reads both, the page merges them in order, an arm probes its own status's table."""
    if walk:
        monkeypatch.setattr(queue_sql, "SORT_HITS_MAX", 0)
    ctx.desk.fixed_role = "level2"
    titles = ("projector one", "mouse", "projector two", "projector three", "projector four")
    refs = []
    for title in titles:
        clock.advance(timedelta(minutes=1))
        refs.append(ctx.desk.create(TicketDraft(title=title)).ref)
    for ref in refs[:3]:
        ctx.desk.resolve(ref, "done")
        ctx.desk.verify(ref, "checked")
    wanted = [refs[0], refs[2], refs[3], refs[4]]  # oldest first, verified and open alike
    every = WORD._replace(statuses=(), sort="age", limit=3)
    for conn_read in (ctx.desk.queue, lambda q: read_queue(reader, q)):
        first = conn_read(every)
        second = conn_read(every._replace(after=first.last_key, count=False))
        assert first.total == 4
        assert [t.ref for t in first.rows + second.rows] == wanted
        assert [t.ref for t in conn_read(every._replace(statuses=("verified",))).rows] == [
            refs[0],
            refs[2],
        ]
        assert [t.ref for t in conn_read(every._replace(statuses=("new",))).rows] == refs[3:]
    with ctx.db.read() as s:
        conn = s.connection().connection.driver_connection
        search = queue_sql.search_condition(conn, every)
        assert search is not None and search.hits == 4
        assert search.where == "(rowid IN temp.queue_hits_open OR rowid IN temp.queue_hits_closed)"
        assert search.of_status("verified")[0] == "rowid IN temp.queue_hits_closed"
        assert search.of_status("new")[0] == "rowid IN temp.queue_hits_open"
        statements = queue_sql.page_statements(every, ["A101"], ("id",), search)
    sql = " ".join(st.sql for st in statements)
    if walk:  # an arm per status, each probing its own index's hits only
        assert sql.count("rowid IN temp.queue_hits_open") == 4, sql
        assert sql.count("rowid IN temp.queue_hits_closed") == 1, sql
        assert " OR " not in sql, sql
    else:  # the hits read and sorted: both tables
        assert search.where in sql, sql
