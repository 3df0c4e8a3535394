"""The queue's problem-text search in SQL: the trigram index's hits, kept from read to read.

A word of `FTS_MIN_CHARS` characters or more is a phrase query of the trigram search indexes
(migration 0012: a case-insensitive substring of the searched columns); each index's hits go
to a temporary table of the connection's own (`hits_table`: `temp.queue_hits_open`,
`temp.queue_hits_closed`), which the count and the page statements probe (queue_sql.py). One
table per index keeps every insert an append: each index gives its hits in rowid order, and
two indexes' hits interleave (7,143 rowids in two interleaved runs took 2.8 ms to insert into
one table, 1.7 ms in order). A search of one hall reads that hall's rowid range of the indexes
(migration 0014: each hall's entries have rowids of their own), so it finds its hits without
looking up each hit's hall.

The hits stay for the next read of the same search on the same connection (the next page, a
refresh): `temp.queue_hits_key` names the search they are for and the database as it was then,
by `PRAGMA data_version` (another connection's commit changes it) and the connection's
`total_changes` (a write of its own changes that). Any difference and the match runs again. A
reader keeps them by ending its read with COMMIT: a ROLLBACK undoes the temporary tables too
(to what they held before, so they are never wrong, only matched again).

Standard library only, as queue_sql.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The problem-text search uses the trigram index from this many characters; shorter, LIKE.
FTS_MIN_CHARS = 3
SEARCH_COLUMNS = ("title", "ref", "seat", "trainee_name", "assignee")
# The search indexes (migration 0012): the open tickets', the closed (verified) ones'.
SEARCH_INDEXES = ("ticket_fts_open", "ticket_fts_closed")
HITS_PREFIX = "queue_hits_"  # + the index's partition: queue_hits_open, queue_hits_closed
# The search indexes' rowids (migration 0014): a ticket's rowid, plus its hall's number in
# HALLS_TABLE shifted left by HALL_SHIFT bits, so a hall's tickets are one rowid range.
HALLS_TABLE = "ticket_fts_hall"
HALL_SHIFT = 40
ROWID_MASK = (1 << HALL_SHIFT) - 1
# What the hits tables hold hits of (one row): the search, the database version, the hit count.
HITS_KEY_TABLE = "temp.queue_hits_key"


def fts_phrase(text: str) -> str:
    """`text` as one FTS5 phrase: a substring match with the trigram tokenizer."""
    return '"' + text.replace('"', '""') + '"'


def like_condition(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` as a case-insensitive substring of the searched columns, by LIKE (a search
    shorter than the trigrams, or a database without the index): SQL and parameters."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    sql = " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in SEARCH_COLUMNS)
    return f"({sql})", (f"%{escaped}%",) * len(SEARCH_COLUMNS)


def hits_table(part: str) -> str:
    """The temporary table that holds the hits of the search index `part` (ticket_fts_...)."""
    return f"temp.{HITS_PREFIX}{part.removeprefix('ticket_fts_')}"


def hits_probe(part: str) -> str:
    """SQL true for a ticket row among the hits of the search index `part`."""
    return f"rowid IN {hits_table(part)}"


def create_hits_tables(conn: Any) -> None:
    """Each search index's `hits_table` and HITS_KEY_TABLE on `conn`, if not there yet."""
    for part in SEARCH_INDEXES:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {hits_table(part)} (id INTEGER PRIMARY KEY)")
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS queue_hits_key "
        "(search TEXT, version INTEGER, changes INTEGER, hits INTEGER)"
    )


def search_hits(conn: Any, text: str, parts: Sequence[str], hall: str | None) -> int:
    """Put the rowids of the tickets `text` matches in `parts` (search indexes; of `hall` only,
    if given) in each index's `hits_table`, unless they hold them already for this very
    database (the module docstring); their number."""
    create_hits_tables(conn)
    phrase = fts_phrase(text)
    search = repr((phrase, tuple(parts), hall))  # one text for the three, unambiguous
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    changes = getattr(conn, "total_changes", None)  # None: a connection that cannot tell
    if changes is not None:
        kept = conn.execute(f"SELECT search, version, changes, hits FROM {HITS_KEY_TABLE}")
        row = kept.fetchone()
        if row is not None and tuple(row[:3]) == (search, version, changes):
            return int(row[3])
    for part in SEARCH_INDEXES:
        conn.execute(f"DELETE FROM {hits_table(part)}")
    conn.execute(f"DELETE FROM {HITS_KEY_TABLE}")
    hits = 0
    number = None
    if hall is not None:
        found = conn.execute(f"SELECT n FROM {HALLS_TABLE} WHERE code = ?", (hall,)).fetchone()
        number = 0 if found is None else found[0]  # 0: a hall without a ticket, no range
    for part in parts:
        table = hits_table(part)
        if number is None:
            sql = f"INSERT INTO {table} (id) SELECT rowid & {ROWID_MASK} FROM {part}(?)"
            params: tuple[Any, ...] = (phrase,)
        else:
            # The hall's rowid range of the index: its hits only, no lookup per hit.
            sql = (
                f"INSERT INTO {table} (id) SELECT rowid & {ROWID_MASK} FROM {part}(?) "
                "WHERE rowid BETWEEN ? AND ?"
            )
            params = (phrase, number << HALL_SHIFT, ((number + 1) << HALL_SHIFT) - 1)
        hits += conn.execute(sql, params).rowcount
    if changes is not None:
        # The key's own insert is the connection's last change: count it in.
        stamp = conn.total_changes + 1
        conn.execute(
            f"INSERT INTO {HITS_KEY_TABLE} VALUES (?, ?, ?, ?)", (search, version, stamp, hits)
        )
    return hits
