"""Queue: the open tickets with Level 2 in an index of their own, so "routed to me" reads no rows.

Revision ID: 0013_level2_index
Revises: 0012_search_open

A Level 2 desk's queue puts the open tickets with Level 2 first (queue_sql.ROUTED_SQL): its
first arm walks the page index and keeps the tickets whose `with_desk` is `level2`, which is in
the row, not in the index, so every walked ticket was read (≈ 55 ms for 20,000 open tickets
with none at Level 2, on every page of a Level 2 desk; a word search read the row of each hit).
This partial index holds only the Level 2 tickets (few), so the arm checks each index entry's
rowid against them without reading rows.
"""

from __future__ import annotations

from alembic import op

revision = "0013_level2_index"
down_revision = "0012_search_open"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_ticket_level2 ON ticket (is_open) WHERE with_desk = 'level2'")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_ticket_level2")
