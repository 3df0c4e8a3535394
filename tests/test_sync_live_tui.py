"""Live updates in the TUI against a real `central serve` process (Pilot, and tmux for quitting).

- With the periodic sync set to an hour, a ticket filed through the central web form reaches
  the online desk's queue: only the waiting pull can have brought it (the sync log says
  `live`, and the periodic job ran only its start-up run).
- A server (or a proxy before it) that refuses waiting pulls: the desk falls back to the
  periodic sync, which still delivers; once the server waits again, the live wait comes back.
- A ticket made on the desk goes up soon after it is saved, not at the next periodic run.
- Quitting the real app (in tmux) while a wait is open ends it at once.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fault_proxy import FaultyProxy
from postgres_support import ENGINES
from sqlmodel import col, select
from sync_support import ServedCentral, laptop_config, make_client, pin
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from web_form_client import file_by_web_form

from classroom_support.app import ClassroomSupportApp
from classroom_support.context import AppContext
from classroom_support.models import SyncLogEntry
from classroom_support.screens.queue import QueueScreen
from classroom_support.sync import Backoff
from classroom_support.tickets import TicketDraft

SIZE = (120, 36)
PATIENCE_S = 60.0  # generous: the machine is shared; a wake-up takes well under a second
HOUR = 3600.0


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def form(served_central: ServedCentral) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served_central.url, timeout=30.0) as http:
        yield http


def desk_app(
    make_ctx: Callable[..., AppContext], url: str, token: str, *, monitor: bool
) -> ClassroomSupportApp:
    ctx = make_ctx(config=laptop_config(), name="desk")
    pin(ctx, "00000000-0000-4000-8000-0000000000a2", "DESK")
    app = ClassroomSupportApp(ctx, cursor_blink=False, monitor=monitor)
    app.sync_client = make_client(ctx, on_device_change=app._device_changed)
    app.sync_client.configure(url, token)
    app.sync_interval = HOUR  # only the live path can deliver within the test
    return app


def queue_titles(app: ClassroomSupportApp) -> list[str]:
    """The titles of the rows the queue shows (in full: the cells may be cut)."""
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    table = screen.query_one("#queue", DataTable)
    refs = [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]
    return [screen.visible_tickets[ref].title for ref in refs]


class Ceiling(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


async def sync_log_summary(app: ClassroomSupportApp, pilot: Pilot[None]) -> str:
    """The sync log's summary (F6), then back to the queue."""
    await pilot.press("f6")
    await pilot.pause()
    text = str(app.screen.query_one("#sync-summary", Static).render())
    await pilot.press("escape")
    await pilot.pause()
    return text


def syncing(app: ClassroomSupportApp) -> bool:
    return any(w.group == "sync" and w.is_running for w in app.workers)


def log_steps(app: ClassroomSupportApp) -> list[tuple[str, str]]:
    with app.ctx.db.read() as s:
        rows = s.exec(select(SyncLogEntry).order_by(col(SyncLogEntry.id))).all()
        return [(r.step, r.outcome) for r in rows]


