"""Push: each event checked, inserted-or-ignored by id and sequenced in one transaction;
the affected tickets re-projected; session and closure rows merged."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    func,
    insert,
    select,
    update,
)

from classroom_support.central import models as m
from classroom_support.central.storable import NUL, NUL_REASON, holds_nul
from classroom_support.central.store.core import _chunks
from classroom_support.central.store.devices import Device, _device
from classroom_support.central.store.errors import Conflict
from classroom_support.central.store.event_time import EventTimes, client_offset
from classroom_support.central.store.mail import MailMixin
from classroom_support.central.store.rows import RowMergeMixin
from classroom_support.central.store.wire import servable_event
from classroom_support.central.validation import payload_problem
from classroom_support.models import Ticket
from classroom_support.permissions import MONITOR_KINDS, monitor_event_ok, refusal_english
from classroom_support.routing import route_problem
from classroom_support.syncwire import (
    FoldEvent,
    fold_event,
    fold_event_from_row,
    light_to_wire,
    same_event,
)
from classroom_support.ticket_edits import edit_problem
from classroom_support.tickets import (
    CATEGORIES,
    CHANNELS,
    EVENT_KINDS,
    MAX_SHORT,
    MAX_TITLE,
    PRIORITIES,
    fold,
    fold_step,
)

HLC_RE = re.compile(r"^\d{13}-\d{5}$")
REF_RE = re.compile(r"^[A-Z0-9]{1,8}-[1-9]\d{0,8}$")


def _lookup_keys(keys: Iterable[str]) -> list[str]:
    """Distinct keys, in order, that a database can be asked about (none holding NUL)."""
    return [key for key in dict.fromkeys(keys) if NUL not in key]


class PushMixin(RowMergeMixin, MailMixin):
    def push(
        self,
        device: Device,
        events: Sequence[Mapping[str, Any]],
        sessions: Sequence[Mapping[str, Any]] = (),
        closures: Sequence[Mapping[str, Any]] = (),
        client_time: str | None = None,
    ) -> dict[str, Any]:
        """Insert-or-ignore each event by id and sequence it, in one transaction; merge rows
        last-writer-wins. Answers per item; the whole batch commits or nothing does.
        `client_time` is the laptop's clock at send (event_time.py: how times are fixed)."""
        if device.device_id is None or device.ref_prefix is None:
            raise Conflict("not_bound", "call /sync/hello first")
        now = self.clock.now()
        times = EventTimes(client_offset(client_time, now), now)
        with self.write() as conn:
            head = self._lock_head(conn)
            row = conn.execute(select(m.devices).where(m.devices.c.id == device.id)).one()
            device = _device(row)  # the binding as of this transaction
            # Lookups skip keys holding NUL: PostgreSQL refuses them even in a WHERE, and no
            # stored row can have one; _check_event then rejects that event by itself.
            ids = _lookup_keys(str(e["id"]) for e in events)
            existing: dict[str, dict[str, Any]] = {}
            unservable: set[str] = set()  # stored by an older server; never echoed back
            for chunk in _chunks(ids):
                for r in conn.execute(select(m.events).where(m.events.c.id.in_(chunk))):
                    stored_wire, _problem = servable_event(r)
                    if stored_wire is None:
                        unservable.add(r.id)
                        stored_wire = {"id": r.id, "seq": r.seq}
                    existing[r.id] = stored_wire
            ticket_ids = _lookup_keys(str(e["ticket_id"]) for e in events)
            known: dict[str, str] = {}
            prior_max: dict[str, str] = {}
            for chunk in _chunks(ticket_ids):
                for r in conn.execute(
                    select(m.tickets.c.id, m.tickets.c.hall_code).where(m.tickets.c.id.in_(chunk))
                ):
                    known[r.id] = r.hall_code
                for r in conn.execute(
                    select(m.events.c.ticket_id, func.max(m.events.c.hlc))
                    .where(m.events.c.ticket_id.in_(chunk))
                    .group_by(m.events.c.ticket_id)
                ):
                    prior_max[r[0]] = r[1]
            refs = [
                str(e["payload"].get("ref"))
                for e in events
                if e.get("kind") == "created" and isinstance(e.get("payload"), dict)
            ]
            used_refs: set[str] = set()
            for chunk in _chunks(_lookup_keys(refs)):
                used_refs.update(
                    conn.execute(
                        select(m.tickets.c.ref).where(m.tickets.c.ref.in_(chunk))
                    ).scalars()
                )
            results: list[dict[str, Any]] = []
            new_rows: list[dict[str, Any]] = []
            affected: dict[str, list[FoldEvent]] = {}
            for wire in events:
                eid = str(wire["id"])
                stored = existing.get(eid)
                if stored is not None:
                    result: dict[str, Any] = {
                        "id": eid,
                        "status": "duplicate",
                        "seq": stored["seq"],
                    }
                    if eid not in unservable and not _safe_same(stored, wire):
                        result["canonical"] = stored
                    results.append(result)
                    continue
                reason, hall = self._check_event(wire, device, known, used_refs)
                if reason:
                    results.append({"id": eid, "status": "rejected", "reason": reason})
                    continue
                head += 1
                sent, wire = wire, times.adjust(wire)
                model = fold_event(wire, seq=head)
                new_rows.append(
                    {
                        "id": eid,
                        "seq": head,
                        "ticket_id": model.ticket_id,
                        "hall_code": hall,
                        "kind": model.kind,
                        "payload": model.payload,
                        "device_id": model.device_id,
                        "actor": model.actor,
                        "occurred_at": model.occurred_at,
                        "hlc": model.hlc,
                        "received_at": now,
                        "pushed_by": device.id,
                    }
                )
                existing[eid] = {**dict(wire), "seq": head}
                if model.kind == "created":
                    known[model.ticket_id] = hall
                    used_refs.add(str(wire["payload"]["ref"]))
                affected.setdefault(model.ticket_id, []).append(model)
                result = {"id": eid, "status": "applied", "seq": head}
                if wire is not sent:  # the server changed its times: the laptop takes ours
                    result["canonical"] = {**light_to_wire(model), "seq": head}
                results.append(result)
            if new_rows:
                conn.execute(insert(m.events), new_rows)
            self._project(conn, affected, prior_max)
            self._queue_event_mail(  # the mails these events cause, in this transaction
                conn, [(r["id"], r["kind"], r["payload"], r["ticket_id"]) for r in new_rows]
            )
            row_results, head = self._merge_rows(conn, device, sessions, closures, head)
            self._set_head(conn, head)
            conn.execute(
                update(m.devices).where(m.devices.c.id == device.id).values(last_seen_at=now)
            )
        return {
            "server_time": self.clock.now(),
            "results": results,
            "rows": row_results,
            "head": head,
        }

    def _check_event(
        self,
        wire: Mapping[str, Any],
        device: Device,
        known: dict[str, str],
        used_refs: set[str],
    ) -> tuple[str, str]:
        """("", hall) when the event may be stored, else (reason, "")."""
        if wire.get("device_id") != device.device_id:
            return "wrong_device: events are pushed by the laptop that made them", ""
        if holds_nul(wire):
            return NUL_REASON, ""
        kind = wire.get("kind")
        if kind not in EVENT_KINDS:
            return f"unknown_kind: {str(kind)[:40]}", ""
        if not HLC_RE.match(str(wire.get("hlc", ""))):
            return "bad_hlc", ""
        occurred = wire.get("occurred_at")
        if not isinstance(occurred, datetime | str):
            return "bad_time", ""
        try:
            occurred_at = (
                occurred if isinstance(occurred, datetime) else datetime.fromisoformat(occurred)
            )
            if occurred_at.tzinfo is None:
                return "naive_time: occurred_at needs a UTC offset", ""
            occurred_at.astimezone(UTC)
        except (ValueError, OverflowError):
            return "bad_time", ""
        payload = wire.get("payload")
        problem = payload_problem(payload)  # shape, size, depth, finite numbers (validation.py)
        if problem:
            return problem, ""
        assert isinstance(payload, dict)
        ticket_id = str(wire.get("ticket_id"))
        if kind != "created":
            hall = known.get(ticket_id)
            if hall is None or not device.covers(hall):
                # Same answer for "no such ticket" and "another hall's ticket": no probing.
                return "unknown_ticket: the server has no such ticket in this device's halls", ""
            if kind == "edited":
                problem = edit_problem(payload)  # the new-ticket form's limits (ticket_edits)
                if problem:
                    return f"bad_payload: {problem}", ""
            if kind == "route":
                problem = route_problem(payload)  # where to, and the note's size (routing.py)
                if problem:
                    return f"bad_payload: {problem}", ""
            refused = _role_refusal(device, wire, payload)
            return (refused, "") if refused else ("", hall)
        if ticket_id in known:
            return "ticket_exists: a second 'created' event for this ticket", ""
        problem = _created_payload_problem(payload)
        if problem:
            return f"bad_payload: {problem}", ""
        hall = payload["hall_code"]
        if not device.covers(hall):
            return f"forbidden_hall: this device may not file tickets for hall {hall[:40]}", ""
        refused = _role_refusal(device, wire, payload)
        if refused:
            return refused, ""
        ref = payload["ref"]
        if ref.split("-")[0] != device.ref_prefix:
            return f"wrong_prefix: references of this device start with {device.ref_prefix}", ""
        if ref in used_refs:
            return f"ref_taken: {ref} already names another ticket", ""
        return "", hall

    def _project(
        self, conn: Connection, affected: dict[str, list[FoldEvent]], prior_max: dict[str, str]
    ) -> None:
        """Bring each affected ticket row up to date, with the same result as `fold` over all
        its events: a ticket created in this batch folds from the batch alone; a known one
        folds the new events onto its row when they all sort after the stored ones; anything
        else re-folds from every stored event. Written with one executemany per kind."""
        ids = list(affected)
        rows: dict[str, Any] = {}
        for chunk in _chunks(ids):
            for r in conn.execute(select(m.tickets).where(m.tickets.c.id.in_(chunk))):
                rows[r.id] = r
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for ticket_id, new in affected.items():
            new.sort(key=lambda e: (e.hlc, e.id))
            row = rows.get(ticket_id)
            last = prior_max.get(ticket_id)
            if row is None and last is None and any(e.kind == "created" for e in new):
                ticket = fold(new)  # type: ignore[arg-type]
            elif row is not None and last is not None and new[0].hlc > last:
                ticket = Ticket(**dict(row._mapping))
                for ev in new:
                    fold_step(ticket, ev)
            else:
                stored = conn.execute(select(m.events).where(m.events.c.ticket_id == ticket_id))
                ticket = fold([fold_event_from_row(r, "seq") for r in stored])  # type: ignore[arg-type]
            values = ticket.model_dump()
            if row is None:
                inserts.append(values)
            else:
                updates.append({**values, "b_id": ticket_id})
        if inserts:
            conn.execute(insert(m.tickets), inserts)
        if updates:  # SET takes the columns named in the parameter sets
            for values in updates:
                values.pop("id")
            conn.execute(update(m.tickets).where(m.tickets.c.id == bindparam("b_id")), updates)


