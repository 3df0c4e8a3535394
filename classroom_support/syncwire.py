"""The sync wire format and the merge rules that both ends share (headless, no HTTP).

Events travel as JSON objects (the payload as an object, times as ISO 8601 UTC). The server's
copy of an event id is canonical: the first copy committed wins, and a laptop that holds a
different copy of the same id (two machines raising the same deterministic SLA event) replaces
its own with the server's. Course sessions and closures are rows merged last-writer-wins on
`(updated_at, canonical content)`, deletions being tombstones.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from classroom_support.models import ClosureRow, CourseSession, TicketEvent

# Fixed namespace: the default holidays get the same id on every laptop and on the server.
CLOSURE_NAMESPACE = uuid.UUID("3b0f6f7e-2a41-4f0c-9a6e-51d3c0b7a1d2")
# Seeded defaults carry this old timestamp, so any real edit (or deletion) wins against them.
SEED_TIME = datetime(2000, 1, 1, tzinfo=UTC)

EVENT_FIELDS = ("id", "ticket_id", "kind", "device_id", "actor", "occurred_at", "hlc")
SESSION_FIELDS = (
    "id",
    "hall_code",
    "course",
    "trainer",
    "starts_at",
    "ends_at",
    "updated_at",
    "deleted",
)
CLOSURE_FIELDS = (
    "id",
    "start_day",
    "end_day",
    "name",
    "name_ar",
    "estimated",
    "deleted",
    "updated_at",
)
ROSTER_FIELDS = ("id", "title", "title_ar", "responsibility", "contact", "deleted")


def seed_closure_id(start_day: str, end_day: str, name: str) -> str:
    """The id of a default (seeded) closure: the same content gives the same id everywhere."""
    return str(uuid.uuid5(CLOSURE_NAMESPACE, f"{start_day}/{end_day}/{name}"))


def iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime on the wire")
    return value.astimezone(UTC).isoformat()


def parse_time(text: str | datetime) -> datetime:
    value = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("naive datetime on the wire")
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- events


def event_to_wire(event: TicketEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "ticket_id": event.ticket_id,
        "kind": event.kind,
        "payload": json.loads(event.payload),
        "device_id": event.device_id,
        "actor": event.actor,
        "occurred_at": iso(event.occurred_at),
        "hlc": event.hlc,
    }


def event_from_wire(data: Mapping[str, Any], seq: int | None = None) -> TicketEvent:
    return TicketEvent(
        id=str(data["id"]),
        ticket_id=str(data["ticket_id"]),
        kind=str(data["kind"]),
        payload=json.dumps(data.get("payload") or {}, ensure_ascii=False),
        device_id=str(data["device_id"]),
        actor=str(data["actor"]),
        occurred_at=parse_time(data["occurred_at"]),
        hlc=str(data["hlc"]),
        server_seq=seq,
    )


def event_key(data: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two copies of an event id the same event (payload compared as data)."""
    return (
        str(data["ticket_id"]),
        str(data["kind"]),
        str(data["device_id"]),
        str(data["actor"]),
        parse_time(data["occurred_at"]),
        str(data["hlc"]),
        json.dumps(data.get("payload") or {}, sort_keys=True, ensure_ascii=False),
    )


def same_event(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return event_key(a) == event_key(b)


def copy_event_into(target: TicketEvent, source: TicketEvent) -> None:
    """Make a local copy of an event id identical to the canonical one."""
    for name in ("kind", "payload", "device_id", "actor", "occurred_at", "hlc"):
        setattr(target, name, getattr(source, name))


# --------------------------------------------------------------------------- light events


@dataclass(slots=True)
class FoldEvent:
    """An event as plain data: what `tickets.fold`/`apply_event` read, without the cost of an
    ORM object (sync handles thousands of them per request). Same attribute names."""

    id: str
    ticket_id: str
    kind: str
    payload: str  # JSON text, as stored
    device_id: str
    actor: str
    occurred_at: datetime
    hlc: str
    server_seq: int | None = None

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


def fold_event(data: Mapping[str, Any], seq: int | None = None) -> FoldEvent:
    """From the wire (payload as an object)."""
    payload = data.get("payload") or {}
    return FoldEvent(
        id=str(data["id"]),
        ticket_id=str(data["ticket_id"]),
        kind=str(data["kind"]),
        payload=payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False),
        device_id=str(data["device_id"]),
        actor=str(data["actor"]),
        occurred_at=parse_time(data["occurred_at"]),
        hlc=str(data["hlc"]),
        server_seq=seq,
    )