async def until(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        await pilot.pause(0.1)


async def until_parked(pilot: Pilot[None], served: ServedCentral, count: int = 1) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while await asyncio.to_thread(served.waiting) < count:
        if time.monotonic() > deadline:
            raise AssertionError("the desk's pull never waited on the server")
        await pilot.pause(0.1)


async def test_a_web_form_ticket_reaches_the_online_queue_without_the_periodic_sync(
    make_ctx: Callable[..., AppContext],
    served_central: ServedCentral,
    form: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = desk_app(make_ctx, served_central.url, served_central.add_device("A101"), monitor=True)
    periodic: list[float] = []
    scheduled = app.scheduled_sync

    def counted() -> None:
        periodic.append(time.monotonic())
        scheduled()

    monkeypatch.setattr(app, "scheduled_sync", counted)  # before the scheduler takes it
    async with app.run_test(size=SIZE) as pilot:
        # The start-up run of the periodic job brings the desk online; the wait opens.
        await until(pilot, lambda: app.live_running(), "the live wait to start")
        await until_parked(pilot, served_central)
        assert len(periodic) == 1
        assert app.scheduler.get_job("sync").trigger.interval.total_seconds() == HOUR
        title = "Projector in A101 shows no picture"
        await asyncio.to_thread(file_by_web_form, form, title)
        await until(pilot, lambda: title in queue_titles(app), "the ticket in the queue")
        assert len(periodic) == 1  # the periodic sync did not run again: the wait brought it
        steps = log_steps(app)
        assert steps.count(("run", "ok")) == 1
        assert steps[-1] == ("live", "ok")
        assert app.live_running()  # and it waits again
        assert str(app.screen.query_one("#header-sync").render()).startswith("● online")


@pytest.mark.parametrize("fault", ["404", "reset"])
async def test_a_server_that_refuses_the_wait_falls_back_to_the_periodic_sync(
    make_ctx: Callable[..., AppContext],
    served_central: ServedCentral,
    form: httpx.Client,
    fault: str,
) -> None:
    with FaultyProxy(served_central.process.port) as proxy:
        proxy.upstream_timeout = PATIENCE_S  # waiting pulls pass through once allowed
        proxy.when[b"wait="] = fault
        app = desk_app(make_ctx, proxy.url, served_central.add_device("A101"), monitor=False)
        async with app.run_test(size=SIZE) as pilot:
            # no retry during this part: the backoff's jitter always takes its ceiling
            app._live_backoff = Backoff(base=HOUR, cap=HOUR, rng=Ceiling())
            await pilot.press("f5")
            await until(pilot, lambda: app.live_failures == 1, "the wait to fail")
            assert not app.live_running()
            outcome = "refused" if fault == "404" else "offline"
            assert ("live", outcome) in log_steps(app)
            assert "Live updates: off after a failure" in await sync_log_summary(app, pilot)
            # Still online: the runs say so, and the periodic sync delivers.
            assert str(app.screen.query_one("#header-sync").render()).startswith("● online")
            title = "Whiteboard pen marker dry"
            await asyncio.to_thread(file_by_web_form, form, title)
            await until(pilot, lambda: not syncing(app), "the first run to end")
            app.scheduled_sync()
            await until(pilot, lambda: title in queue_titles(app), "the periodic sync")
            # The queue shows the ticket as soon as the pull applied it; the run's own log
            # line comes when the run ends (on a busy machine, later).
            await until(pilot, lambda: not syncing(app), "the periodic run to end")
            assert log_steps(app)[-2:] == [("pull", "ok"), ("run", "ok")]
            assert not app.live_running()  # not before its retry time
            # The server waits again. Once the retry time has passed, a run that ends online
            # opens the wait again.
            del proxy.when[b"wait="]
            app.live_retry_at = 0.0
            await until(pilot, lambda: not syncing(app), "the last run to end")
            app.scheduled_sync()
            await until(pilot, app.live_running, "the live wait to come back")
            await until_parked(pilot, served_central)
            title = "Air conditioning loud"
            await asyncio.to_thread(file_by_web_form, form, title)
            await until(pilot, lambda: title in queue_titles(app), "the ticket, live")
            assert log_steps(app)[-1] == ("live", "ok")
            assert app.live_failures == 0  # a wait that worked clears the backoff
            assert "Live updates: on" in await sync_log_summary(app, pilot)


async def test_a_ticket_logged_on_the_desk_goes_up_soon_after_it_is_saved(
    make_ctx: Callable[..., AppContext], served_central: ServedCentral
) -> None:
    app = desk_app(make_ctx, served_central.url, served_central.add_device("A101"), monitor=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await until(pilot, app.live_running, "online")
        ticket = app.ctx.desk.create(TicketDraft(title="Trainee cannot log in", seat="7"))
        # F5, then a run soon after the save (the periodic one is an hour away)
        await until(pilot, lambda: log_steps(app).count(("run", "ok")) == 2, "a second run")
        assert any(t.id == ticket.id for t in served_central.store.tickets())


# --------------------------------------------------------------------------- quitting

TMUX = shutil.which("tmux")


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_quitting_with_a_wait_open_does_not_wait_for_it(
    tmp_path: Path, served_central: ServedCentral
) -> None:
    """The real app in tmux, synced at start-up and waiting on the server; Ctrl+Q must end
    the process while the server still holds that wait (it runs 25 s), not after it."""
    assert TMUX is not None
    config = tmp_path / "desk.toml"
    config.write_text(laptop_config(), encoding="utf-8")
    database = tmp_path / "desk.sqlite3"
    token_file = tmp_path / "token"
    token_file.write_text(served_central.add_device("A101"), encoding="utf-8")
    os.chmod(token_file, 0o600)
    cli = [sys.executable, "-m", "classroom_support.cli", "--config", str(config)]
    cli += ["--db", str(database)]
    subprocess.run(
        [*cli, "connect", served_central.url, "--token-file", str(token_file)],
        check=True,
        capture_output=True,
    )
    socket = tmp_path / "tmux.sock"
    tmux = [TMUX, "-S", str(socket)]
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "80", "-y", "24", *cli],
        check=True,
        env=env,
        cwd=Path(__file__).parent.parent,
    )

    def running() -> bool:
        return subprocess.run([*tmux, "has-session"], capture_output=True).returncode == 0

    try:
        deadline = time.monotonic() + PATIENCE_S
        while served_central.waiting() < 1:  # the start-up sync ran; the wait is open
            assert running() and time.monotonic() < deadline, "the app never waited"
            time.sleep(0.1)
        subprocess.run([*tmux, "send-keys", "-t", "0", "C-q"], check=True)
        while running():
            assert time.monotonic() < deadline + PATIENCE_S, "the app did not quit"
            time.sleep(0.05)
        # The server still holds the wait the app walked away from: it quit without it.
        assert served_central.waiting() == 1
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
