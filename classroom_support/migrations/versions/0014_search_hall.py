"""Search: each hall's tickets in a rowid range of their own in the search indexes.

Revision ID: 0014_search_hall
Revises: 0013_level2_index

A word search of one hall kept the hits of that hall only, so it looked up every hit's hall in
`ix_ticket_open` (the indexes of 0012 are contentless: they cannot say it), ~1 µs a hit: most
of a search of the closed tickets (5,714–7,143 hits in the bench). Now an entry's rowid in
`ticket_fts_open` / `ticket_fts_closed` is the ticket's rowid plus its hall's number shifted
left by `HALL_SHIFT` bits; `ticket_fts_hall` numbers the halls (a trigger adds a new one). A
search of one hall asks for its rowid range, which FTS5 reads as a range of each doclist: no
lookup per hit, and the other halls' hits are not read at all. The text, the tokenizer and the
phrase queries are those of 0012: the same tickets match.
"""

from __future__ import annotations

from alembic import op

revision = "0014_search_hall"
down_revision = "0013_level2_index"
branch_labels = None
depends_on = None

SEARCHED = ("title", "ref", "seat", "trainee_name", "assignee")
# A ticket's rowid is below 2**40 (a trillion tickets); the hall's number is above it.
HALL_SHIFT = 40
_COLS = ", ".join(SEARCHED)
_NEW = ", ".join(f"new.{c}" for c in SEARCHED)
_OLD = ", ".join(f"old.{c}" for c in SEARCHED)
PARTS = (("open", "new.is_open", "old.is_open"), ("closed", "NOT new.is_open", "NOT old.is_open"))
_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in (*SEARCHED, "is_open", "hall_code"))


def _key(row: str) -> str:
    """The search index rowid of `row` (new / old) as SQL."""
    return (
        f"((SELECT n FROM ticket_fts_hall WHERE code = {row}.hall_code) << {HALL_SHIFT}) "
        f"| {row}.rowid"
    )


def _number_hall() -> str:
    # Not INSERT OR IGNORE: in a trigger, the firing statement's conflict policy would win (an
    # INSERT OR REPLACE of a ticket would renumber its hall).
    return (
        "INSERT INTO ticket_fts_hall (code) SELECT new.hall_code WHERE NOT EXISTS "
        "(SELECT 1 FROM ticket_fts_hall WHERE code = new.hall_code);"
    )


def _add(part: str, when: str) -> str:
    return (
        f"INSERT INTO ticket_fts_{part}(rowid, {_COLS}) SELECT {_key('new')}, {_NEW} WHERE {when};"
    )


def _remove(part: str, when: str) -> str:
    return (
        f"INSERT INTO ticket_fts_{part}(ticket_fts_{part}, rowid, {_COLS}) "
        f"SELECT 'delete', {_key('old')}, {_OLD} WHERE {when};"
    )


def _index(part: str) -> str:
    return (
        f"CREATE VIRTUAL TABLE ticket_fts_{part} USING fts5({_COLS}, content='', "
        "columnsize=0, tokenize='trigram')"
    )


SEARCH = (
    "CREATE TABLE ticket_fts_hall (n INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE)",
    *(_index(part) for part, _, _ in PARTS),
    "CREATE TRIGGER ticket_fts_insert AFTER INSERT ON ticket BEGIN "
    + _number_hall()
    + " "
    + " ".join(_add(part, new) for part, new, _ in PARTS)
    + " END",
    "CREATE TRIGGER ticket_fts_delete AFTER DELETE ON ticket BEGIN "
    + " ".join(_remove(part, old) for part, _, old in PARTS)
    + " END",
    f"CREATE TRIGGER ticket_fts_update AFTER UPDATE OF {_COLS}, is_open, hall_code ON ticket "
    f"WHEN {_CHANGED} BEGIN "
    + " ".join(_remove(part, old) for part, _, old in PARTS)
    + " "
    + _number_hall()
    + " "
    + " ".join(_add(part, new) for part, new, _ in PARTS)
    + " END",
    "INSERT INTO ticket_fts_hall (code) SELECT DISTINCT hall_code FROM ticket ORDER BY hall_code",
    *(
        f"INSERT INTO ticket_fts_{part}(rowid, {_COLS}) "
        f"SELECT (h.n << {HALL_SHIFT}) | t.rowid, {', '.join(f't.{c}' for c in SEARCHED)} "
        f"FROM ticket AS t JOIN ticket_fts_hall AS h ON h.code = t.hall_code "
        f"WHERE {'t.is_open' if part == 'open' else 'NOT t.is_open'}"
        for part, _, _ in PARTS
    ),
)
# Migration 0012's search indexes (rowid = the ticket's), for the downgrade.
SEARCH_0012 = (
    *(_index(part) for part, _, _ in PARTS),
    "CREATE TRIGGER ticket_fts_insert AFTER INSERT ON ticket BEGIN "
    + " ".join(
        f"INSERT INTO ticket_fts_{part}(rowid, {_COLS}) SELECT new.rowid, {_NEW} WHERE {new};"
        for part, new, _ in PARTS
    )
    + " END",
    "CREATE TRIGGER ticket_fts_delete AFTER DELETE ON ticket BEGIN "
    + " ".join(
        f"INSERT INTO ticket_fts_{part}(ticket_fts_{part}, rowid, {_COLS}) "
        f"SELECT 'delete', old.rowid, {_OLD} WHERE {old};"
        for part, _, old in PARTS
    )
    + " END",
    f"CREATE TRIGGER ticket_fts_update AFTER UPDATE OF {_COLS}, is_open ON ticket "
    f"WHEN {' OR '.join(f'old.{c} IS NOT new.{c}' for c in (*SEARCHED, 'is_open'))} BEGIN "
    + " ".join(
        f"INSERT INTO ticket_fts_{part}(ticket_fts_{part}, rowid, {_COLS}) "
        f"SELECT 'delete', old.rowid, {_OLD} WHERE {old};"
        for part, _, old in PARTS
    )
    + " "
    + " ".join(
        f"INSERT INTO ticket_fts_{part}(rowid, {_COLS}) SELECT new.rowid, {_NEW} WHERE {new};"
        for part, new, _ in PARTS
    )
    + " END",
    *(
        f"INSERT INTO ticket_fts_{part}(rowid, {_COLS}) SELECT rowid, {_COLS} FROM ticket "
        f"WHERE {'is_open' if part == 'open' else 'NOT is_open'}"
        for part, _, _ in PARTS
    ),
)
TRIGGERS = ("ticket_fts_insert", "ticket_fts_delete", "ticket_fts_update")


def _drop() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for part, _, _ in PARTS:
        op.execute(f"DROP TABLE IF EXISTS ticket_fts_{part}")


def upgrade() -> None:
    _drop()
    for statement in SEARCH:
        op.execute(statement)


def downgrade() -> None:
    _drop()
    op.execute("DROP TABLE IF EXISTS ticket_fts_hall")
    for statement in SEARCH_0012:
        op.execute(statement)