def _role_refusal(device: Device, wire: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    """The role's answer from the one permission table the laptops use too; SLA events pass
    only as the monitor's own (their deterministic ids), from any role."""
    kind = str(wire["kind"])
    if kind in MONITOR_KINDS:
        if monitor_event_ok(str(wire["id"]), str(wire["ticket_id"]), kind, payload):
            return ""
        return "forbidden_role: SLA warnings, breaches and escalations come from the SLA monitor"
    reason = refusal_english(device.role, kind, payload)
    return f"forbidden_role: {reason}" if reason else ""


# Who has a ticket when it is filed: its hall, or the contact centre that took the call.
CREATED_WITH = ("hall", "contact-centre")


def _created_payload_problem(payload: Mapping[str, Any]) -> str:
    ref = payload.get("ref")
    if not isinstance(ref, str) or not REF_RE.match(ref):
        return "ref"
    if not isinstance(payload.get("hall_code"), str) or not payload["hall_code"]:
        return "hall_code"
    title = payload.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        return "title"
    for name in (
        "seat",
        "trainee_name",
        "trainee_contact",
        "caller_number",
        "remote_session_id",
        "session_label",
    ):
        value = payload.get(name, "")
        if not isinstance(value, str) or len(value) > MAX_SHORT:
            return name
    if payload.get("category", "other") not in CATEGORIES:
        return "category"
    if payload.get("priority", "normal") not in PRIORITIES:
        return "priority"
    if payload.get("channel", "in_hall") not in CHANNELS:
        return "channel"
    if payload.get("with_desk", "hall") not in CREATED_WITH:
        return "with_desk"
    seq = payload.get("device_seq", 0)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        return "device_seq"
    session_id = payload.get("session_id")
    if session_id is not None and (not isinstance(session_id, str) or len(session_id) > 64):
        return "session_id"
    return ""


def _safe_same(stored: Mapping[str, Any], wire: Mapping[str, Any]) -> bool:
    try:
        return same_event(stored, wire)
    except (KeyError, ValueError, TypeError):
        return False
