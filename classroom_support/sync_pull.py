"""Pulling from the central server: pages of events and rows, each applied with its cursor.

Events are inserted if absent by id (the server's copy winning over a different local copy) and
every touched ticket is re-folded from ALL its events; sessions and closures merge by their
version; the roster, knowledge base and staff directory are the centre's. One local
transaction per page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from classroom_support.models import (
    ClosureRow,
    CourseSession,
    KbArticleRow,
    MetaEntry,
    PersonRow,
    RosterEntry,
    SyncParked,
    SyncState,
    Ticket,
    TicketEvent,
)
from classroom_support.sync_transport import Progress, SyncError, Transport, _Restart
from classroom_support.syncwire import (
    CLOSURE_FIELDS,
    SESSION_FIELDS,
    FoldEvent,
    closure_from_wire,
    closure_to_wire,
    fold_event,
    fold_event_from_row,
    parse_time,
    same_light,
    session_from_wire,
    session_to_wire,
    wins,
)
from classroom_support.tickets import fold

if TYPE_CHECKING:
    from classroom_support.sync import SyncReport

_EVENTS: Any = TicketEvent.__table__  # type: ignore[attr-defined]
_TICKETS: Any = Ticket.__table__  # type: ignore[attr-defined]


def take_scope(state: SyncState, scope: dict[str, Any]) -> None:
    """The role and halls the server gives this device (hello, and every pull page, so a
    changed scope arrives without a new hello). A server before roles sends halls only."""
    state.role = str(scope.get("role") or "hall")
    state.all_halls = scope.get("all_halls") is True
    state.halls = ",".join(str(h) for h in scope.get("halls", []) or [])


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Pulling(Transport):
    """The pull half of `SyncClient`."""

    page_size: int
    _forget_server: Callable[[], None]  # SyncClient

    def _pull(self, http: httpx.Client, report: SyncReport, progress: Progress | None) -> None:
        rounds = 0
        while True:
            cursor = self.state().cursor
            started = time.monotonic()
            response = self._request(
                http, "GET", "/sync/pull", report, params={"since": cursor, "limit": self.page_size}
            )
            if response.status_code == 409 and self._detail(response)[0] == "cursor_ahead":
                self._forget_server()
                raise _Restart
            if response.status_code != 200:
                raise self._setup_error(response)
            data = response.json()
            data["_ms"] = int((time.monotonic() - started) * 1000)
            self._apply_page(data, report)
            rounds += 1
            if progress:
                progress("pull", int(data["cursor"]), int(data["head"]))
            if not data["has_more"]:
                break
            if int(data["cursor"]) <= cursor or rounds > 100_000:
                raise SyncError("error", "the server's cursor did not advance")

    def _apply_page(self, data: dict[str, Any], report: SyncReport, step: str = "pull") -> None:
        """Insert-if-absent by id, the server's copy winning; re-fold every touched ticket
        from ALL its events; merge rows; move the cursor. One transaction. `step` names it in
        the sync log (`live` for a page a waiting pull brought)."""
        touched: set[str] = set()
        calendar = False
        with self.db.write() as s:
            state = s.get(SyncState, 1) or SyncState(id=1)
            wires = data.get("events", [])
            touched = self._merge_events(s.connection(), wires)
            for wire in data.get("sessions", []):
                calendar |= self._merge_pulled(s, CourseSession, "session", wire)
            for wire in data.get("closures", []):
                calendar |= self._merge_pulled(s, ClosureRow, "closure", wire)
            roster = data.get("roster", [])
            if roster and s.get(MetaEntry, "roster_source") is None:
                # The first roster from the centre replaces the config's; from cursor 0 the
                # server sends every entry it has, so the two end up the same.
                s.connection().execute(delete(RosterEntry))
            for wire in roster:
                found = s.get(RosterEntry, wire["id"])
                if wire.get("deleted"):
                    if found is not None:
                        s.delete(found)
                    continue
                s.merge(
                    RosterEntry(
                        id=str(wire["id"]),
                        title=str(wire["title"]),
                        title_ar=str(wire.get("title_ar", "")),
                        responsibility=str(wire.get("responsibility", "")),
                        contact=str(wire.get("contact", "")),
                    )
                )
            if roster:
                s.merge(MetaEntry(key="roster_source", value="central"))
            articles = data.get("kb", [])
            self._merge_kb(s, articles)
            people = data.get("people", [])
            self._merge_people(s, people)
            if isinstance(data.get("device"), dict):
                take_scope(state, data["device"])
            new_cursor = int(data["cursor"])
            state.cursor = max(state.cursor, new_cursor)  # never goes back
            s.add(state)
            rows = (
                len(data.get("sessions", []))
                + len(data.get("closures", []))
                + len(roster)
                + len(articles)
                + len(people)
            )
            self._log(
                s,
                step,
                "ok",
                received=len(wires) + rows,
                cursor=state.cursor,
                duration_ms=int(data.get("_ms", 0)),
            )
        report.pulled += len(wires)
        report.rows_pulled += rows
        report.changed_tickets.update(touched)
        report.head = max(report.head or 0, int(data.get("head", 0)))
        if calendar:
            report.calendar_changed = True

    @staticmethod
    def _merge_kb(s: Session, articles: list[dict[str, Any]]) -> None:
        """Knowledge-base articles: the centre's copy replaces ours (they are read-only here);
        a tombstone removes the article. Slugs are unique, so an article that took over a
        deleted one's slug in this page replaces that row first."""
        for wire in articles:
            found = s.get(KbArticleRow, str(wire["id"]))
            if wire.get("deleted"):
                if found is not None:
                    s.delete(found)
                    s.flush()
                continue
            slug = str(wire["slug"])
            clash = s.exec(select(KbArticleRow).where(KbArticleRow.slug == slug)).first()
            if clash is not None and clash.id != wire["id"]:
                s.delete(clash)
                s.flush()
            row = found or KbArticleRow(id=str(wire["id"]), slug=slug)
            row.slug = slug
            row.title = str(wire.get("title", ""))
            row.title_ar = str(wire.get("title_ar", ""))
            row.tags = ",".join(str(t) for t in wire.get("tags", []))
            row.body = str(wire.get("body", ""))
            row.body_ar = str(wire.get("body_ar", ""))
            row.updated_at = parse_time(wire["updated_at"])
            s.add(row)
            s.flush()

    @staticmethod
    def _merge_people(s: Session, people: list[dict[str, Any]]) -> None:
        """The staff directory: the centre's copy replaces ours (read-only here); a tombstone
        (a removal, or a person this device may no longer see) drops the person."""
        for wire in people:
            found = s.get(PersonRow, str(wire["id"]))
            if wire.get("deleted"):
                if found is not None:
                    s.delete(found)
                continue
            row = found or PersonRow(id=str(wire["id"]), name="")
            row.name = str(wire.get("name", ""))
            row.role = str(wire.get("role", ""))
            row.halls = ",".join(str(h) for h in wire.get("halls", []))
            row.email = str(wire.get("email", ""))
            row.lang = str(wire.get("lang", ""))
            s.add(row)

    def _merge_pulled(self, s: Session, model: Any, table: str, wire: dict[str, Any]) -> bool:
        fields = SESSION_FIELDS if table == "session" else CLOSURE_FIELDS
        to_wire: Any = session_to_wire if table == "session" else closure_to_wire
        values = session_from_wire(wire) if table == "session" else closure_from_wire(wire)
        row = s.get(model, values["id"])
        if row is None:
            s.add(model(**values, sync_pending=False))
            return True
        if wins(wire, to_wire(row), fields):
            overwrite_row(row, table, wire)
            s.add(row)
            return True
        return False  # ours is newer: it stays pending and goes up next time

    def _merge_events(self, conn: Any, wires: Sequence[dict[str, Any]]) -> set[str]:
        """Insert-if-absent by id (the server's copy winning over a different local copy),
        then re-fold every touched ticket from ALL its events and write tickets before
        events (foreign key). Core statements, executemany: pages are thousands of events."""
        te = _EVENTS
        incoming = [fold_event(w, seq=int(w["seq"])) for w in wires]
        ids = [e.id for e in incoming]
        stored: dict[str, FoldEvent] = {}
        for chunk in _chunks(ids):
            conn.execute(delete(SyncParked).where(col(SyncParked.item_id).in_(chunk)))
            for row in conn.execute(sa_select(te).where(te.c.id.in_(chunk))):
                stored[row.id] = fold_event_from_row(row)
        new: list[FoldEvent] = []
        changed: list[FoldEvent] = []
        acks: list[dict[str, Any]] = []
        touched: set[str] = set()
        for event in incoming:
            local = stored.get(event.id)
            if local is None:
                new.append(event)
                touched.add(event.ticket_id)
            elif not same_light(event, local):
                if local.ticket_id != event.ticket_id:
                    raise SyncError("error", f"event id {event.id} names two tickets")
                changed.append(event)
                touched.add(event.ticket_id)
            elif local.server_seq != event.server_seq:
                acks.append({"b_id": event.id, "server_seq": event.server_seq})
        if touched:
            refold(conn, touched, [*new, *changed])
        if new:
            conn.execute(insert(te), [e.values() for e in new])
        if changed:
            rows = []
            for e in changed:
                values = e.values()
                del values["id"], values["ticket_id"]
                rows.append({**values, "b_id": e.id})
            conn.execute(update(te).where(te.c.id == bindparam("b_id")), rows)
        if acks:
            conn.execute(update(te).where(te.c.id == bindparam("b_id")), acks)
        return touched


