"""A laptop whose clock is hours off: its tickets still carry the true time on the laptop, on the
central server, on the status page and on the other desks, and their SLA deadlines agree.

The central server runs on the test's fixed clock (the true time); the skewed laptop's system
clock is that plus or minus three hours. Its steady clock follows the true one (a steady clock
is never set, so it only counts elapsed time).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_proxy import FaultyProxy
from postgres_support import ENGINES
from sqlmodel import select
from sync_support import (
    Central,
    LiveServer,
    SwappableApp,
    assert_converged,
    assert_projection_is_fold,
    connect,
    laptop_config,
    unacked,
)

from classroom_support.central.app import CentralSettings, create_app
from classroom_support.central.store import CentralStore
from classroom_support.central.web.common import local_time
from classroom_support.cli import main
from classroom_support.clock import (
    CLOCK_ANCHOR_KEY,
    DEVICE_TIME_KEY,
    ClockAnchor,
    CorrectedClock,
    FixedClock,
    SystemClock,
)
from classroom_support.config import load_config
from classroom_support.context import AppContext, open_context
from classroom_support.models import MetaEntry, Ticket, TicketEvent
from classroom_support.tickets import TicketDraft

HOURS_3 = timedelta(hours=3)


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The server's side of clocks is checked on SQLite and PostgreSQL."""
    return str(request.param)


SKEWS = [pytest.param(HOURS_3, id="ahead-3h"), pytest.param(-HOURS_3, id="behind-3h")]


class SkewedClock:
    """A laptop's system clock: the true time plus `offset` (which someone may set later)."""

    def __init__(self, true: FixedClock, offset: timedelta) -> None:
        self.true = true
        self.offset = offset

    def now(self) -> datetime:
        return self.true.now() + self.offset


@pytest.fixture
def open_laptop(tmp_path: Path) -> Iterator[Callable[..., AppContext]]:
    opened: list[AppContext] = []

    def factory(name: str, clock: Any, hall: str = "A101") -> AppContext:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        config = folder / "config.toml"
        config.write_text(laptop_config(hall), encoding="utf-8")
        ctx = open_context(config, folder / "db.sqlite3", clock=clock)
        opened.append(ctx)
        return ctx

    yield factory
    for ctx in opened:
        ctx.close()


def skewed_clock(true: FixedClock, offset: timedelta, boot: str = "boot-1") -> CorrectedClock:
    return CorrectedClock(
        SkewedClock(true, offset), steady=lambda: true.now().timestamp(), boot_id=boot
    )


def created_event(ctx: AppContext, ticket_id: str) -> TicketEvent:
    with ctx.db.read() as s:
        event = s.exec(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "created"
            )
        ).one()
    return event


def laptop_ticket(ctx: AppContext, ticket_id: str) -> Ticket:
    with ctx.db.read() as s:
        ticket = s.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket


def status_times(central: Central, ticket_id: str) -> tuple[list[str], str]:
    """The `<time datetime>` stamps of the status page's history, and its first-response due."""
    page = httpx.get(f"{central.url}/status/{ticket_id}", params={"lang": "en"}, timeout=10)
    assert page.status_code == 200
    history = re.search(r'<ol class="history" id="history">(.*?)</ol>', page.text, re.S)
    assert history is not None
    due = re.search(r'<dd id="due">.*?<time datetime="([^"]+)"', page.text, re.S)
    assert due is not None
    return re.findall(r'<time datetime="([^"]+)"', history.group(1)), due.group(1)


@pytest.mark.parametrize("skew", SKEWS)
def test_a_skewed_laptop_files_tickets_at_the_true_time(
    central: Central,
    clock: FixedClock,
    open_laptop: Callable[..., AppContext],
    skew: timedelta,
) -> None:
    laptop = open_laptop("skewed", skewed_clock(clock, skew))
    other = open_laptop("other", clock)
    client = connect(laptop, central.url, central.add_device("A101"))
    other_client = connect(other, central.url, central.add_device("A101"))
    first = client.sync()
    assert first.outcome == "ok"
    assert first.skew_ms == -int(skew.total_seconds() * 1000)  # server minus laptop
    assert laptop.clock.now() == clock.now()  # corrected from here on

    clock.advance(timedelta(minutes=7))
    true_created = clock.now()
    ticket = laptop.desk.create(TicketDraft(title="Projector flickers"))
    assert ticket.created_at == true_created
    event = created_event(laptop, ticket.id)
    assert json.loads(event.payload)[DEVICE_TIME_KEY] == (true_created + skew).isoformat()
    assert event.hlc.startswith(f"{int(true_created.timestamp() * 1000):013d}-")

    clock.advance(timedelta(minutes=2))
    assert client.sync().outcome == "ok"
    assert other_client.sync().outcome == "ok"
    on_server = central.store.ticket(ticket.id)
    mine, theirs = laptop_ticket(laptop, ticket.id), laptop_ticket(other, ticket.id)
    assert on_server.created_at == mine.created_at == theirs.created_at == true_created

    # SLA deadlines: the same first-response due on both desks and on the status page.
    due_here = laptop.sla.clocks(mine).first_response.due
    due_there = other.sla.clocks(theirs).first_response.due
    assert due_here is not None and due_here == due_there
    history, due_page = status_times(central, ticket.id)
    config = central.store.config
    assert history == [local_time(true_created, "en", config).iso]
    assert due_page == local_time(due_here, "en", config).iso
    assert_converged(central.store, [laptop, other], {"A101"})


