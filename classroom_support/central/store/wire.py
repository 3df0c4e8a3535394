"""Stored rows as they travel to laptops (pull pages, push answers, central reads)."""

from __future__ import annotations

import json
from typing import Any

from classroom_support.central.validation import load_stored_payload
from classroom_support.syncwire import (
    closure_to_wire,
    iso,
    session_to_wire,
)


def event_row_to_wire(row: Any, payload: Any = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "ticket_id": row.ticket_id,
        "kind": row.kind,
        "payload": json.loads(row.payload) if payload is None else payload,
        "device_id": row.device_id,
        "actor": row.actor,
        "occurred_at": iso(row.occurred_at),
        "hlc": row.hlc,
        "seq": row.seq,
    }


def servable_event(row: Any) -> tuple[dict[str, Any] | None, str]:
    """The event as pulled and "", or (None, why it cannot be served): a row an older server
    stored without today's checks must not break every pull page that holds it."""
    payload, problem = load_stored_payload(row.payload)
    if problem:
        return None, problem
    return event_row_to_wire(row, payload), ""


def session_row_to_wire(row: Any) -> dict[str, Any]:
    return {**session_to_wire(row), "seq": row.seq}


def closure_row_to_wire(row: Any) -> dict[str, Any]:
    return {**closure_to_wire(row), "seq": row.seq}


def roster_row_to_wire(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "title_ar": row.title_ar,
        "responsibility": row.responsibility,
        "contact": row.contact,
        "deleted": bool(row.deleted),
        "seq": row.seq,
    }


def kb_row_to_wire(row: Any) -> dict[str, Any]:
    """A knowledge-base article as pulled by laptops (central/kb.py writes them)."""
    return {
        "id": row.id,
        "slug": row.slug,
        "title": row.title,
        "title_ar": row.title_ar,
        "tags": [t for t in row.tags.split(",") if t],
        "body": row.body,
        "body_ar": row.body_ar,
        "updated_at": iso(row.updated_at),
        "deleted": bool(row.deleted),
        "seq": row.seq,
    }
