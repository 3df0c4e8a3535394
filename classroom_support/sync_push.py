"""Pushing to the central server: course sessions and closures, then the outbox of events.

A request the server refuses as a whole (400/413/422) is split until the one item at fault is
found and parked (`sync_parked`, with the reason); parked items stay out of the outbox until the
technician retries them. The server's answer per event is applied in one local transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import bindparam, exists, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from classroom_support.db import Database
from classroom_support.models import ClosureRow, CourseSession, SyncParked, SyncState, TicketEvent
from classroom_support.sync_pull import overwrite_row, refold
from classroom_support.sync_transport import ITEM_STATUSES, Progress, SyncError, Transport
from classroom_support.syncwire import (
    CLOSURE_FIELDS,
    SESSION_FIELDS,
    FoldEvent,
    closure_to_wire,
    fold_event,
    fold_event_from_row,
    light_to_wire,
    same_light,
    session_to_wire,
    wins,
)

if TYPE_CHECKING:
    from classroom_support.sync import SyncReport

log = logging.getLogger("classroom_support.sync")

_EVENTS: Any = TicketEvent.__table__  # type: ignore[attr-defined]


def pending_count(db: Database) -> int:
    """How many events wait in the outbox (parked events are not waiting: they need a person)."""
    with db.read() as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(TicketEvent)
                .where(col(TicketEvent.server_seq).is_(None), ~_parked(TicketEvent.id))
            ).one()
        )


def _parked(column: Any) -> Any:
    return exists().where(col(SyncParked.item_id) == column)


class Pushing(Transport):
    """The push half of `SyncClient`."""

    batch_size: int
    _hello: Callable[[httpx.Client, SyncReport], None]  # SyncClient

    def _send(
        self,
        http: httpx.Client,
        report: SyncReport,
        items: Sequence[Any],
        body: Callable[[Sequence[Any]], dict[str, Any]],
        apply: Callable[[Sequence[Any], dict[str, Any]], None],
        park: Callable[[Any, str, int], None],
        step: str,
    ) -> int:
        """Send `items` in one request, splitting it when the server refuses it as a whole
        (400/413/422: too big or malformed) until the one item at fault is found and parked."""
        pending: list[Sequence[Any]] = [items]
        sent = 0
        while pending:
            chunk = pending.pop(0)
            started = time.monotonic()
            response = self._request(http, "POST", "/sync/push", report, json=body(chunk))
            if response.status_code in ITEM_STATUSES:
                code, message = self._detail(response)
                reason = f"HTTP {response.status_code} {code}: {message}".strip()
                with self.db.write() as s:
                    self._log(s, step, str(response.status_code), sent=len(chunk), detail=reason)
                if len(chunk) > 1:
                    half = len(chunk) // 2
                    pending[:0] = [chunk[:half], chunk[half:]]
                    continue
                park(chunk[0], reason, response.status_code)
                report.parked += 1
                continue
            if response.status_code == 409:
                code, _message = self._detail(response)
                if code == "not_bound":  # the server forgot the binding (restored): hello again
                    with self.db.write() as s:
                        state = s.get(SyncState, 1) or SyncState(id=1)
                        state.device_bound = False
                        s.add(state)
                    self._hello(http, report)
                    pending.insert(0, chunk)
                    continue
            if response.status_code != 200:
                raise self._setup_error(response)
            data = response.json()
            data["_ms"] = int((time.monotonic() - started) * 1000)
            apply(chunk, data)
            sent += len(chunk)
        return sent

    def _push_rows(self, http: httpx.Client, report: SyncReport) -> None:
        with self.db.read() as s:
            sessions = list(
                s.exec(
                    select(CourseSession).where(
                        col(CourseSession.sync_pending).is_(True), ~_parked(CourseSession.id)
                    )
                ).all()
            )
            closures = list(
                s.exec(
                    select(ClosureRow).where(
                        col(ClosureRow.sync_pending).is_(True), ~_parked(ClosureRow.id)
                    )
                ).all()
            )
        items: list[tuple[str, dict[str, Any]]] = [
            ("session", session_to_wire(r)) for r in sessions
        ]
        items += [("closure", closure_to_wire(r)) for r in closures]
        for i in range(0, len(items), self.batch_size):
            self._send(
                http,
                report,
                items[i : i + self.batch_size],
                lambda chunk: {
                    "events": [],
                    "sessions": [w for t, w in chunk if t == "session"],
                    "closures": [w for t, w in chunk if t == "closure"],
                },
                lambda chunk, data: self._apply_row_results(chunk, data, report),
                lambda item, reason, status: self._park(item[1]["id"], item[0], reason, status),
                "rows",
            )

    def _apply_row_results(
        self, chunk: Sequence[tuple[str, dict[str, Any]]], data: dict[str, Any], report: SyncReport
    ) -> None:
        sent = {(t, w["id"]): w for t, w in chunk}
        results = data.get("rows", [])
        if {(r["table"], r["id"]) for r in results} != set(sent):
            raise SyncError("error", "the server's answer does not match the rows sent")
        changed = False
        with self.db.write() as s:
            for r in results:
                table, rid = r["table"], r["id"]
                model: Any = CourseSession if table == "session" else ClosureRow
                to_wire: Any = session_to_wire if table == "session" else closure_to_wire
                fields = SESSION_FIELDS if table == "session" else CLOSURE_FIELDS
                row = s.get(model, rid)
                if row is None:
                    continue
                unchanged = not wins(to_wire(row), sent[(table, rid)], fields) and not wins(
                    sent[(table, rid)], to_wire(row), fields
                )
                if r["status"] == "applied":
                    if unchanged:  # compare-and-clear: an edit made meanwhile stays pending
                        row.sync_pending = False
                        report.rows_pushed += 1
                elif r["status"] == "superseded" and r.get("current"):
                    if unchanged:
                        overwrite_row(row, table, r["current"])
                        changed = True
                else:
                    self._park_in(s, rid, table, str(r.get("reason", "")), 200)
                    report.parked += 1
                s.add(row)
            self._log(
                s,
                "rows",
                "ok",
                sent=len(chunk),
                applied=sum(1 for r in results if r["status"] == "applied"),
                duplicates=sum(1 for r in results if r["status"] == "superseded"),
                rejected=sum(1 for r in results if r["status"] == "rejected"),
                duration_ms=int(data.get("_ms", 0)),
            )
        if changed:
            report.calendar_changed = True

    def _outbox(self, limit: int) -> list[FoldEvent]:
        """The oldest unacknowledged, unparked events, in (hlc, id) order."""
        te = _EVENTS
        with self.db.read() as s:
            rows = s.connection().execute(
                sa_select(te)
                .where(te.c.server_seq.is_(None), ~_parked(te.c.id))
                .order_by(te.c.hlc, te.c.id)
                .limit(limit)
            )
            return [fold_event_from_row(r) for r in rows]

    def _push_events(
        self, http: httpx.Client, report: SyncReport, progress: Progress | None
    ) -> None:
        total = pending_count(self.db)
        done = 0
        if progress and total:
            progress("push", 0, total)
        rounds = 0
        while True:
            batch = self._outbox(self.batch_size)
            if not batch:
                break
            rounds += 1
            if rounds > total // max(1, self.batch_size) + 50:
                raise SyncError("error", "the outbox does not drain; see the sync log")
            done += self._send(
                http,
                report,
                batch,
                lambda chunk: {"events": [light_to_wire(e) for e in chunk]},
                lambda chunk, data: self._apply_push_results(chunk, data, report),
                lambda event, reason, status: self._park(event.id, "event", reason, status),
                "push",
            )
            if progress:
                progress("push", min(done, total), max(total, done))

    def _apply_push_results(
        self, batch: Sequence[FoldEvent], data: dict[str, Any], report: SyncReport
    ) -> None:
        results = data["results"]
        if [r["id"] for r in results] != [e.id for e in batch]:
            raise SyncError("error", "the server's answer does not match the events sent")
        by_id = {e.id: e for e in batch}
        refold_ids: set[str] = set()
        acks: list[dict[str, Any]] = []
        counts = {"applied": 0, "duplicate": 0, "rejected": 0}
        te = _EVENTS
        with self.db.write() as s:
            conn = s.connection()
            for r in results:
                status = r["status"]
                counts[status] = counts.get(status, 0) + 1
                local = by_id[r["id"]]
                if status == "rejected":
                    self._park_in(s, local.id, "event", str(r.get("reason", "")), 200)
                    report.parked += 1
                    continue
                canonical = r.get("canonical")
                if canonical:
                    theirs = fold_event(canonical, seq=int(r["seq"]))
                    if theirs.ticket_id != local.ticket_id:
                        self._park_in(s, local.id, "event", "id_collision", 200)
                        report.parked += 1
                        continue
                    if not same_light(theirs, local):
                        # The server's copy of this id wins (e.g. the same SLA escalation
                        # raised on both sides): take it, and re-fold the ticket.
                        values = theirs.values()
                        del values["id"], values["ticket_id"]
                        conn.execute(update(te).where(te.c.id == local.id).values(**values))
                        refold_ids.add(local.ticket_id)
                        continue
                acks.append({"b_id": local.id, "server_seq": int(r["seq"])})
            if acks:
                conn.execute(update(te).where(te.c.id == bindparam("b_id")), acks)
            if refold_ids:
                refold(conn, refold_ids)
                report.changed_tickets.update(refold_ids)
            self._log(
                s,
                "push",
                "ok",
                sent=len(batch),
                applied=counts["applied"],
                duplicates=counts["duplicate"],
                rejected=counts["rejected"],
                cursor=int(data.get("head", 0)),
                duration_ms=int(data.get("_ms", 0)),
            )
        report.pushed += counts["applied"]
        report.duplicates += counts["duplicate"]
        report.head = max(report.head or 0, int(data.get("head", 0)))

    def _park(self, item_id: str, kind: str, reason: str, status: int) -> None:
        with self.db.write() as s:
            self._park_in(s, item_id, kind, reason, status)

    def _park_in(self, s: Session, item_id: str, kind: str, reason: str, status: int) -> None:
        s.merge(
            SyncParked(
                item_id=item_id,
                item_kind=kind,
                reason=reason[:1000],
                status_code=status,
                parked_at=self.clock.now(),
            )
        )
        log.warning("sync: parked %s %s: %s", kind, item_id, reason[:200])
