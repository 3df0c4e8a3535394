"""Search: the open tickets in a search index of their own, the closed ones in another.

Revision ID: 0012_search_open
Revises: 0011_route_index

The queue searches the open tickets (the default filter) far more than the closed ones, and
the closed are most of a database (80,000 of 100,000 in the bench): with one index over all,
a word matched every closed ticket before the open filter dropped them. `ticket_fts` of 0010
becomes `ticket_fts_open` and `ticket_fts_closed`, each ticket in exactly one of them by its
`is_open` (a status filter that asks for `verified` reads the closed one; queue_sql.py).

Both are contentless FTS5 tables (the text is in `ticket`; an external-content table could
not hold part of it) with the trigram tokenizer of 0010 (a phrase query is a case-insensitive
substring match) and no per-document sizes (`columnsize=0`: nothing ranks the hits, one write
fewer per save). Triggers keep them in step: a ticket moves between the two when it closes or
reopens, and an update rewrites its entry only when a searched column or `is_open` changed.
"""

from __future__ import annotations

from alembic import op

revision = "0012_search_open"
down_revision = "0011_route_index"
branch_labels = None
depends_on = None

SEARCHED = ("title", "ref", "seat", "trainee_name", "assignee")
_COLS = ", ".join(SEARCHED)
_NEW = ", ".join(f"new.{c}" for c in SEARCHED)
_OLD = ", ".join(f"old.{c}" for c in SEARCHED)
PARTS = (("open", "new.is_open", "old.is_open"), ("closed", "NOT new.is_open", "NOT old.is_open"))
_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in (*SEARCHED, "is_open"))


def _add(part: str, when: str) -> str:
    return f"INSERT INTO ticket_fts_{part}(rowid, {_COLS}) SELECT new.rowid, {_NEW} WHERE {when};"


def _remove(part: str, when: str) -> str:
    return (
        f"INSERT INTO ticket_fts_{part}(ticket_fts_{part}, rowid, {_COLS}) "
        f"SELECT 'delete', old.rowid, {_OLD} WHERE {when};"
    )


SEARCH = (
    *(
        f"CREATE VIRTUAL TABLE ticket_fts_{part} USING fts5({_COLS}, content='', "
        "columnsize=0, tokenize='trigram')"
        for part, _, _ in PARTS
    ),
    "CREATE TRIGGER ticket_fts_insert AFTER INSERT ON ticket BEGIN "
    + " ".join(_add(part, new) for part, new, _ in PARTS)
    + " END",
    "CREATE TRIGGER ticket_fts_delete AFTER DELETE ON ticket BEGIN "
    + " ".join(_remove(part, old) for part, _, old in PARTS)
    + " END",
    f"CREATE TRIGGER ticket_fts_update AFTER UPDATE OF {_COLS}, is_open ON ticket "
    f"WHEN {_CHANGED} BEGIN "
    + " ".join(_remove(part, old) for part, _, old in PARTS)
    + " "
    + " ".join(_add(part, new) for part, new, _ in PARTS)
    + " END",
    f"INSERT INTO ticket_fts_open(rowid, {_COLS}) SELECT rowid, {_COLS} FROM ticket WHERE is_open",
    f"INSERT INTO ticket_fts_closed(rowid, {_COLS}) SELECT rowid, {_COLS} FROM ticket "
    "WHERE NOT is_open",
)
# Migration 0010's search index, for the downgrade.
SEARCH_0010 = (
    f"CREATE VIRTUAL TABLE ticket_fts USING fts5({_COLS}, content='ticket', "
    "content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER ticket_fts_insert AFTER INSERT ON ticket BEGIN "
    f"INSERT INTO ticket_fts(rowid, {_COLS}) VALUES (new.rowid, {_NEW}); END",
    "CREATE TRIGGER ticket_fts_delete AFTER DELETE ON ticket BEGIN "
    f"INSERT INTO ticket_fts(ticket_fts, rowid, {_COLS}) VALUES ('delete', old.rowid, {_OLD}); "
    "END",
    f"CREATE TRIGGER ticket_fts_update AFTER UPDATE OF {_COLS} ON ticket BEGIN "
    f"INSERT INTO ticket_fts(ticket_fts, rowid, {_COLS}) VALUES ('delete', old.rowid, {_OLD}); "
    f"INSERT INTO ticket_fts(rowid, {_COLS}) VALUES (new.rowid, {_NEW}); END",
    "INSERT INTO ticket_fts(ticket_fts) VALUES ('rebuild')",
)
TRIGGERS = ("ticket_fts_insert", "ticket_fts_delete", "ticket_fts_update")


def upgrade() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS ticket_fts")
    for statement in SEARCH:
        op.execute(statement)


def downgrade() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for part, _, _ in PARTS:
        op.execute(f"DROP TABLE IF EXISTS ticket_fts_{part}")
    for statement in SEARCH_0010:
        op.execute(statement)
