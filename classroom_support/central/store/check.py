"""`central check`: what in the database cannot be served, or breaks a promise of the protocol.

Cheap checks only (one pass over each table): rows an older server stored that pull must skip,
the sequence counter behind a stored row (a cursor could skip it), a sequence number used
twice, events without their ticket, and ticket rows that differ from the fold of their events.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, literal, select, union_all

from classroom_support.central import models as m
from classroom_support.central.store.core import StoreCore
from classroom_support.central.validation import load_stored_payload
from classroom_support.models import Ticket
from classroom_support.syncwire import fold_event_from_row
from classroom_support.tickets import fold

SEQUENCED = {
    "event": m.events,
    "session": m.sessions,
    "closure": m.closures,
    "roster": m.roster,
    "kb": m.kb_articles,
    "person": m.people,
}


class CheckMixin(StoreCore):
    def integrity_problems(self) -> list[str]:
        """One line per problem found; empty when the database is sound."""
        return list(self._problems())

    def _problems(self) -> Iterator[str]:
        with self.read() as conn:
            if self.is_sqlite:
                for (line,) in conn.exec_driver_sql("PRAGMA quick_check"):
                    if line != "ok":
                        yield f"sqlite: {line}"
            head = int(
                conn.execute(
                    select(m.counters.c.value).where(m.counters.c.name == "seq")
                ).scalar_one()
            )
            for name, table in SEQUENCED.items():
                top = conn.execute(select(func.max(table.c.seq))).scalar()
                if top is not None and top > head:
                    yield (
                        f"sequence: a {name} row has seq {top}, above the counter ({head}); "
                        "a laptop's cursor can skip it"
                    )
            seqs = union_all(
                *(select(t.c.seq.label("seq"), literal(n).label("t")) for n, t in SEQUENCED.items())
            ).subquery()
            for seq, count in conn.execute(
                select(seqs.c.seq, func.count())
                .group_by(seqs.c.seq)
                .having(func.count() > 1)
                .order_by(seqs.c.seq)
            ):
                yield f"sequence: seq {seq} is used by {count} rows"
            for row in conn.execute(
                select(m.events.c.id, m.events.c.seq, m.events.c.hall_code, m.events.c.payload)
            ):
                _payload, problem = load_stored_payload(row.payload)
                if problem:
                    yield (
                        f"event {row.id} (seq {row.seq}, hall {row.hall_code}): cannot be "
                        f"served ({problem}); pull skips it"
                    )
            orphans = conn.execute(
                select(m.events.c.id, m.events.c.ticket_id)
                .select_from(m.events.outerjoin(m.tickets, m.tickets.c.id == m.events.c.ticket_id))
                .where(m.tickets.c.id.is_(None))
            )
            for row in orphans:
                yield f"event {row.id}: its ticket {row.ticket_id} has no ticket row"
            yield from self._projection_problems(conn)

    def _projection_problems(self, conn: Any) -> Iterator[str]:
        """Each ticket row against the fold of its stored events (as pull would send them)."""
        by_ticket: dict[str, list[Any]] = {}
        for row in conn.execute(select(m.events).order_by(m.events.c.ticket_id)):
            by_ticket.setdefault(row.ticket_id, []).append(row)
        for row in conn.execute(select(m.tickets)):
            stored = Ticket(**dict(row._mapping))
            try:
                folded = fold([fold_event_from_row(r, "seq") for r in by_ticket.get(row.id, [])])  # type: ignore[misc]
            except Exception as exc:  # a poison payload, no created event...
                yield f"ticket {stored.ref}: its events cannot be folded ({type(exc).__name__})"
                continue
            if folded.model_dump() != stored.model_dump():
                fields = sorted(
                    k for k, v in folded.model_dump().items() if stored.model_dump().get(k) != v
                )
                yield (
                    f"ticket {stored.ref}: the stored row differs from the fold of its events "
                    f"({', '.join(fields)})"
                )
