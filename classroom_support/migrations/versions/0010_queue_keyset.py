"""Queue: four indexes read per hall and status in page order, and a trigram search index.

Revision ID: 0010_queue_keyset
Revises: 0009_route_seen

The queue reads a page as one index walk per hall × status (× priority) merged in order
(queue_sql.py), so one index per sort serves one hall, every hall, the status sort and the
status filter. They replace the eleven queue indexes of 0002/0008 (each maintained on every
ticket save) and `ix_ticket_hall_status_created` (a prefix of the age index); `ix_ticket_open`
keeps the open tickets of every hall one range for the monitor and the counts.

`ticket_fts` is an external-content FTS5 table over the five searched columns with the
trigram tokenizer: a phrase query is a case-insensitive substring match, as the `LIKE` search
it replaces for three characters and more, in any script. Triggers keep it in step with
`ticket` (an update only when a searched column changes).
"""

from __future__ import annotations

from alembic import op

revision = "0010_queue_keyset"
down_revision = "0009_route_seen"
branch_labels = None
depends_on = None

STATUS_RANK = (
    "CASE status WHEN 'new' THEN 0 WHEN 'in_progress' THEN 1 WHEN 'waiting' THEN 2 "
    "WHEN 'resolved' THEN 3 WHEN 'verified' THEN 4 END"
)
OLD = {
    "ix_ticket_hall_status_created": "hall_code, status, created_at",
    "ix_ticket_queue_age": "hall_code, is_open, created_at, id",
    "ix_ticket_queue_priority": "hall_code, is_open, priority_rank DESC, created_at, id",
    "ix_ticket_queue_ref": "hall_code, is_open, ref",
    "ix_ticket_queue_seat": "hall_code, is_open, seat, created_at, id",
    "ix_ticket_queue_status": f"hall_code, is_open, ({STATUS_RANK}), created_at, id",
    "ix_ticket_open_age": "is_open, created_at, id",
    "ix_ticket_open_priority": "is_open, priority_rank DESC, created_at, id",
    "ix_ticket_open_ref": "is_open, ref",
    "ix_ticket_open_seat": "is_open, seat, created_at, id",
    "ix_ticket_open_status": f"is_open, ({STATUS_RANK}), created_at, id",
}
NEW = {
    "ix_ticket_page_age": "hall_code, status, created_at, id",
    "ix_ticket_page_priority": "hall_code, status, priority_rank, created_at, id",
    "ix_ticket_page_seat": "hall_code, status, seat, created_at, id",
    "ix_ticket_page_ref": "hall_code, status, ref",
    "ix_ticket_open": "is_open, hall_code",
}
SEARCHED = ("title", "ref", "seat", "trainee_name", "assignee")
_COLS = ", ".join(SEARCHED)
_NEW = ", ".join(f"new.{c}" for c in SEARCHED)
_OLD = ", ".join(f"old.{c}" for c in SEARCHED)
FTS = (
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


def upgrade() -> None:
    for name in OLD:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, columns in NEW.items():
        op.execute(f"CREATE INDEX {name} ON ticket ({columns})")
    for statement in FTS:
        op.execute(statement)


def downgrade() -> None:
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS ticket_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS ticket_fts")
    for name in NEW:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, columns in OLD.items():
        op.execute(f"CREATE INDEX {name} ON ticket ({columns})")
