"""Course sessions and calendar closures: validated and merged last-writer-wins, whether
pushed by a laptop or edited centrally."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    insert,
    select,
    update,
)

from classroom_support.central import models as m
from classroom_support.central.storable import NUL_REASON, holds_nul
from classroom_support.central.store.core import StoreCore
from classroom_support.central.store.devices import Device
from classroom_support.central.store.wire import closure_row_to_wire, session_row_to_wire
from classroom_support.syncwire import (
    CLOSURE_FIELDS,
    SESSION_FIELDS,
    closure_from_wire,
    session_from_wire,
    wins,
)
from classroom_support.tickets import (
    MAX_SHORT,
)

MAX_SESSION_LENGTH = timedelta(days=31)
SANE_YEARS = (2000, 2100)


class RowMergeMixin(StoreCore):
    def _merge_rows(
        self,
        conn: Connection,
        device: Device,
        sessions: Sequence[Mapping[str, Any]],
        closures: Sequence[Mapping[str, Any]],
        head: int,
    ) -> tuple[list[dict[str, Any]], int]:
        out: list[dict[str, Any]] = []
        for wire in sessions:
            result, head = self._merge_session(conn, device.id, device.hall_filter, wire, head)
            out.append(result)
        for wire in closures:
            result, head = self._merge_closure(conn, device.id, wire, head)
            out.append(result)
        return out, head

    def _merge_session(
        self,
        conn: Connection,
        writer: str,
        halls: tuple[str, ...] | None,
        wire: Mapping[str, Any],
        head: int,
    ) -> tuple[dict[str, Any], int]:
        sid = str(wire.get("id"))
        base = {"table": "session", "id": sid}
        if holds_nul(dict(wire)):
            return {**base, "status": "rejected", "reason": NUL_REASON}, head
        try:
            incoming = session_from_wire(wire)
        except (KeyError, ValueError, TypeError, OverflowError):
            return {**base, "status": "rejected", "reason": "bad_row"}, head
        if incoming["ends_at"] <= incoming["starts_at"]:
            return {**base, "status": "rejected", "reason": "bad_row: ends before it starts"}, head
        if (
            incoming["ends_at"] - incoming["starts_at"] > MAX_SESSION_LENGTH
            or not SANE_YEARS[0] <= incoming["starts_at"].year <= SANE_YEARS[1]
        ):
            return {**base, "status": "rejected", "reason": "bad_row: implausible times"}, head
        if len(incoming["course"]) > MAX_SHORT or len(incoming["trainer"]) > MAX_SHORT:
            return {**base, "status": "rejected", "reason": "bad_row: text too long"}, head
        row = conn.execute(select(m.sessions).where(m.sessions.c.id == sid)).first()
        if halls is not None and (
            incoming["hall_code"] not in halls or (row is not None and row.hall_code not in halls)
        ):
            return {**base, "status": "rejected", "reason": "forbidden_hall"}, head
        current = session_row_to_wire(row) if row is not None else None
        if current is not None and not wins(incoming, current, SESSION_FIELDS):
            if not wins(current, incoming, SESSION_FIELDS):  # the same version again
                return {**base, "status": "applied", "seq": row.seq}, head
            return {**base, "status": "superseded", "seq": row.seq, "current": current}, head
        head += 1
        values = {**incoming, "seq": head, "updated_by": writer}
        if row is None:
            conn.execute(insert(m.sessions).values(**values))
        else:
            conn.execute(update(m.sessions).where(m.sessions.c.id == sid).values(**values))
        return {**base, "status": "applied", "seq": head}, head

    def _merge_closure(
        self, conn: Connection, writer: str, wire: Mapping[str, Any], head: int
    ) -> tuple[dict[str, Any], int]:
        cid = str(wire.get("id"))
        base = {"table": "closure", "id": cid}
        if holds_nul(dict(wire)):
            return {**base, "status": "rejected", "reason": NUL_REASON}, head
        try:
            incoming = closure_from_wire(wire)
            start = date.fromisoformat(incoming["start_day"])
            end = date.fromisoformat(incoming["end_day"])
        except (KeyError, ValueError, TypeError, OverflowError):
            return {**base, "status": "rejected", "reason": "bad_row"}, head
        if (
            end < start
            or (end - start).days > 366
            or not SANE_YEARS[0] <= start.year <= SANE_YEARS[1]
            or len(incoming["name"]) > MAX_SHORT
            or len(incoming["name_ar"]) > MAX_SHORT
        ):
            return {**base, "status": "rejected", "reason": "bad_row"}, head
        row = conn.execute(select(m.closures).where(m.closures.c.id == cid)).first()
        current = closure_row_to_wire(row) if row is not None else None
        if current is not None and not wins(incoming, current, CLOSURE_FIELDS):
            if not wins(current, incoming, CLOSURE_FIELDS):
                return {**base, "status": "applied", "seq": row.seq}, head
            return {**base, "status": "superseded", "seq": row.seq, "current": current}, head
        head += 1
        values = {**incoming, "seq": head, "updated_by": writer}
        if row is None:
            conn.execute(insert(m.closures).values(**values))
        else:
            conn.execute(update(m.closures).where(m.closures.c.id == cid).values(**values))
        return {**base, "status": "applied", "seq": head}, head
