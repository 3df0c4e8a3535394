"""Laptop ⇄ central sync (headless). The outbox is simply the events not yet acknowledged.

The transport and protocol arrive with the sync capability; what exists now is the outbox view
the rest of the product already relies on: an event without a server sequence number has not
been acknowledged by the central server.
"""

from __future__ import annotations

from sqlmodel import col, func, select

from classroom_support.db import Database
from classroom_support.models import TicketEvent


def pending_count(db: Database) -> int:
    """How many events wait in the outbox."""
    with db.read() as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(TicketEvent)
                .where(col(TicketEvent.server_seq).is_(None))
            ).one()
        )
