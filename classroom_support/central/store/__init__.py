"""The central server's transactional core: devices, pushed events, the sequence, projections,
the change feed, central edits and the SLA job. No HTTP here (api.py is a thin layer on top).

One module per concern; `CentralStore` is assembled from them:

    engine.py     database URL, engine, SQLite pragmas and `BEGIN IMMEDIATE`
    core.py       shared state, read/write transactions, the sequence counter (why it is safe)
    schema.py     the schema's Alembic revision: upgrade at opening, stamp, refuse newer
    opening.py    open/bootstrap: schema, the server's identity, seeded holidays, roster
    errors.py     StoreError, Conflict, NotFound
    wire.py       stored rows as they travel to laptops
    devices.py    registration, tokens, revocation, hello
    push.py       push: event checks, insert-or-ignore, projection
    rows.py       session/closure rows merged last-writer-wins (push and central edits)
    pull.py       pull: one page of changes after a cursor
    people.py     the staff directory, and what of it each device may see
    mail.py       mail notifications queued in the transaction of their cause; the sender's steps
    edits.py      tickets filed and changed centrally
    webform.py    the web form's shared state: spent form tokens, the rate-limit counts
    mailbox.py    the e-mail channel's state: mailbox UIDs, the poll lease, the import ledger
    reads.py      plain reads of tickets, events, sessions, closures
    calendars.py  the business calendar per hall
    sla_run.py    the central SLA job
    check.py      `central check`: rows that cannot be served, sequence and projection faults
"""

from __future__ import annotations

from classroom_support.central.store.calendars import CalendarMixin
from classroom_support.central.store.check import CheckMixin
from classroom_support.central.store.core import CENTRAL, IN_CHUNK, StoreCore
from classroom_support.central.store.devices import PREFIX_RE, Device, DevicesMixin
from classroom_support.central.store.edits import EditsMixin
from classroom_support.central.store.engine import BUSY_TIMEOUT_MS, database_url, make_engine
from classroom_support.central.store.errors import Conflict, NotFound, StoreError
from classroom_support.central.store.mail import DigestMixin
from classroom_support.central.store.mailbox import MailboxMixin
from classroom_support.central.store.opening import OpeningMixin
from classroom_support.central.store.people import PeopleMixin
from classroom_support.central.store.pull import PullMixin
from classroom_support.central.store.push import HLC_RE, REF_RE, PushMixin
from classroom_support.central.store.reads import ReadsMixin
from classroom_support.central.store.rows import MAX_SESSION_LENGTH, SANE_YEARS, RowMergeMixin
from classroom_support.central.store.sla_run import SlaRunMixin
from classroom_support.central.store.webform import FormFiling, WebFormMixin
from classroom_support.central.store.wire import (
    closure_row_to_wire,
    event_row_to_wire,
    kb_row_to_wire,
    roster_row_to_wire,
    session_row_to_wire,
)
from classroom_support.central.validation import MAX_DEPTH, MAX_PAYLOAD_BYTES


class CentralStore(
    OpeningMixin,
    DevicesMixin,
    PushMixin,
    PullMixin,
    PeopleMixin,
    DigestMixin,
    SlaRunMixin,
    WebFormMixin,
    MailboxMixin,
    EditsMixin,
    RowMergeMixin,
    CalendarMixin,
    ReadsMixin,
    CheckMixin,
    StoreCore,
):
    """The whole store: every concern's methods on one object the server and tests share."""


__all__ = [
    "BUSY_TIMEOUT_MS",
    "CENTRAL",
    "HLC_RE",
    "IN_CHUNK",
    "MAX_DEPTH",
    "MAX_PAYLOAD_BYTES",
    "MAX_SESSION_LENGTH",
    "PREFIX_RE",
    "REF_RE",
    "SANE_YEARS",
    "CentralStore",
    "Conflict",
    "Device",
    "FormFiling",
    "NotFound",
    "StoreError",
    "closure_row_to_wire",
    "database_url",
    "event_row_to_wire",
    "kb_row_to_wire",
    "make_engine",
    "roster_row_to_wire",
    "session_row_to_wire",
]