def fold_event_from_row(row: Any, seq_column: str = "server_seq") -> FoldEvent:
    """From a stored row (payload as JSON text)."""
    return FoldEvent(
        id=row.id,
        ticket_id=row.ticket_id,
        kind=row.kind,
        payload=row.payload,
        device_id=row.device_id,
        actor=row.actor,
        occurred_at=row.occurred_at,
        hlc=row.hlc,
        server_seq=getattr(row, seq_column),
    )


def light_to_wire(event: FoldEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "ticket_id": event.ticket_id,
        "kind": event.kind,
        "payload": json.loads(event.payload),
        "device_id": event.device_id,
        "actor": event.actor,
        "occurred_at": iso(event.occurred_at),
        "hlc": event.hlc,
    }


def light_key(event: FoldEvent) -> tuple[Any, ...]:
    return (
        event.ticket_id,
        event.kind,
        event.device_id,
        event.actor,
        event.occurred_at,
        event.hlc,
        json.dumps(json.loads(event.payload), sort_keys=True, ensure_ascii=False),
    )


def same_light(a: FoldEvent, b: FoldEvent) -> bool:
    return light_key(a) == light_key(b)


# --------------------------------------------------------------------------- the fold


# --------------------------------------------------------------------------- rows (LWW)


def session_to_wire(row: CourseSession) -> dict[str, Any]:
    return {
        "id": row.id,
        "hall_code": row.hall_code,
        "course": row.course,
        "trainer": row.trainer,
        "starts_at": iso(row.starts_at),
        "ends_at": iso(row.ends_at),
        "updated_at": iso(row.updated_at),
        "deleted": bool(row.deleted),
    }


def closure_to_wire(row: ClosureRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "start_day": row.start_day,
        "end_day": row.end_day,
        "name": row.name,
        "name_ar": row.name_ar,
        "estimated": bool(row.estimated),
        "deleted": bool(row.deleted),
        "updated_at": iso(row.updated_at),
    }


def _canonical(data: Mapping[str, Any], fields: tuple[str, ...]) -> str:
    out: dict[str, Any] = {}
    for name in fields:
        value = data.get(name)
        if isinstance(value, datetime):
            value = iso(value)
        elif name.endswith("_at") and isinstance(value, str):
            value = iso(parse_time(value))
        out[name] = value
    return json.dumps(out, sort_keys=True, ensure_ascii=False)


def lww_key(data: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[datetime, str]:
    """Last writer wins on updated_at; equal times are decided by the content, the same way
    on every machine, so the merge never depends on who asks."""
    return parse_time(data["updated_at"]), _canonical(data, fields)


def wins(
    incoming: Mapping[str, Any], current: Mapping[str, Any] | None, fields: tuple[str, ...]
) -> bool:
    """Does `incoming` replace `current`? (False when they are the same version.)"""
    if current is None:
        return True
    return lww_key(incoming, fields) > lww_key(current, fields)


def session_from_wire(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(data["id"]),
        "hall_code": str(data["hall_code"]),
        "course": str(data["course"]),
        "trainer": str(data.get("trainer", "")),
        "starts_at": parse_time(data["starts_at"]),
        "ends_at": parse_time(data["ends_at"]),
        "updated_at": parse_time(data["updated_at"]),
        "deleted": bool(data.get("deleted", False)),
    }


def closure_from_wire(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(data["id"]),
        "start_day": str(data["start_day"]),
        "end_day": str(data["end_day"]),
        "name": str(data["name"]),
        "name_ar": str(data.get("name_ar", "")),
        "estimated": bool(data.get("estimated", False)),
        "deleted": bool(data.get("deleted", False)),
        "updated_at": parse_time(data["updated_at"]),
    }