def refold(conn: Any, ticket_ids: Iterable[str], overrides: Sequence[FoldEvent] = ()) -> None:
    """Write each ticket row as the fold of all its events (stored ones, with `overrides`
    replacing or adding by id). Tickets that do not exist yet are inserted."""
    te, tt = _EVENTS, _TICKETS
    ids = list(ticket_ids)
    grouped: dict[str, dict[str, FoldEvent]] = {tid: {} for tid in ids}
    existing: set[str] = set()
    for chunk in _chunks(ids):
        for row in conn.execute(sa_select(te).where(te.c.ticket_id.in_(chunk))):
            grouped[row.ticket_id][row.id] = fold_event_from_row(row)
        existing.update(conn.execute(sa_select(tt.c.id).where(tt.c.id.in_(chunk))).scalars())
    for event in overrides:
        grouped.setdefault(event.ticket_id, {})[event.id] = event
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for ticket_id, events in grouped.items():
        if not any(e.kind == "created" for e in events.values()):
            raise SyncError("error", f"ticket {ticket_id}: events arrived before its creation")
        values = fold(events.values()).model_dump()
        if ticket_id in existing:
            del values["id"]
            updates.append({**values, "b_id": ticket_id})
        else:
            inserts.append(values)
    if inserts:
        conn.execute(insert(tt), inserts)
    if updates:
        conn.execute(update(tt).where(tt.c.id == bindparam("b_id")), updates)


def overwrite_row(row: Any, table: str, wire: dict[str, Any]) -> None:
    values = session_from_wire(wire) if table == "session" else closure_from_wire(wire)
    for name, value in values.items():
        if name != "id":
            setattr(row, name, value)
    row.sync_pending = False
