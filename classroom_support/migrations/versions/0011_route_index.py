"""Queue: the route events in an index of their own, so "routed to me first" reads no rows.

Revision ID: 0011_route_index
Revises: 0010_queue_keyset

A hall desk's queue puts the tickets routed to it first (queue_sql.ROUTED_SQL): its first arm
walks the page index and keeps the tickets that have a route event. Without an index on the
event's kind every ticket of the hall was read to look that up (≈ 175 ms for 20,000 open
tickets, on every queue page of every hall desk); this partial index holds only the route
events (few), so the arm checks each index entry's rowid against them without reading rows.
"""

from __future__ import annotations

from alembic import op

revision = "0011_route_index"
down_revision = "0010_queue_keyset"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_ticket_event_route ON ticket_event (ticket_id) WHERE kind = 'route'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_ticket_event_route")
