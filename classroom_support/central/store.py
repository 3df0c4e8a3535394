"""The central server's transactional core: devices, pushed events, the sequence, projections,
the change feed, central edits and the SLA job. No HTTP here (api.py is a thin layer on top).

Every writing transaction first locks the one counter row (`SELECT ... FOR UPDATE`; on SQLite
the whole database via `BEGIN IMMEDIATE`), hands out sequence numbers from it and writes it back
before committing. Writers are therefore serialised on that row, so a higher sequence number is
never visible before a lower one: a reader that has seen `seq = n` has seen every row `<= n`,
and a cursor can never skip a row that commits late.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

from classroom_support.central import models as m
from classroom_support.central.auth import hash_token, new_token
from classroom_support.clock import Clock, SystemClock
from classroom_support.config import Config
from classroom_support.hlc import HLC, tick
from classroom_support.models import Ticket, TicketEvent
from classroom_support.sla import BusinessCalendar, Closure, SessionWindow
from classroom_support.sla_policy import SlaPolicy, planned_sla_events, ticket_clocks
from classroom_support.syncwire import (
    CLOSURE_FIELDS,
    SEED_TIME,
    SESSION_FIELDS,
    FoldEvent,
    closure_from_wire,
    closure_to_wire,
    fold_event,
    fold_event_from_row,
    iso,
    same_event,
    seed_closure_id,
    session_from_wire,
    session_to_wire,
    wins,
)
from classroom_support.tickets import (
    CATEGORIES,
    CHANNELS,
    EVENT_KINDS,
    MAX_SHORT,
    MAX_TITLE,
    PRIORITIES,
    REF_ALPHABET,
    REF_PREFIX_LEN,
    InvalidTransition,
    TicketDraft,
    TicketNotFound,
    apply_event,
    fold,
    fold_step,
    pause_spans,
    ticket_from_created,
    validate_draft,
)

CENTRAL = "central"  # pushed_by / updated_by for changes made on the server itself
MAX_PAYLOAD_BYTES = 64 * 1024
HLC_RE = re.compile(r"^\d{13}-\d{5}$")
REF_RE = re.compile(r"^[A-Z0-9]{1,8}-[1-9]\d{0,8}$")
PREFIX_RE = re.compile(r"^[A-Z0-9]{1,8}$")
BUSY_TIMEOUT_MS = 10_000
IN_CHUNK = 500  # ids per IN (...) list
MAX_SESSION_LENGTH = timedelta(days=31)
SANE_YEARS = (2000, 2100)


class StoreError(Exception):
    """A request the store refuses as a whole (the API maps `status` to the HTTP status)."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Conflict(StoreError):
    status = 409


class NotFound(StoreError):
    status = 404


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    halls: tuple[str, ...]
    ref_prefix: str | None
    device_id: str | None
    revoked: bool = False


def _device(row: Any) -> Device:
    return Device(
        id=row.id,
        name=row.name,
        halls=tuple(h for h in row.halls.split(",") if h),
        ref_prefix=row.ref_prefix,
        device_id=row.device_id,
        revoked=bool(row.revoked),
    )


