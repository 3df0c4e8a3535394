"""Sync in the TUI (Pilot, against the real server): first-time setup, F5 in a worker, the
header indicator from the last result, the sync log with parked reasons, the palette."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fault_proxy import FaultyProxy
from postgres_support import ENGINES
from sync_support import Central, laptop_config, make_client, pin
from textual.widgets import DataTable, Input, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.context import AppContext
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.sync_log import SyncLogScreen, SyncSetupScreen
from classroom_support.tickets import QueueQuery, TicketDraft

SIZE = (140, 36)


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


def make_sync_app(make_ctx: Callable[..., AppContext], name: str = "tui") -> ClassroomSupportApp:
    ctx = make_ctx(config=laptop_config(), name=name)
    pin(ctx, "00000000-0000-4000-8000-000000000077", "TUIX")
    app = ClassroomSupportApp(ctx, cursor_blink=False, monitor=False)
    app.sync_client = make_client(ctx, on_device_change=app._device_changed)
    app.live_enabled = False  # the periodic and manual paths (live: test_sync_live_tui.py)
    return app


def header_sync(app: ClassroomSupportApp) -> str:
    return str(app.screen.query_one("#header-sync", Static).render())


async def settle(app: ClassroomSupportApp, pilot: object) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def test_first_sync_asks_for_the_server_then_syncs_in_a_worker(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    app = make_sync_app(make_ctx)
    app.ctx.desk.create(TicketDraft(title="logged before sync was set up"))
    central.store.create_ticket(TicketDraft(title="WhatsApp: projector", channel="whatsapp"))
    token = central.add_device("A101", name="hall laptop")
    async with app.run_test(size=SIZE) as pilot:
        assert "sync not set up" in header_sync(app)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, SyncSetupScreen)
        url = app.screen.query_one("#sync-url", Input)
        url.value = ""
        url.focus()
        await pilot.press(*central.url, "tab")
        field = app.screen.query_one("#sync-token", Input)
        assert field.password  # the token is never shown
        await pilot.press(*token, "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
        text = header_sync(app)
        assert text.startswith("● online") and "to send" not in text
        titles = {t.title for t in app.ctx.desk.queue(QueueQuery()).rows}
        assert "WhatsApp: projector" in titles  # pulled, and the queue shows it
        rows = app.screen.query_one("#queue", DataTable)
        assert rows.row_count == 2
        assert token not in "".join(str(n.message) for n in app._notifications)


async def test_header_shows_offline_pending_and_parked_from_the_last_result(
    make_ctx: Callable[..., AppContext], central: Central, proxy: FaultyProxy
) -> None:
    app = make_sync_app(make_ctx, "offline")
    app.sync_client.configure(proxy.url, central.add_device("A101"))
    async with app.run_test(size=SIZE) as pilot:
        assert header_sync(app).startswith("○ not synced yet")
        proxy.down = True
        app.ctx.desk.create(TicketDraft(title="while the Wi-Fi is down"))
        await pilot.press("f5")
        await settle(app, pilot)
        text = header_sync(app)
        assert text.startswith("○ offline") and "1 to send" in text
        proxy.down = False
        app.ctx.desk.create(TicketDraft(title="for the lab", hall_code="B201"))
        await pilot.press("f5")
        await settle(app, pilot)
        text = header_sync(app)
        assert text.startswith("● online") and "1 parked" in text and "to send" not in text
        # The sync log says which item is parked and why.
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, SyncLogScreen)
        parked = app.screen.query_one("#sync-parked", DataTable)
        [row] = [[str(c) for c in parked.get_row_at(i)] for i in range(parked.row_count)]
        assert row[0] == "TUIX-2" and row[1] == "Created" and "forbidden_hall" in row[3]
        log = app.screen.query_one("#sync-log", DataTable)
        steps = {str(log.get_row_at(i)[1]) for i in range(log.row_count)}
        assert {"send", "receive", "run"} <= steps
        summary = str(app.screen.query_one("#sync-summary", Static).render())
        assert proxy.url in summary and "parked: 1" in summary
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


async def test_progress_and_skew_show_in_the_header(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    app = make_sync_app(make_ctx, "progress")
    app.sync_client.configure(central.url, central.add_device("A101"))
    async with app.run_test(size=SIZE) as pilot:
        app._show_progress("push", 200, 1000)
        await pilot.pause()
        assert header_sync(app).startswith("⟳ sending 200/1000")
        app.sync_progress = None
        with app.ctx.db.write() as s:
            from classroom_support.models import SyncState

            state = s.get(SyncState, 1)
            assert state is not None
            state.skew_ms = -7 * 60_000
            state.last_result = "ok"
            state.last_success_at = app.ctx.clock.now()
            s.add(state)
        app._sync_status = (0.0, None)
        app.refresh_headers()
        await pilot.pause()
        assert "⚠ clock 7 min off" in header_sync(app)


async def test_sync_is_in_the_palette_and_help_and_arabic(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    app = make_sync_app(make_ctx, "palette")
    async with app.run_test(size=SIZE) as pilot:
        labels = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Sync now", "Sync log"} <= labels
        await pilot.press("f6")
        await pilot.pause()
        summary = str(app.screen.query_one("#sync-summary", Static).render())
        assert "not set up" in summary
        await pilot.press("f9")  # Arabic: every sync string has a translation
        await pilot.pause()
        assert "مزامنة" in str(app.screen.query_one("#sla-title", Static).render()) or (
            "ﺔﻨﻣﺍﺰﻤﻟﺍ" in str(app.screen.query_one("#sla-title", Static).render())
        )


async def test_scheduled_sync_runs_in_the_background_and_respects_the_backoff(
    make_ctx: Callable[..., AppContext], central: Central, proxy: FaultyProxy
) -> None:
    ctx = make_ctx(config=laptop_config(), name="scheduled")
    pin(ctx, "00000000-0000-4000-8000-000000000078", "SCHD")
    app = ClassroomSupportApp(ctx, cursor_blink=False, monitor=True)
    app.sync_client = make_client(ctx, on_device_change=app._device_changed)
    app.live_enabled = False
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        job = app.scheduler.get_job("sync")
        assert job is not None and job.trigger.interval.total_seconds() == 60
        app.scheduled_sync()  # not set up: nothing happens, no setup modal pops up
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen) and not app.workers
        app.sync_client.configure(proxy.url, central.add_device("A101"))
        proxy.down = True
        app.scheduled_sync()
        await settle(app, pilot)
        assert header_sync(app).startswith("○ offline")
        before = proxy.requests
        app.scheduled_sync()  # within the backoff: the client does not even try
        await settle(app, pilot)
        assert proxy.requests == before
        proxy.down = False
        await pilot.press("f5")  # by hand: tries at once
        await settle(app, pilot)
        assert header_sync(app).startswith("● online")
