"""Ticket and event rows as the store writes them, for the statements that bypass the ORM.

`TicketDesk.create` writes its two rows with fixed INSERT statements on the transaction's
connection instead of the ORM's unit of work (which cost several times the durable commit).
The values must be exactly what SQLAlchemy would store, so a row never depends on which path
wrote it: aware datetimes become naive UTC text with microseconds (SQLAlchemy's SQLite DATETIME
format), booleans 1/0. A test compares both paths column by column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import instrumentation
from sqlalchemy.orm.attributes import instance_state

from classroom_support.models import Ticket, TicketEvent, UTCDateTime
from classroom_support.plain_read import stored_datetime


def stored_value(value: Any) -> Any:
    """One Python value as SQLite holds it in this schema."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def _insert_sql(table: Table) -> tuple[str, tuple[str, ...]]:
    names = tuple(c.name for c in table.columns)
    placeholders = ", ".join("?" for _ in names)
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})", names


TICKET_INSERT, TICKET_FIELDS = _insert_sql(Ticket.__table__)  # type: ignore[attr-defined]
EVENT_INSERT, EVENT_FIELDS = _insert_sql(TicketEvent.__table__)  # type: ignore[attr-defined]

# The next device sequence, the newest HLC, the course session's label and this device's
# scope (role, halls, all halls), in one statement (each answered from an index or one row).
CREATE_LOOKUPS = (
    "SELECT (SELECT max(device_seq) FROM ticket WHERE origin_device = ?), "
    "(SELECT max(hlc) FROM ticket_event), "
    "(SELECT course FROM course_session WHERE id = ?), "
    "(SELECT role FROM sync_state WHERE id = 1), "
    "(SELECT halls FROM sync_state WHERE id = 1), "
    "(SELECT all_halls FROM sync_state WHERE id = 1)"
)


# Types SQLite stores as they are (bool is not among them: type(True) is bool, not int).
_AS_IS = frozenset({str, int, float, type(None)})


def stored_row(values: Iterable[Any]) -> tuple[Any, ...]:
    """Each value as `stored_value` makes it (those SQLite takes as they are, untouched)."""
    return tuple([v if type(v) in _AS_IS else stored_value(v) for v in values])


def row_values(values: dict[str, Any], fields: tuple[str, ...]) -> tuple[Any, ...]:
    """`values` in the order of `fields`, each as `stored_value` makes it."""
    return stored_row(map(values.__getitem__, fields))


# A ticket's values (dict) and an event (object), in their INSERT's column order.
ticket_in_order = itemgetter(*TICKET_FIELDS)
event_in_order = attrgetter(*EVENT_FIELDS)


# Every Ticket field that has a default, with it (scalars only: safe to share).
_TICKET_DEFAULTS = {
    name: info.get_default(call_default_factory=True)
    for name, info in Ticket.model_fields.items()
    if not info.is_required()
}


_TICKET_REQUIRED = frozenset(TICKET_FIELDS) - _TICKET_DEFAULTS.keys()


def ticket_values(given: dict[str, Any]) -> dict[str, Any]:
    """Every field of a Ticket: `given`, and the model's defaults for the rest."""
    if not given.keys() >= _TICKET_REQUIRED:
        missing = _TICKET_REQUIRED - given.keys()
        raise ValueError(f"ticket fields without a value: {sorted(missing)}")
    return {**_TICKET_DEFAULTS, **given}


_TICKET_MANAGER = instrumentation.manager_of_class(Ticket)


def stored_ticket(values: dict[str, Any]) -> Ticket:
    """The Ticket whose row was just written with `values`: built the way the ORM builds a
    loaded row (no per-attribute change tracking, which costs more than the commit) and
    detached, as a ticket returned from a finished session is."""
    ticket: Ticket = _TICKET_MANAGER.new_instance()
    ticket.__dict__.update(values)
    # What make_transient_to_detached does to a fresh instance whose every attribute is set
    # (nothing pending, nothing to expire): its identity key.
    instance_state(ticket).key = (Ticket, (values["id"],), None)
    return ticket


TICKET_COLUMNS: tuple[str, ...] = TICKET_FIELDS
_DATETIME_COLUMNS = frozenset(
    c.name
    for c in Ticket.__table__.columns  # type: ignore[attr-defined]
    if isinstance(c.type, UTCDateTime)
)
_BOOL_COLUMNS = frozenset(
    c.name
    for c in Ticket.__table__.columns  # type: ignore[attr-defined]
    if c.type.python_type is bool
)


_CONVERTED = tuple(
    (name, name in _BOOL_COLUMNS)
    for name in TICKET_COLUMNS
    if name in _DATETIME_COLUMNS | _BOOL_COLUMNS
)


def loaded_ticket(row: Sequence[Any]) -> Ticket:
    """The Ticket of a raw `SELECT TICKET_COLUMNS` row, as the ORM would load it."""
    values = dict(zip(TICKET_COLUMNS, row, strict=False))
    for name, is_bool in _CONVERTED:
        value = values[name]
        if value is not None:
            values[name] = bool(value) if is_bool else stored_datetime(value)
    # As stored_ticket (the identity key set directly: make_transient_to_detached costs
    # most of a page).
    ticket: Ticket = _TICKET_MANAGER.new_instance()
    ticket.__dict__.update(values)
    instance_state(ticket).key = (Ticket, (values["id"],), None)
    return ticket