def event_row_to_wire(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "ticket_id": row.ticket_id,
        "kind": row.kind,
        "payload": json.loads(row.payload),
        "device_id": row.device_id,
        "actor": row.actor,
        "occurred_at": iso(row.occurred_at),
        "hlc": row.hlc,
        "seq": row.seq,
    }


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


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), IN_CHUNK):
        yield items[i : i + IN_CHUNK]


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL as given, or a path to a SQLite file."""
    text = str(db)
    if "://" in text:
        return text
    path = Path(text).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # an acknowledged push survives power loss
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get("central_read"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=12,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


class CentralStore:
    def __init__(self, engine: Engine, config: Config, clock: Clock) -> None:
        self.engine = engine
        self.config = config
        self.clock = clock
        self.policy = SlaPolicy.from_config(config)
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._calendars: dict[str, BusinessCalendar] = {}
        self._calendar_version: tuple[int, int] | None = None
        self.central_device_id = ""
        self.central_prefix = ""

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls, db: str | Path, config: Config | None = None, clock: Clock | None = None
    ) -> CentralStore:
        store = cls(make_engine(database_url(db)), config or Config(), clock or SystemClock())
        store.bootstrap()
        return store

    def close(self) -> None:
        self.engine.dispose()

    def bootstrap(self) -> None:
        """Create missing tables; seed the counter, the server's own identity, the default
        holidays and the roster from config. Safe to run on every start, by several servers."""
        m.central_metadata.create_all(self.engine)
        try:
            with self.engine.begin() as conn:
                if (
                    conn.execute(
                        select(m.counters.c.value).where(m.counters.c.name == "seq")
                    ).first()
                    is None
                ):
                    conn.execute(insert(m.counters).values(name="seq", value=0))
        except IntegrityError:
            pass  # another server process seeded it first
        with self.write() as conn:
            head = self._lock_head(conn)
            found = {r[0]: r[1] for r in conn.execute(select(m.meta.c.key, m.meta.c.value))}
            if "central_device_id" not in found:
                prefix = self._free_prefix(conn)
                conn.execute(
                    insert(m.meta),
                    [
                        {"key": "central_device_id", "value": str(uuid.uuid4())},
                        {"key": "central_prefix", "value": prefix},
                    ],
                )
                found = {r[0]: r[1] for r in conn.execute(select(m.meta.c.key, m.meta.c.value))}
            self.central_device_id = found["central_device_id"]
            self.central_prefix = found["central_prefix"]
            if "closures_seeded" not in found:
                for c in self.config.closures:
                    cid = seed_closure_id(c.start, c.end, c.name)
                    if conn.execute(select(m.closures.c.id).where(m.closures.c.id == cid)).first():
                        continue
                    head += 1
                    conn.execute(
                        insert(m.closures).values(
                            id=cid,
                            start_day=c.start,
                            end_day=c.end,
                            name=c.name,
                            name_ar=c.name_ar,
                            estimated=c.estimated,
                            deleted=False,
                            updated_at=SEED_TIME,
                            seq=head,
                            updated_by=CENTRAL,
                        )
                    )
                conn.execute(
                    insert(m.meta).values(key="closures_seeded", value=iso(self.clock.now()))
                )
            head = self._sync_roster(conn, head)
            self._set_head(conn, head)

    def _sync_roster(self, conn: Connection, head: int) -> int:
        current = {r.id: r for r in conn.execute(select(m.roster))}
        want = {r.id: r for r in self.config.roster}
        for rid, role in want.items():
            values = {
                "title": role.title,
                "title_ar": role.title_ar,
                "responsibility": role.responsibility,
                "contact": role.contact,
                "deleted": False,
            }
            row = current.get(rid)
            if row is not None and all(getattr(row, k) == v for k, v in values.items()):
                continue
            head += 1
            if row is None:
                conn.execute(insert(m.roster).values(id=rid, seq=head, **values))
            else:
                conn.execute(
                    update(m.roster).where(m.roster.c.id == rid).values(seq=head, **values)
                )
        for rid, row in current.items():
            if rid not in want and not row.deleted:
                head += 1
                conn.execute(
                    update(m.roster).where(m.roster.c.id == rid).values(deleted=True, seq=head)
                )
        return head

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        if self.is_sqlite:
            engine = self.engine.execution_options(central_read=True)
        else:  # one snapshot for the whole page
            engine = self.engine.execution_options(isolation_level="REPEATABLE READ")
        with engine.connect() as conn, conn.begin():
            yield conn

    def _lock_head(self, conn: Connection) -> int:
        return int(
            conn.execute(
                select(m.counters.c.value).where(m.counters.c.name == "seq").with_for_update()
            ).scalar_one()
        )

    def _set_head(self, conn: Connection, value: int) -> None:
        conn.execute(update(m.counters).where(m.counters.c.name == "seq").values(value=value))

    def head(self) -> int:
        with self.read() as conn:
            return int(
                conn.execute(
                    select(m.counters.c.value).where(m.counters.c.name == "seq")
                ).scalar_one()
            )

    # ------------------------------------------------------------------ devices

    def _free_prefix(self, conn: Connection) -> str:
        used = set(conn.execute(select(m.devices.c.ref_prefix)).scalars())
        central = conn.execute(
            select(m.meta.c.value).where(m.meta.c.key == "central_prefix")
        ).scalar_one_or_none()
        used.add(central)
        for _ in range(10_000):
            prefix = "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_PREFIX_LEN))
            if prefix not in used:
                return prefix
        raise StoreError("no_prefix", "no free reference prefix left")

    def add_device(self, name: str, halls: Sequence[str]) -> tuple[Device, str]:
        """Register a hall laptop. Returns the device and its token (shown once, stored hashed)."""
        halls = tuple(dict.fromkeys(h.strip() for h in halls if h.strip()))
        if not halls:
            raise StoreError("no_hall", "a device needs at least one hall")
        known = {h.code for h in self.config.halls}
        unknown = [h for h in halls if h not in known]
        if unknown:
            raise StoreError(
                "unknown_hall",
                f"unknown hall {unknown[0]!r}; known: {', '.join(sorted(known))}",
            )
        token = new_token()
        with self.write() as conn:
            device_row = {
                "id": str(uuid.uuid4()),
                "name": name.strip() or f"laptop {', '.join(halls)}",
                "halls": ",".join(halls),
                "token_hash": hash_token(token),
                "ref_prefix": self._free_prefix(conn),
                "device_id": None,
                "created_at": self.clock.now(),
                "revoked": False,
            }
            conn.execute(insert(m.devices).values(**device_row))
        device = Device(
            id=device_row["id"],
            name=device_row["name"],
            halls=halls,
            ref_prefix=device_row["ref_prefix"],
            device_id=None,
        )
        return device, token

    def devices(self) -> list[Device]:
        with self.read() as conn:
            return [
                _device(r) for r in conn.execute(select(m.devices).order_by(m.devices.c.created_at))
            ]

    def revoke_device(self, device_id: str) -> None:
        with self.write() as conn:
            done = conn.execute(
                update(m.devices).where(m.devices.c.id == device_id).values(revoked=True)
            )
            if done.rowcount == 0:
                raise NotFound("no_device", f"no device {device_id}")

    def authenticate(self, token: str) -> Device | None:
        if not token or len(token) > 512:
            return None
        with self.read() as conn:
            row = conn.execute(
                select(m.devices).where(m.devices.c.token_hash == hash_token(token))
            ).first()
        if row is None or row.revoked:
            return None
        return _device(row)

    def hello(self, device: Device, device_id: str, ref_prefix: str, issued: int) -> dict[str, Any]:
        """Bind the token to the laptop's device id and settle its reference prefix."""
        prefix = ref_prefix.strip().upper()
        if not PREFIX_RE.match(prefix):
            raise StoreError(
                "bad_prefix", f"reference prefix {ref_prefix!r} is not 1-8 letters/digits"
            )
        with self.write() as conn:
            head = self._lock_head(conn)
            row = conn.execute(select(m.devices).where(m.devices.c.id == device.id)).one()
            if row.device_id is not None and row.device_id != device_id:
                raise Conflict(
                    "device_mismatch",
                    "this token belongs to another laptop; ask for a new token for this one",
                )
            other = conn.execute(
                select(m.devices).where(
                    m.devices.c.device_id == device_id, m.devices.c.id != row.id
                )
            ).first()
            if other is not None:
                if not other.revoked:
                    raise Conflict(
                        "device_registered_elsewhere",
                        "this laptop is registered under another token; revoke that one first",
                    )
                conn.execute(
                    update(m.devices).where(m.devices.c.id == other.id).values(device_id=None)
                )
            taken = prefix == self.central_prefix or (
                conn.execute(
                    select(m.devices.c.id).where(
                        m.devices.c.ref_prefix == prefix, m.devices.c.id != row.id
                    )
                ).first()
                is not None
            )
            if not taken:
                chosen = prefix
            elif issued == 0:
                chosen = row.ref_prefix or self._free_prefix(conn)
            else:
                raise Conflict(
                    "prefix_taken",
                    f"reference prefix {prefix} is used by another device and this laptop has "
                    "already numbered tickets with it",
                )
            values: dict[str, Any] = {"device_id": device_id, "ref_prefix": chosen}
            if row.bound_at is None:
                values["bound_at"] = self.clock.now()
            conn.execute(update(m.devices).where(m.devices.c.id == row.id).values(**values))
        return {
            "server_time": self.clock.now(),
            "device_name": row.name,
            "halls": list(device.halls),
            "ref_prefix": chosen,
            "head": head,
        }

    # ------------------------------------------------------------------ push

    def push(
        self,
        device: Device,
        events: Sequence[Mapping[str, Any]],
        sessions: Sequence[Mapping[str, Any]] = (),
        closures: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """Insert-or-ignore each event by id and sequence it, in one transaction; merge rows
        last-writer-wins. Answers per item; the whole batch commits or nothing does."""
        if device.device_id is None or device.ref_prefix is None:
            raise Conflict("not_bound", "call /sync/hello first")
        now = self.clock.now()
        with self.write() as conn:
            head = self._lock_head(conn)
            row = conn.execute(select(m.devices).where(m.devices.c.id == device.id)).one()
            device = _device(row)  # the binding as of this transaction
            ids = list(dict.fromkeys(str(e["id"]) for e in events))
            existing: dict[str, dict[str, Any]] = {}
            for chunk in _chunks(ids):
                for r in conn.execute(select(m.events).where(m.events.c.id.in_(chunk))):
                    existing[r.id] = event_row_to_wire(r)
            ticket_ids = list(dict.fromkeys(str(e["ticket_id"]) for e in events))
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
            for chunk in _chunks(list(dict.fromkeys(refs))):
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
                    if not _safe_same(stored, wire):
                        result["canonical"] = stored
                    results.append(result)
                    continue
                reason, hall = self._check_event(wire, device, known, used_refs)
                if reason:
                    results.append({"id": eid, "status": "rejected", "reason": reason})
                    continue
                head += 1
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
                results.append({"id": eid, "status": "applied", "seq": head})
            if new_rows:
                conn.execute(insert(m.events), new_rows)
            self._project(conn, affected, prior_max)
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
        if not isinstance(payload, dict):
            return "bad_payload: not an object", ""
        try:
            size = len(json.dumps(payload, ensure_ascii=False).encode())
        except (TypeError, ValueError):
            return "bad_payload: not JSON", ""
        if size > MAX_PAYLOAD_BYTES:
            return f"payload_too_large: {size} bytes (limit {MAX_PAYLOAD_BYTES})", ""
        ticket_id = str(wire.get("ticket_id"))
        if kind != "created":
            hall = known.get(ticket_id)
            if hall is None or hall not in device.halls:
                # Same answer for "no such ticket" and "another hall's ticket": no probing.
                return "unknown_ticket: the server has no such ticket in this device's halls", ""
            return "", hall
        if ticket_id in known:
            return "ticket_exists: a second 'created' event for this ticket", ""
        problem = _created_payload_problem(payload)
        if problem:
            return f"bad_payload: {problem}", ""
        hall = payload["hall_code"]
        if hall not in device.halls:
            return f"forbidden_hall: this device may not file tickets for hall {hall[:40]}", ""
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
            result, head = self._merge_session(conn, device.id, device.halls, wire, head)
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

    # ------------------------------------------------------------------ pull

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
            ev_rows = list(
                conn.execute(
                    select(m.events)
                    .where(
                        m.events.c.seq > window[0],
                        m.events.c.seq <= window[1],
                        m.events.c.hall_code.in_(device.halls),
                    )
                    .order_by(m.events.c.seq)
                    .limit(limit)
                )
            )
            session_q = select(m.sessions).where(
                m.sessions.c.seq > window[0], m.sessions.c.seq <= window[1]
            )
            if self.config.sessions_scope == "hall":  # else every course adds working time
                session_q = session_q.where(m.sessions.c.hall_code.in_(device.halls))
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
        merged = sorted(
            [(r.seq, "events", r) for r in ev_rows]
            + [(r.seq, "sessions", r) for r in se_rows]
            + [(r.seq, "closures", r) for r in cl_rows]
            + [(r.seq, "roster", r) for r in ro_rows]
            + [(r.seq, "kb", r) for r in kb_rows],
            key=lambda item: item[0],
        )
        # More to come if any table filled its page, or the tables together overfill it.
        truncated = len(merged) > limit or any(
            len(rows) >= limit for rows in (ev_rows, se_rows, cl_rows, ro_rows, kb_rows)
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
        }
        convert = {
            "events": event_row_to_wire,
            "sessions": session_row_to_wire,
            "closures": closure_row_to_wire,
            "roster": roster_row_to_wire,
            "kb": kb_row_to_wire,
        }
        for _seq, table, row in merged:
            page[table].append(convert[table](row))
        return {
            "server_time": self.clock.now(),
            "cursor": cursor,
            "has_more": truncated,
            "head": head,
            **page,
        }

    # ------------------------------------------------------------------ central edits

    def _next_hlc(self, conn: Connection) -> str:
        last = conn.execute(select(func.max(m.events.c.hlc))).scalar()
        last_hlc = HLC.decode(last) if last else HLC(0, 0)
        return tick(last_hlc, int(self.clock.now().timestamp() * 1000)).encode()

    def _central_event(
        self,
        conn: Connection,
        ticket_id: str,
        hall: str,
        kind: str,
        payload: dict[str, Any],
        actor: str,
        seq: int,
        event_id: str | None = None,
    ) -> TicketEvent:
        model = TicketEvent(
            id=event_id or str(uuid.uuid4()),
            ticket_id=ticket_id,
            kind=kind,
            payload=json.dumps(payload, ensure_ascii=False),
            device_id=self.central_device_id,
            actor=actor,
            occurred_at=self.clock.now(),
            hlc=self._next_hlc(conn),
            server_seq=seq,
        )
        conn.execute(
            insert(m.events).values(
                id=model.id,
                seq=seq,
                ticket_id=ticket_id,
                hall_code=hall,
                kind=kind,
                payload=model.payload,
                device_id=model.device_id,
                actor=actor,
                occurred_at=model.occurred_at,
                hlc=model.hlc,
                received_at=model.occurred_at,
                pushed_by=CENTRAL,
            )
        )
        return model

    def _session_label(self, conn: Connection, session_id: str | None) -> str:
        """The course name, so the hall laptop shows which course a web-form ticket came from."""
        if not session_id:
            return ""
        row = conn.execute(select(m.sessions.c.course).where(m.sessions.c.id == session_id)).first()
        return str(row[0]) if row else ""

    def create_ticket(self, draft: TicketDraft, actor: str = "contact-centre") -> Ticket:
        """A ticket filed centrally (contact centre, web form): numbered with the server's
        own prefix, so it never collides with a laptop's references."""
        draft = validate_draft(draft, self.config)
        with self.write() as conn:
            head = self._lock_head(conn) + 1
            seq = (
                conn.execute(
                    select(func.max(m.tickets.c.device_seq)).where(
                        m.tickets.c.origin_device == self.central_device_id
                    )
                ).scalar()
                or 0
            ) + 1
            payload = {
                "ref": f"{self.central_prefix}-{seq}",
                "device_seq": seq,
                "hall_code": draft.hall_code,
                "session_id": draft.session_id,
                "session_label": self._session_label(conn, draft.session_id),
                "title": draft.title,
                "seat": draft.seat,
                "trainee_name": draft.trainee_name,
                "trainee_contact": draft.trainee_contact,
                "category": draft.category,
                "priority": draft.priority,
                "channel": draft.channel,
                "caller_number": draft.caller_number,
                "remote_session_id": draft.remote_session_id,
            }
            ticket_id = str(uuid.uuid4())
            assert draft.hall_code is not None
            model = self._central_event(
                conn, ticket_id, draft.hall_code, "created", payload, actor, head
            )
            ticket = ticket_from_created(model)
            conn.execute(insert(m.tickets).values(**ticket.model_dump()))
            self._set_head(conn, head)
        return ticket

    def act(self, ref: str, kind: str, payload: dict[str, Any], actor: str = "level2") -> Ticket:
        """A change made centrally (Level 2 verifies, the contact centre adds a note...).
        Checked against the current projection like `TicketDesk` does; raises
        InvalidTransition before anything is written."""
        if kind not in EVENT_KINDS or kind == "created":
            raise InvalidTransition("error.bad_event", kind=kind)
        with self.write() as conn:
            row = conn.execute(
                select(m.tickets).where((m.tickets.c.ref == ref) | (m.tickets.c.id == ref))
            ).first()
            if row is None:
                raise TicketNotFound("error.not_found", ref=ref)
            ticket = Ticket(**dict(row._mapping))
            head = self._lock_head(conn) + 1
            model = self._central_event(
                conn, ticket.id, ticket.hall_code, kind, payload, actor, head
            )
            apply_event(ticket, model)  # raises: the transaction rolls back
            conn.execute(
                update(m.tickets).where(m.tickets.c.id == ticket.id).values(**ticket.model_dump())
            )
            self._set_head(conn, head)
        return ticket

    def put_session(self, wire: Mapping[str, Any]) -> dict[str, Any]:
        """A course session added or edited centrally (last writer wins, like a push)."""
        with self.write() as conn:
            head = self._lock_head(conn)
            result, head = self._merge_session(conn, CENTRAL, None, wire, head)
            self._set_head(conn, head)
        self._calendars.clear()
        return result

    def put_closure(self, wire: Mapping[str, Any]) -> dict[str, Any]:
        with self.write() as conn:
            head = self._lock_head(conn)
            result, head = self._merge_closure(conn, CENTRAL, wire, head)
            self._set_head(conn, head)
        self._calendars.clear()
        return result

    # ------------------------------------------------------------------ reads

    def ticket(self, ref_or_id: str) -> Ticket:
        with self.read() as conn:
            row = conn.execute(
                select(m.tickets).where(
                    (m.tickets.c.ref == ref_or_id) | (m.tickets.c.id == ref_or_id)
                )
            ).first()
        if row is None:
            raise TicketNotFound("error.not_found", ref=ref_or_id)
        return Ticket(**dict(row._mapping))

    def tickets(self, hall: str | None = None) -> list[Ticket]:
        q = select(m.tickets).order_by(m.tickets.c.created_at, m.tickets.c.id)
        if hall is not None:
            q = q.where(m.tickets.c.hall_code == hall)
        with self.read() as conn:
            return [Ticket(**dict(r._mapping)) for r in conn.execute(q)]

    def events(self, ticket_id: str | None = None) -> list[dict[str, Any]]:
        q = select(m.events).order_by(m.events.c.seq)
        if ticket_id is not None:
            q = q.where(m.events.c.ticket_id == ticket_id)
        with self.read() as conn:
            return [event_row_to_wire(r) for r in conn.execute(q)]

    def session_rows(self) -> list[dict[str, Any]]:
        with self.read() as conn:
            return [
                session_row_to_wire(r)
                for r in conn.execute(select(m.sessions).order_by(m.sessions.c.id))
            ]

    def closure_rows(self) -> list[dict[str, Any]]:
        with self.read() as conn:
            return [
                closure_row_to_wire(r)
                for r in conn.execute(select(m.closures).order_by(m.closures.c.id))
            ]

    # ------------------------------------------------------------------ SLA

    def calendar(self, hall: str | None = None) -> BusinessCalendar:
        with self.read() as conn:
            version = (
                int(
                    conn.execute(select(func.coalesce(func.max(m.sessions.c.seq), 0))).scalar_one()
                ),
                int(
                    conn.execute(select(func.coalesce(func.max(m.closures.c.seq), 0))).scalar_one()
                ),
            )
            if version != self._calendar_version:
                self._calendars.clear()
                self._calendar_version = version
            key = hall if self.config.sessions_scope == "hall" and hall else "*"
            cal = self._calendars.get(key)
            if cal is not None:
                return cal
            q = select(m.sessions).where(m.sessions.c.deleted.is_(False))
            if key != "*":
                q = q.where(m.sessions.c.hall_code == key)
            windows = [
                SessionWindow(r.starts_at, r.ends_at, r.course, r.hall_code)
                for r in conn.execute(q)
            ]
            closed = [
                Closure(
                    date.fromisoformat(r.start_day),
                    date.fromisoformat(r.end_day),
                    r.name,
                    r.estimated,
                )
                for r in conn.execute(select(m.closures).where(m.closures.c.deleted.is_(False)))
            ]
        cal = BusinessCalendar.from_config(self.config, windows, closed)
        self._calendars[key] = cal
        return cal

    def run_sla(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """The same SLA rules as the laptop's monitor, on the central projection: warnings,
        breaches and escalations with the same deterministic ids, so a ticket escalates while
        its hall's laptop is offline and the two machines' events are one event."""
        now = now or self.clock.now()
        with self.read() as conn:
            rows = list(conn.execute(select(m.tickets).where(m.tickets.c.is_open.is_(True))))
        plans: list[tuple[str, list[Any]]] = []
        for t in rows:
            cal = self.calendar(t.hall_code)
            clocks = ticket_clocks(
                cal,
                self.policy,
                created_at=t.created_at,
                priority=t.priority,
                channel=t.channel,
                first_response_at=t.first_response_at,
                resolved_at=t.resolved_at,
                pauses=pause_spans(t),
                now=now,
            )
            planned = planned_sla_events(
                cal,
                self.config.escalation,
                clocks,
                ticket_id=t.id,
                warned={x for x in t.warned.split(",") if x},
                breached={x for x in t.breached.split(",") if x},
                escalation_level=t.escalation_level,
                now=now,
            )
            if planned:
                plans.append((t.id, planned))
        recorded: list[dict[str, Any]] = []
        if not plans:
            return recorded
        with self.write() as conn:
            head = self._lock_head(conn)
            for ticket_id, planned in plans:
                row = conn.execute(select(m.tickets).where(m.tickets.c.id == ticket_id)).first()
                if row is None:
                    continue
                ticket = Ticket(**dict(row._mapping))
                changed = False
                for plan in planned:
                    if conn.execute(select(m.events.c.id).where(m.events.c.id == plan.id)).first():
                        continue  # a laptop (or an earlier run) recorded it
                    probe = Ticket(**ticket.model_dump())
                    candidate = TicketEvent(
                        id=plan.id,
                        ticket_id=ticket_id,
                        kind=plan.kind,
                        payload=json.dumps(plan.payload, ensure_ascii=False),
                        device_id=self.central_device_id,
                        actor="central-sla",
                        occurred_at=now,
                        hlc=self._next_hlc(conn),
                    )
                    try:
                        apply_event(probe, candidate)
                    except InvalidTransition:
                        continue
                    head += 1
                    model = self._central_event(
                        conn,
                        ticket_id,
                        ticket.hall_code,
                        plan.kind,
                        dict(plan.payload),
                        "central-sla",
                        head,
                        event_id=plan.id,
                    )
                    apply_event(ticket, model)
                    changed = True
                    recorded.append({"ref": ticket.ref, "kind": plan.kind, "id": plan.id})
                if changed:
                    conn.execute(
                        update(m.tickets)
                        .where(m.tickets.c.id == ticket_id)
                        .values(**ticket.model_dump())
                    )
            self._set_head(conn, head)
        return recorded


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