@pytest.mark.parametrize("skew", SKEWS)
def test_events_recorded_before_the_first_sync_are_shifted_by_the_server(
    central: Central,
    clock: FixedClock,
    open_laptop: Callable[..., AppContext],
    skew: timedelta,
) -> None:
    """The laptop did not know its offset yet: the server measures it from `X-Client-Time`,
    shifts the times, keeps the originals, and the laptop takes the server's copy."""
    laptop = open_laptop("skewed", skewed_clock(clock, skew))
    other = open_laptop("other", clock)
    true_created = clock.now()
    ticket = laptop.desk.create(TicketDraft(title="No sound"))
    assert ticket.created_at == true_created + skew  # what the laptop believed then
    clock.advance(timedelta(minutes=20))
    client = connect(laptop, central.url, central.add_device("A101"))
    report = client.sync()
    assert report.outcome == "ok" and report.pushed >= 1
    assert unacked(laptop) == 0

    on_server = central.store.ticket(ticket.id)
    assert on_server.created_at == true_created
    stored = next(e for e in central.store.events(ticket.id) if e["kind"] == "created")
    assert stored["payload"]["device_occurred_at"] == (true_created + skew).isoformat()
    assert laptop_ticket(laptop, ticket.id).created_at == true_created  # took the server's copy
    assert_projection_is_fold(laptop)

    connect(other, central.url, central.add_device("A101")).sync()
    assert laptop_ticket(other, ticket.id).created_at == true_created
    # Nothing moves any more: both laptops hold exactly the server's events.
    again = client.sync()
    assert (again.pushed, again.pulled, again.duplicates) == (0, 0, 0)
    assert_converged(central.store, [laptop, other], {"A101"})


def test_the_server_clamps_times_in_its_future(
    central: Central, clock: FixedClock, open_laptop: Callable[..., AppContext]
) -> None:
    """A laptop that claims to be corrected but stamps the future (a bad measurement): the
    server stores its own receive time, keeps the original, and the laptop follows."""
    correct = CorrectedClock(clock, steady=lambda: clock.now().timestamp(), boot_id="boot-1")
    laptop = open_laptop("ahead", correct)
    client = connect(laptop, central.url, central.add_device("A101"))
    assert client.sync().outcome == "ok"
    future = clock.now() + timedelta(hours=2)
    correct.anchor = ClockAnchor(
        server_at=future,
        steady=clock.now().timestamp(),
        boot_id="boot-1",
        skew_ms=7_200_000,
        error_ms=0,
    )
    ticket = laptop.desk.create(TicketDraft(title="Keyboard missing"))
    assert ticket.created_at == future
    assert client.sync().outcome == "ok"
    assert central.store.ticket(ticket.id).created_at == clock.now()
    stored = next(e for e in central.store.events(ticket.id) if e["kind"] == "created")
    assert stored["payload"]["device_occurred_at"] == future.isoformat()
    assert stored["hlc"] <= f"{int(clock.now().timestamp() * 1000):013d}-99999"
    assert laptop_ticket(laptop, ticket.id).created_at == clock.now()
    assert_converged(central.store, [laptop], {"A101"})


def test_a_clock_set_after_the_sync_does_not_undo_the_correction(
    central: Central, clock: FixedClock, open_laptop: Callable[..., AppContext]
) -> None:
    system = SkewedClock(clock, HOURS_3)
    corrected = CorrectedClock(system, steady=lambda: clock.now().timestamp(), boot_id="boot-1")
    laptop = open_laptop("skewed", corrected)
    client = connect(laptop, central.url, central.add_device("A101"))
    assert client.sync().outcome == "ok"
    system.offset = timedelta(0)  # someone sets the clock right while offline
    clock.advance(timedelta(minutes=30))
    assert laptop.clock.now() == clock.now()
    with laptop.db.read() as s:
        stored = s.get(MetaEntry, CLOCK_ANCHOR_KEY)
    assert stored is not None
    # Another process of the same boot (the CLI) starts corrected from the stored anchor ...
    again = CorrectedClock(SkewedClock(clock, HOURS_3), boot_id="boot-1")
    again.steady = lambda: clock.now().timestamp()
    assert again.use(ClockAnchor.from_json(stored.value))
    assert again.now() == clock.now()
    # ... but after a reboot the steady clock says nothing: the system clock stands until the
    # next sync (and the server shifts what was recorded meanwhile).
    rebooted = CorrectedClock(SkewedClock(clock, HOURS_3), boot_id="boot-2")
    assert not rebooted.use(ClockAnchor.from_json(stored.value))
    assert rebooted.now() == clock.now() + HOURS_3
    # Within the threshold nothing is corrected at all.
    small = ClockAnchor(
        server_at=clock.now(), steady=0.0, boot_id="boot-1", skew_ms=1500, error_ms=3
    )
    assert not corrected.use(small) and corrected.now() == clock.now()


