"""A Hypothesis state machine over two laptops and the real central server (through the fault
proxy): laptop edits, central edits, offline periods, kill-and-reopen of a laptop database,
lost responses, double delivery of pushes and pages, SLA runs on both sides.

Invariants after every step: a laptop never loses an event it had, its cursor never goes back,
every stored ticket row is the fold of its events (laptops and server). At the end of every
example the link heals and everything syncs: no loss, no duplicates, the outbox drains, and
every side holds the same events and the same tickets. Bounded: few examples, few steps.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_proxy import FaultyProxy
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from postgres_support import ENGINES
from sqlmodel import col, select
from sync_support import (
    Central,
    LiveServer,
    Sleeps,
    SwappableApp,
    assert_converged,
    assert_projection_is_fold,
    laptop_config,
    laptop_events,
    pin,
    sync_until_quiet,
)

from classroom_support.central.app import CentralSettings, create_app
from classroom_support.central.store import CentralStore
from classroom_support.clock import FixedClock
from classroom_support.config import load_config
from classroom_support.context import open_context
from classroom_support.models import TicketEvent
from classroom_support.sessions import SessionDraft
from classroom_support.sync import SyncClient, SyncReport
from classroom_support.syncwire import event_from_wire, event_to_wire
from classroom_support.tickets import (
    InvalidTransition,
    QueueQuery,
    TicketDraft,
    TicketError,
    fold,
)

FAULTS = ("", "", "", "drop_before", "drop_after", "reset_after", "truncate", "503", "429")
ACTIONS = ("respond", "note", "assign", "pause", "resume", "resolve", "verify", "reopen")
STEPS = 20
START = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)  # a Saturday, 10:30 in Riyadh
EXAMPLES = 10


class Laptop:
    def __init__(self, folder: Path, n: int, clock: FixedClock, url: str, token: str) -> None:
        self.folder = folder
        self.n = n
        self.clock = clock
        self.config = folder / "config.toml"
        self.config.write_text(laptop_config(technician=f"tech{n}"), encoding="utf-8")
        self.db = folder / "db.sqlite3"
        self.ctx = open_context(self.config, self.db, clock=clock)
        pin(self.ctx, f"00000000-0000-4000-8000-{n:012d}", f"LAP{n}")
        self.client = self._client()
        self.client.configure(url, token)
        self.offline = False
        self.cursor = 0
        self.seen: set[str] = set()

    def _client(self) -> SyncClient:
        return SyncClient(
            self.ctx.db,
            self.ctx.config,
            self.clock,
            timeout=httpx.Timeout(5.0),
            sleep=Sleeps(),
            rng=random.Random(self.n),
            attempts=2,
            batch_size=4,
            page_size=5,
            on_device_change=self._device_changed,
        )

    def _device_changed(self) -> None:
        self.ctx.desk._device = None

    def reopen(self) -> None:
        """The process dies and starts again: nothing but the database survives."""
        self.ctx.db.engine.dispose()
        self.ctx = open_context(self.config, self.db, clock=self.clock)
        self.client = self._client()

    def refs(self) -> list[str]:
        page = self.ctx.desk.queue(QueueQuery(statuses=(), limit=1000, sort="ref"))
        return [t.ref for t in page.rows]


def _act(target: Any, action: str, ref: str) -> None:
    getattr(target, action)(ref)


class SyncMachine(RuleBasedStateMachine):
    def __init__(
        self,
        server: LiveServer,
        swappable: SwappableApp,
        proxy: FaultyProxy,
        root: Path,
        central_db: str,
    ) -> None:
        super().__init__()
        self.server = server
        self.swappable = swappable
        self.proxy = proxy
        self.folder = Path(tempfile.mkdtemp(dir=root))
        self.clock = FixedClock(START)
        self.store = CentralStore.open(central_db, load_config(None), self.clock)
        self.swappable.app = create_app(
            CentralSettings(store=self.store, clock=self.clock, sla_interval=0)
        )
        self.central = Central(store=self.store, url=server.url, app=self.swappable.app)
        self.proxy.faults.clear()
        self.proxy.down = False
        self.laptops: list[Laptop] = []
        self.tokens: list[str] = []

    @initialize(seed=st.integers(0, 2**16))
    def two_laptops_with_some_history(self, seed: int) -> None:
        for n in (1, 2):
            folder = self.folder / f"laptop{n}"
            folder.mkdir()
            token = self.central.add_device("A101", name=f"laptop {n}")
            self.tokens.append(token)
            self.laptops.append(Laptop(folder, n, self.clock, self.proxy.url, token))
        # Start from a shared ticket both laptops know, then let each work on its own.
        shared = self.store.create_ticket(TicketDraft(title="shared", hall_code="A101"))
        for laptop in self.laptops:
            assert laptop.client.sync().outcome == "ok"
            assert laptop.ctx.desk.get(shared.ref).title == "shared"
        self.laptop_works_a_while(0, seed)
        self.laptop_works_a_while(1, seed + 1)

    # ------------------------------------------------------------------ laptop side

    @rule(i=st.integers(0, 1), title=st.text(min_size=1, max_size=12))
    def laptop_creates(self, i: int, title: str) -> None:
        if not title.strip():
            title = "untitled"
        self.laptops[i].ctx.desk.create(TicketDraft(title=title))

    @rule(i=st.integers(0, 1), action=st.sampled_from(ACTIONS), pick=st.integers(0, 50))
    def laptop_acts(self, i: int, action: str, pick: int) -> None:
        laptop = self.laptops[i]
        refs = laptop.refs()
        if not refs:
            return
        desk = laptop.ctx.desk
        ref = refs[pick % len(refs)]
        calls: dict[str, Callable[[], object]] = {
            "respond": lambda: desk.respond(ref, "on it"),
            "note": lambda: desk.add_note(ref, "a note"),
            "assign": lambda: desk.assign(ref, f"tech{i}"),
            "pause": lambda: desk.pause(ref),
            "resume": lambda: desk.resume(ref),
            "resolve": lambda: desk.resolve(ref),
            "verify": lambda: desk.verify(ref),
            "reopen": lambda: desk.reopen(ref),
        }
        with contextlib.suppress(InvalidTransition, TicketError):
            calls[action]()

    @rule(i=st.integers(0, 1), seed=st.integers(0, 2**16))
    def laptop_works_a_while(self, i: int, seed: int) -> None:
        """A burst of ordinary work (denser histories than one rule per step gives)."""
        rng = random.Random(seed)
        for _ in range(6):
            self.clock.advance(timedelta(minutes=rng.randint(1, 30)))
            if rng.random() < 0.25 or not self.laptops[i].refs():
                self.laptop_creates(i, f"burst {rng.randint(0, 999)}")
            else:
                self.laptop_acts(i, rng.choice(ACTIONS), rng.randint(0, 50))

    @rule(i=st.integers(0, 1), minutes=st.integers(17 * 60, 19 * 60))
    def laptop_edits_a_session(self, i: int, minutes: int) -> None:
        sessions = self.laptops[i].ctx.sessions
        upcoming = sessions.upcoming(days=30)
        start = f"{minutes // 60:02d}:{minutes % 60:02d}"
        draft = SessionDraft("Course", "Trainer", "2026-12-01", start, "21:00")
        if upcoming and minutes % 3 == 0:
            sessions.delete(upcoming[0].id)
        elif upcoming:
            sessions.update(upcoming[0].id, draft)
        else:
            sessions.add(draft)

    @rule(i=st.integers(0, 1))
    def kill_and_reopen(self, i: int) -> None:
        self.laptops[i].reopen()

    @rule(i=st.integers(0, 1), offline=st.booleans())
    def link(self, i: int, offline: bool) -> None:
        self.laptops[i].offline = offline

    @rule(i=st.integers(0, 1), fault=st.sampled_from(FAULTS))
    def sync(self, i: int, fault: str) -> None:
        laptop = self.laptops[i]
        if laptop.offline:
            self.proxy.down = True
            try:
                report = laptop.client.sync()
            finally:
                self.proxy.down = False
            assert report.outcome == "offline"
            return
        if fault:
            self.proxy.plan(fault)
        report = laptop.client.sync()
        self.proxy.faults.clear()
        assert report.outcome in ("ok", "offline", "busy", "server_error"), report.message

    @rule(i=st.integers(0, 1))
    def push_delivered_twice(self, i: int) -> None:
        """An acknowledged batch arrives again (a retry racing the original): all duplicates."""
        laptop = self.laptops[i]
        with laptop.ctx.db.read() as s:
            acked = s.exec(
                select(TicketEvent)
                .where(col(TicketEvent.server_seq).is_not(None))
                .order_by(col(TicketEvent.server_seq))
                .limit(6)
            ).all()
        if not acked:
            return
        head = self.store.head()
        with httpx.Client(
            base_url=self.server.url + "/api/v1",
            headers={"Authorization": f"Bearer {self.tokens[i]}"},
            timeout=5.0,
        ) as http:
            own = [e for e in acked if e.device_id == laptop.ctx.desk.device.device_id]
            answer = http.post("/sync/push", json={"events": [event_to_wire(e) for e in own]})
        assert answer.status_code == 200
        assert {r["status"] for r in answer.json()["results"]} <= {"duplicate"}
        assert self.store.head() == head

    @rule(i=st.integers(0, 1), back=st.integers(0, 30))
    def page_delivered_twice(self, i: int, back: int) -> None:
        """An old page is applied again (a retried pull): nothing changes, the cursor stays."""
        laptop = self.laptops[i]
        since = max(0, laptop.client.state().cursor - back)
        with httpx.Client(
            base_url=self.server.url + "/api/v1",
            headers={"Authorization": f"Bearer {self.tokens[i]}"},
            timeout=5.0,
        ) as http:
            page = http.get("/sync/pull", params={"since": since, "limit": 5})
        assert page.status_code == 200
        data = page.json()
        before = laptop_events(laptop.ctx)
        if data["cursor"] > laptop.client.state().cursor:
            return  # that would be new data, not a double delivery
        laptop.client._apply_page(data, SyncReport())
        assert laptop_events(laptop.ctx) == before

    # ------------------------------------------------------------------ central side

    @rule(title=st.sampled_from(["Caller: PC 4 dead", "WhatsApp: no Wi-Fi", "Web form"]))
    def centre_files_a_ticket(self, title: str) -> None:
        self.store.create_ticket(TicketDraft(title=title, channel="phone", hall_code="A101"))

    @rule(
        action=st.sampled_from(("responded", "note", "resolved", "verified")),
        pick=st.integers(0, 50),
    )
    def level2_acts(self, action: str, pick: int) -> None:
        tickets = self.store.tickets("A101")
        if not tickets:
            return
        ticket = tickets[pick % len(tickets)]
        payload = {"note": {"text": "Level 2"}}.get(action, {})
        with contextlib.suppress(InvalidTransition):
            self.store.act(ticket.ref, action, payload)

    @rule(hours=st.integers(1, 24 * 8))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    @precondition(lambda self: self.store.tickets("A101"))
    @rule(side=st.sampled_from(("server", "laptop0", "laptop1")))
    def sla_runs(self, side: str) -> None:
        if side == "server":
            self.store.run_sla()
        else:
            self.laptops[int(side[-1])].ctx.sla.run(notify=False)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def nothing_lost_locally_and_the_cursor_never_goes_back(self) -> None:
        for laptop in self.laptops:
            ids = set(laptop_events(laptop.ctx))
            assert laptop.seen <= ids
            laptop.seen = ids
            cursor = laptop.client.state().cursor
            assert cursor >= laptop.cursor
            laptop.cursor = cursor

    @invariant()
    def rows_are_folds(self) -> None:
        for laptop in self.laptops:
            assert_projection_is_fold(laptop.ctx)
        for ticket in self.store.tickets():
            events = [event_from_wire(e) for e in self.store.events(ticket.id)]
            assert fold(events).model_dump() == ticket.model_dump()

    def teardown(self) -> None:
        try:
            if not self.laptops:
                return
            for laptop in self.laptops:
                laptop.offline = False
            self.proxy.faults.clear()
            clients = [laptop.client for laptop in self.laptops]
            sync_until_quiet(clients, rounds=8)
            if self.store.tickets("A101"):
                assert_converged(self.store, [lp.ctx for lp in self.laptops], {"A101"})
            everything = set(e["id"] for e in self.store.events())
            for laptop in self.laptops:
                assert set(laptop_events(laptop.ctx)) <= everything  # nothing lost
                assert laptop.client.status().pending == 0  # the outbox drained
        finally:
            for laptop in self.laptops:
                laptop.ctx.close()
            self.swappable.app = None
            self.store.close()


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server of every example runs on SQLite, then on PostgreSQL."""
    return str(request.param)


def test_sync_state_machine(
    live_server: tuple[LiveServer, SwappableApp],
    proxy: FaultyProxy,
    tmp_path: Path,
    new_central_db: Callable[[], str],
) -> None:
    server, swappable = live_server
    run_state_machine_as_test(
        lambda: SyncMachine(server, swappable, proxy, tmp_path, new_central_db()),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
