"""Sync test support: a real uvicorn server on 127.0.0.1 (ephemeral port) in a thread, a fresh
central store per test, hall laptops with their own databases, and convergence checks.

Loaded as a pytest plugin from tests/conftest.py. The server is started once per session
with a swappable ASGI app, so each test gets its own central database without paying for a
new server; it is shut down at the end of the session.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from central_process import CentralProcess
from fault_proxy import FaultyProxy
from sqlmodel import col, select

from classroom_support.central.app import CentralSettings, create_app
from classroom_support.central.store import CentralStore
from classroom_support.clock import FixedClock
from classroom_support.config import load_config
from classroom_support.context import AppContext
from classroom_support.models import DeviceIdentity, SyncParked, Ticket, TicketEvent
from classroom_support.sync import SyncClient
from classroom_support.tickets import fold

START_TIMEOUT = 10.0


class SwappableApp:
    """An ASGI app whose target can be replaced between tests."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # the per-test apps run no lifespan jobs
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert self.app is not None, "no central app installed for this test"
        await self.app(scope, receive, send)


class LiveServer:
    """uvicorn.Server in a thread on an ephemeral loopback port; waits until it is up."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn")

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=START_TIMEOUT)


@pytest.fixture(scope="session")
def live_server() -> Iterator[tuple[LiveServer, SwappableApp]]:
    swappable = SwappableApp()
    server = LiveServer(swappable)
    server.start()
    yield server, swappable
    server.stop()


@dataclass
class Central:
    store: CentralStore
    url: str
    app: Any

    def add_device(self, *halls: str, name: str = "") -> str:
        _device, token = self.store.add_device(name or f"laptop {'+'.join(halls)}", halls)
        return token


@pytest.fixture
def central(
    live_server: tuple[LiveServer, SwappableApp], central_db_url: str, clock: FixedClock
) -> Iterator[Central]:
    """A fresh central store behind the live server, on SQLite unless the test module runs
    its tests on both engines (see tests/postgres_support.py)."""
    server, swappable = live_server
    store = CentralStore.open(central_db_url, load_config(None), clock)
    app = create_app(CentralSettings(store=store, clock=clock, sla_interval=0))
    swappable.app = app
    yield Central(store=store, url=server.url, app=app)
    swappable.app = None
    store.close()


@pytest.fixture
def proxy(live_server: tuple[LiveServer, SwappableApp]) -> Iterator[FaultyProxy]:
    server, _ = live_server
    with FaultyProxy(server.port) as p:
        yield p


@dataclass
class ServedCentral:
    """A real `central serve` process (with its change feed, so `pull?wait=S` waits) and a
    store on the same database for registering devices."""

    store: CentralStore
    process: CentralProcess

    @property
    def url(self) -> str:
        return self.process.url

    def add_device(self, *halls: str, name: str = "") -> str:
        _device, token = self.store.add_device(name or f"desk {'+'.join(halls)}", halls)
        return token

    def waiting(self) -> int:
        """Pulls the server holds waiting right now (its `central_pull_waiting` gauge)."""
        text = httpx.get(self.url + "/metrics", timeout=5.0).text
        found = re.search(r"^central_pull_waiting(?:\{[^}]*\})? ([0-9.e+-]+)$", text, re.M)
        return int(float(found.group(1))) if found else 0


@pytest.fixture
def served_central(
    central_db_url: str, tmp_path: Path, clock: FixedClock
) -> Iterator[ServedCentral]:
    """`central serve` on a fresh database of the test's engine (SQLite unless the module
    runs on both), stopped after the test; the test fails if the server logged an error."""
    store = CentralStore.open(central_db_url, load_config(None), clock)
    process = CentralProcess(central_db_url, tmp_path / "serve.log")
    try:
        process.start()
        yield ServedCentral(store, process)
        assert process.server_errors() == [], process.tail()
    finally:
        process.stop()
        store.close()


class Sleeps:
    """Records the waits the client asked for instead of sleeping (deterministic, fast)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def pin(ctx: AppContext, device_id: str, prefix: str) -> None:
    with ctx.db.write() as s:
        s.merge(
            DeviceIdentity(id=1, device_id=device_id, ref_prefix=prefix, created_at=ctx.clock.now())
        )
    ctx.desk._device = None