def test_a_busy_server_is_retried_on_the_corrected_clock(
    central: Central,
    clock: FixedClock,
    open_laptop: Callable[..., AppContext],
    proxy: FaultyProxy,
) -> None:
    """The first answer corrects the clock; the retry time of the same run is on the corrected
    clock too, so a laptop three hours fast does not wait three hours to try again."""
    laptop = open_laptop("skewed", skewed_clock(clock, HOURS_3))
    client = connect(laptop, proxy.url, central.add_device("A101"))
    proxy.plan("", "503", "503", "503", "503")  # hello answers, then the pull is refused
    report = client.sync()
    assert report.outcome == "busy"
    assert laptop.clock.now() == clock.now()
    state = client.state()
    assert state.next_attempt_at is not None and report.retry_at is not None
    assert clock.now() < state.next_attempt_at <= clock.now() + timedelta(minutes=16)
    assert client.sync(manual=False).outcome == "waiting"
    clock.advance(timedelta(minutes=16))
    assert client.sync(manual=False).outcome == "ok"


def test_sync_reports_a_skewed_clock_on_stderr(
    capsys: pytest.CaptureFixture[str], central: Central, tmp_path: Path
) -> None:
    """The CLI runs on the real system clock; the test server's clock is fixed in the past,
    so this laptop is days ahead of it."""
    folder = tmp_path / "cli"
    folder.mkdir()
    (folder / "config.toml").write_text(laptop_config(), encoding="utf-8")
    paths = ["--db", str(folder / "db.sqlite3"), "--config", str(folder / "config.toml")]
    token_file = tmp_path / "token"
    token_file.write_text(central.add_device("A101"))
    assert main(["connect", central.url, "--token-file", str(token_file), *paths]) == 0
    capsys.readouterr()
    assert main(["sync", "--json", *paths]) == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert data["skew_ms"] < -3_600_000
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "ahead of the central server" in lines[0]
    assert main(["sync", *paths]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("ok:") and "ahead of the central server" in out.err
    # The laptop's times are corrected: a ticket filed now is stamped at the server's time.
    assert main(["tickets", "add", "--title", "Cable", "--json", *paths]) == 0
    made = json.loads(capsys.readouterr().out)
    created = datetime.fromisoformat(made["created_at"])
    assert abs(created - central.store.clock.now()) < timedelta(minutes=5)


# --------------------------------------------------------------------------- under faketime

FAKETIME = shutil.which("faketime")


@pytest.fixture
def real_time_central(
    live_server: tuple[LiveServer, SwappableApp], central_db_url: str
) -> Iterator[Central]:
    """The central server on the real system clock (the laptop runs under faketime)."""
    server, swappable = live_server
    store = CentralStore.open(central_db_url, load_config(None), SystemClock())
    app = create_app(CentralSettings(store=store, clock=SystemClock(), sla_interval=0))
    swappable.app = app
    yield Central(store=store, url=server.url, app=app)
    swappable.app = None
    store.close()


@pytest.mark.skipif(FAKETIME is None, reason="faketime is not installed (apt-get install faketime)")
def test_cli_under_faketime_three_hours_slow(real_time_central: Central, tmp_path: Path) -> None:
    """`tickets add` and `sync` as real processes on a system clock three hours slow: the
    server stores the true times, both for a ticket filed before the first sync (shifted by the
    server) and for one filed after it (corrected by the laptop)."""
    central = real_time_central
    folder = tmp_path / "faked"
    folder.mkdir()
    (folder / "config.toml").write_text(laptop_config(), encoding="utf-8")
    paths = ["--db", str(folder / "db.sqlite3"), "--config", str(folder / "config.toml")]
    token_file = tmp_path / "token"
    token_file.write_text(central.add_device("A101"))
    env = {**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1", "PYTHONUTF8": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        assert FAKETIME is not None
        done = subprocess.run(
            [FAKETIME, "-f", "-3h", sys.executable, "-m", "classroom_support.cli", *args, *paths],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        return done

    def add(title: str) -> tuple[str, datetime, datetime, datetime]:
        before = datetime.now(UTC)
        made = json.loads(cli("tickets", "add", "--title", title, "--json").stdout)
        after = datetime.now(UTC)
        return made["id"], datetime.fromisoformat(made["created_at"]), before, after

    early_id, early_local, before1, after1 = add("Filed before the first sync")
    assert early_local < before1 - timedelta(hours=2)  # the laptop's clock really is slow
    cli("connect", central.url, "--token-file", str(token_file), "--no-check")
    synced = cli("sync")
    assert "behind the central server" in synced.stderr
    late_id, late_local, before2, after2 = add("Filed after a sync")
    assert before2 - timedelta(seconds=5) <= late_local <= after2 + timedelta(seconds=5)
    cli("sync")
    margin = timedelta(seconds=5)  # the measurement's error is half a round trip on loopback
    early = central.store.ticket(early_id).created_at
    late = central.store.ticket(late_id).created_at
    assert before1 - margin <= early <= after1 + margin
    assert before2 - margin <= late <= after2 + margin
