"""Pull: one page of changes after a cursor, in sequence order, for a device's halls (the
staff directory filtered for the device: central/store/people.py)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import (
    select,
)

from classroom_support.central import models as m
from classroom_support.central.store.core import StoreCore
from classroom_support.central.store.devices import Device
from classroom_support.central.store.errors import Conflict
from classroom_support.central.store.people import person_row_to_wire
from classroom_support.central.store.wire import (
    closure_row_to_wire,
    kb_row_to_wire,
    roster_row_to_wire,
    servable_event,
    session_row_to_wire,
)

log = logging.getLogger("classroom_support.central")


class PullMixin(StoreCore):
    def pull(self, device: Device, since: int, limit: int) -> dict[str, Any]:
        """Changes after `since` visible to this device, in sequence order, one page."""
        limit = max(1, limit)
        with self.read() as conn:
            head = int(
                conn.execute(
                    select(m.counters.c.value).where(m.counters.c.name == "seq")
                ).scalar_one()
            )
            if since > head:
                raise Conflict(
                    "cursor_ahead",
                    f"cursor {since} is ahead of this server ({head}); was it restored?",
                )
            window = (since, head)
            halls = device.hall_filter  # None: every hall, including halls added later
            event_q = select(m.events).where(
                m.events.c.seq > window[0], m.events.c.seq <= window[1]
            )
            if halls is not None:
                event_q = event_q.where(m.events.c.hall_code.in_(halls))
            ev_rows = list(conn.execute(event_q.order_by(m.events.c.seq).limit(limit)))
            session_q = select(m.sessions).where(
                m.sessions.c.seq > window[0], m.sessions.c.seq <= window[1]
            )
            # (with sessions_scope "all", every course adds working time, so all come down)
            if self.config.sessions_scope == "hall" and halls is not None:
                session_q = session_q.where(m.sessions.c.hall_code.in_(halls))
            se_rows = list(conn.execute(session_q.order_by(m.sessions.c.seq).limit(limit)))
            cl_rows = list(
                conn.execute(
                    select(m.closures)
                    .where(m.closures.c.seq > window[0], m.closures.c.seq <= window[1])
                    .order_by(m.closures.c.seq)
                    .limit(limit)
                )
            )
            ro_rows = list(
                conn.execute(
                    select(m.roster)
                    .where(m.roster.c.seq > window[0], m.roster.c.seq <= window[1])
                    .order_by(m.roster.c.seq)
                    .limit(limit)
                )
            )
            kb_rows = list(
                conn.execute(
                    select(m.kb_articles)
                    .where(m.kb_articles.c.seq > window[0], m.kb_articles.c.seq <= window[1])
                    .order_by(m.kb_articles.c.seq)
                    .limit(limit)
                )
            )
            pe_rows = list(  # every change: out of scope ones go down as bare tombstones
                conn.execute(
                    select(m.people)
                    .where(m.people.c.seq > window[0], m.people.c.seq <= window[1])
                    .order_by(m.people.c.seq)
                    .limit(limit)
                )
            )
        merged = sorted(
            [(r.seq, "events", r) for r in ev_rows]
            + [(r.seq, "sessions", r) for r in se_rows]
            + [(r.seq, "closures", r) for r in cl_rows]
            + [(r.seq, "roster", r) for r in ro_rows]
            + [(r.seq, "kb", r) for r in kb_rows]
            + [(r.seq, "people", r) for r in pe_rows],
            key=lambda item: item[0],
        )
        # More to come if any table filled its page, or the tables together overfill it.
        truncated = len(merged) > limit or any(
            len(rows) >= limit for rows in (ev_rows, se_rows, cl_rows, ro_rows, kb_rows, pe_rows)
        )
        if truncated:
            merged = merged[:limit]
            cursor = merged[-1][0]
        else:
            cursor = head
        page: dict[str, list[dict[str, Any]]] = {
            "events": [],
            "sessions": [],
            "closures": [],
            "roster": [],
            "kb": [],
            "people": [],
        }
        convert = {
            "sessions": session_row_to_wire,
            "closures": closure_row_to_wire,
            "roster": roster_row_to_wire,
            "kb": kb_row_to_wire,
            "people": lambda row: person_row_to_wire(row, device),
        }
        for _seq, table, row in merged:
            if table == "events":
                wire, problem = servable_event(row)
                if wire is None:  # the cursor still moves past it: the hall gets the rest
                    log.warning(
                        "pull: skipped event %s (seq %d, hall %s) that cannot be served: %s; "
                        "see `classroom-support central check`",
                        row.id,
                        row.seq,
                        row.hall_code,
                        problem,
                    )
                    continue
                page[table].append(wire)
            else:
                page[table].append(convert[table](row))
        return {
            "server_time": self.clock.now(),
            "cursor": cursor,
            "has_more": truncated,
            "head": head,
            "device": device.scope_json(),
            **page,
        }