def laptop_config(hall: str = "A101", technician: str = "Sami") -> str:
    return f'[ui]\nlanguage = "en"\n[device]\nhall = "{hall}"\ntechnician = "{technician}"\n'


def make_client(ctx: AppContext, **kwargs: Any) -> SyncClient:
    """A client with test-sized settings: short timeouts, recorded sleeps, seeded jitter."""
    options: dict[str, Any] = {
        "timeout": httpx.Timeout(5.0),
        "sleep": Sleeps(),
        "rng": random.Random(7),
        "attempts": 4,
        "budget": 60.0,
    }

    def device_changed() -> None:
        ctx.desk._device = None

    options["on_device_change"] = device_changed
    options.update(kwargs)
    return SyncClient(ctx.db, ctx.config, ctx.clock, **options)


def connect(ctx: AppContext, url: str, token: str, **kwargs: Any) -> SyncClient:
    client = make_client(ctx, **kwargs)
    client.configure(url, token)
    return client


# --------------------------------------------------------------------------- checks


def laptop_events(ctx: AppContext) -> dict[str, dict[str, Any]]:
    from classroom_support.syncwire import event_to_wire

    with ctx.db.read() as s:
        return {e.id: event_to_wire(e) for e in s.exec(select(TicketEvent)).all()}


def laptop_tickets(ctx: AppContext) -> dict[str, dict[str, Any]]:
    with ctx.db.read() as s:
        return {t.id: t.model_dump() for t in s.exec(select(Ticket)).all()}


def unacked(ctx: AppContext) -> int:
    with ctx.db.read() as s:
        return len(
            s.exec(select(TicketEvent.id).where(col(TicketEvent.server_seq).is_(None))).all()
        )


def parked_ids(ctx: AppContext) -> set[str]:
    with ctx.db.read() as s:
        return set(s.exec(select(SyncParked.item_id)).all())


def assert_projection_is_fold(ctx: AppContext) -> None:
    """Every stored ticket row equals the fold of its events."""
    with ctx.db.read() as s:
        tickets = s.exec(select(Ticket)).all()
        for ticket in tickets:
            events = s.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()
            assert fold(events).model_dump() == ticket.model_dump(), ticket.ref


def server_view(store: CentralStore, halls: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    events = {}
    for e in store.events():
        wire = dict(e)
        wire.pop("seq")
        events[e["id"]] = wire
    tickets = {t.id: t.model_dump() for t in store.tickets() if t.hall_code in halls}
    ticket_ids = set(tickets)
    events = {k: v for k, v in events.items() if v["ticket_id"] in ticket_ids}
    return events, tickets


def normalise(events: dict[str, dict[str, Any]]) -> dict[str, str]:
    from classroom_support.syncwire import event_key

    return {k: json.dumps(event_key(v), default=str) for k, v in events.items()}


def assert_converged(store: CentralStore, laptops: list[AppContext], halls: set[str]) -> None:
    """Same events (same content) and the same ticket rows everywhere; nothing waiting."""
    server_events, server_tickets = server_view(store, halls)
    assert server_tickets, "nothing to compare"
    for ctx in laptops:
        assert unacked(ctx) == 0, "the outbox did not drain"
        mine = laptop_events(ctx)
        assert normalise(mine) == normalise(server_events)
        assert laptop_tickets(ctx) == server_tickets
        assert_projection_is_fold(ctx)


def sync_until_quiet(
    clients: list[SyncClient], rounds: int = 12, before: Callable[[], object] | None = None
) -> None:
    """Sync every laptop until a whole round moves nothing (bounded)."""
    for _ in range(rounds):
        if before is not None:
            before()
        moved = 0
        outcomes = []
        for client in clients:
            report = client.sync()
            outcomes.append(report.outcome)
            moved += report.pushed + report.pulled + report.rows_pushed + report.rows_pulled
            moved += 0 if report.outcome in ("ok", "parked") else 1
        if moved == 0:
            return
    raise AssertionError(f"did not settle in {rounds} rounds: {outcomes}")
