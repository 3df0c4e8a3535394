"""Desks with sync set up start on the first-frame path too (first_frame.py, sync_status.py): the
plain reader of the sync state gives `SyncClient.status()`'s answer, and every role's desk —
synced with a real central server — paints the normal start's screen, header included, before
the ORM, the sync client or httpx are imported; keys for sync wait for the real context."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlmodel import select
from sync_support import Central, connect, pin
from test_first_frame import HEAVY, REPO, Gate, first_frame_app, screen_text, sql, until
from textual.pilot import Pilot
from textual.widgets import Static

from classroom_support import i18n
from classroom_support.app import ClassroomSupportApp
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext, load_settings, open_context
from classroom_support.first_frame import read_first_frame, stored_time
from classroom_support.models import SyncLogEntry, SyncState
from classroom_support.routing import route_ticket
from classroom_support.screens.queue import PAGE_SIZE, QueueScreen
from classroom_support.sync import PENDING_CAP, SyncClient
from classroom_support.sync_status import SyncStatus, pending_sql, read_sync_status
from classroom_support.tickets import QueueQuery, TicketDraft

# --------------------------------------------------------------------------- the plain reader


def plain_status(ctx: AppContext) -> SyncStatus:
    conn = sqlite3.connect(f"{ctx.paths.database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return read_sync_status(conn, ctx.paths.database)
    finally:
        conn.close()


def edit(ctx: AppContext, statement: str, *params: object) -> None:
    sql(ctx.paths.database, statement, *params)


def many_unsent(ctx: AppContext, count: int) -> None:
    """`count` more unacknowledged events on an existing ticket, in one transaction."""
    conn = sqlite3.connect(ctx.paths.database)
    try:
        with conn:
            first = conn.execute("SELECT * FROM ticket_event LIMIT 1").fetchone()
            marks = ", ".join("?" for _ in first)
            conn.executemany(
                f"INSERT INTO ticket_event VALUES ({marks})",
                ((f"bulk-{i:06d}", *first[1:-1], None) for i in range(count)),
            )
    finally:
        conn.close()


def states(ctx: AppContext, client: SyncClient, clock: FixedClock) -> Iterator[str]:
    """Step the database through the states the header can show; yield a name after each."""
    yield "never set up (no sync_state row)"
    with ctx.db.write() as s:
        s.add(SyncState(id=1))
    yield "a row with the defaults"
    edit(ctx, "UPDATE sync_state SET role = 'level2', halls = 'A101,B201'")
    yield "a role, no URL"
    edit(ctx, "UPDATE sync_state SET central_url = 'http://127.0.0.1:9'")
    yield "a URL, no token"
    edit(ctx, "UPDATE sync_state SET central_url = ''")
    client.token_file.write_text("t" * 32)
    yield "a token, no URL"
    client.configure("http://127.0.0.1:9", "s" * 32)
    yield "set up, never synced, empty outbox"
    for title in ("projector", "login"):
        ctx.desk.create(TicketDraft(title=title))
    yield "two tickets to send"
    event = ctx.desk.history(ctx.desk.queue(QueueQuery()).rows[0].id)[0].id
    edit(ctx, "INSERT INTO sync_parked VALUES (?, 'event', 'refused', 422, ?)", event, "2026-11-28")
    edit(ctx, "INSERT INTO sync_parked VALUES ('s1', 'session', 'bad', 400, '2026-11-28')")
    yield "one event and one session parked"
    now = clock.now().replace(microsecond=123456)
    edit(
        ctx,
        "UPDATE sync_state SET last_result = 'ok', last_success_at = ?, last_attempt_at = ?, "
        "cursor = 42, device_name = 'مكتب المستوى الثاني', skew_ms = 150000",
        stored(now),
        stored(now),
    )
    yield "online, two minutes and a half of skew"
    edit(
        ctx,
        "UPDATE sync_state SET last_result = 'offline', last_error = 'refused', "
        "next_attempt_at = ?, skew_ms = -90000, role = 'manager', halls = '', all_halls = 1",
        stored(now + timedelta(seconds=75)),
    )
    yield "offline with a retry time, a manager over all halls"
    edit(ctx, "UPDATE sync_state SET role = 'auditor', skew_ms = NULL")
    yield "a role this code does not know"
    many_unsent(ctx, PENDING_CAP + 5)
    yield "more than PENDING_CAP to send"
    edit(ctx, "UPDATE ticket_event SET server_seq = rowid")
    yield "everything acknowledged (the parked event too)"
    client.token_file.unlink()
    yield "the token file removed"


def stored(value: Any) -> str:
    return stored_time(value)


def test_the_plain_reader_gives_the_clients_status(ctx: AppContext, clock: FixedClock) -> None:
    client = SyncClient(ctx.db, ctx.config, clock)
    seen: set[tuple[bool, int, int, str]] = set()
    for state in states(ctx, client, clock):
        theirs = client.status()
        assert plain_status(ctx) == theirs, state
        seen.add((theirs.configured, min(theirs.pending, 3), theirs.parked, theirs.last_result))
    # The walk went through the interesting answers (the comparison is not vacuous).
    assert (True, 3, 2, "offline") in seen and (False, 0, 0, "never") in seen
    assert client.status().pending == 0
    edit(ctx, "UPDATE ticket_event SET server_seq = NULL")
    client.token_file.write_text("t" * 32)
    assert plain_status(ctx).pending == client.status().pending == PENDING_CAP + 1


def test_with_nothing_parked_the_outbox_is_counted_from_the_index_alone(ctx: AppContext) -> None:
    """The header counts the outbox every second: with nothing parked, no event row is read."""
    conn = sqlite3.connect(ctx.paths.database)
    try:
        fast = " ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {pending_sql(0)}", (1,)))
        full = " ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {pending_sql(1)}", (1,)))
    finally:
        conn.close()
    assert "COVERING INDEX ix_ticket_event_server_seq" in fast
    assert "sync_parked" in full  # parked events are left out of the count


# --------------------------------------------------------------------------- desks of every role


@dataclass
class Desk:
    config: Path
    db: Path


def laptop_config(language: str) -> str:
    return f'[ui]\nlanguage = "{language}"\n[device]\nhall = "A101"\ntechnician = "Sami"\n'


def open_desk(folder: Path, language: str, clock: FixedClock) -> tuple[Desk, AppContext]:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(laptop_config(language), encoding="utf-8")
    desk = Desk(config, folder / "db.sqlite3")
    return desk, open_context(config, desk.db, clock=clock)


ROLES = {  # name: (role, halls, all halls)
    "hall": ("hall", ["A101"], False),
    "level2": ("level2", ["A101", "B201"], False),
    "contact-centre": ("contact-centre", [], True),
    "manager": ("manager", [], True),
}


def synced_desks(tmp_path: Path, central: Central, clock: FixedClock, language: str) -> dict:
    """A desk of each role, set up and synced with the real central server: tickets filed
    centrally in two halls, two routed by the hall desk to Level 2, one sent back by Level 2
    (so the hall and Level 2 desks both have a ticket newly routed to them)."""
    for title, hall, priority, category in [
        ("Projector flickers", "A101", "high", "av"),
        ("Login fails for the trainer", "A101", "normal", "login"),
        ("Printer jam", "B201", "low", "other"),
        ("Network down in the lab", "B201", "critical", "network"),
        ("الميكروفون لا يعمل", "A101", "critical", "av"),
    ]:
        central.store.create_ticket(
            TicketDraft(title=title, hall_code=hall, priority=priority, category=category)
        )
    desks: dict[str, Desk] = {}
    clients: dict[str, tuple[AppContext, SyncClient]] = {}
    for n, (name, (role, halls, every)) in enumerate(ROLES.items(), start=1):
        _device, token = central.store.add_device(name, halls, role=role, all_halls=every)
        desk, ctx = open_desk(tmp_path / name, language, clock)
        pin(ctx, f"00000000-0000-4000-8000-{n:012d}", f"D{n:03d}")
        client = connect(ctx, central.url, token)
        assert client.sync().outcome == "ok", name
        desks[name] = desk
        clients[name] = (ctx, client)
    hall, hall_client = clients["hall"]
    hall.desk.create(TicketDraft(title="Seat 12 keyboard", category="pc"))
    refs = [t.ref for t in hall.desk.queue(QueueQuery()).rows]
    for ref in refs[:2]:
        route_ticket(hall.desk, ref, level2=True)
    assert hall_client.sync().outcome == "ok"
    level2, level2_client = clients["level2"]
    assert level2_client.sync().outcome == "ok"
    route_ticket(level2.desk, refs[0], level2=False, note="back to the hall")
    for name in ("level2", "hall", "contact-centre", "manager"):
        assert clients[name][1].sync().outcome == "ok", name
    for ctx, _client in clients.values():
        ctx.close()
    return desks


def busy_sync_state(desk: Desk, clock: FixedClock) -> None:
    """Offline since the last run, three events to send, one parked, the clock 3 min off."""
    last = stored(clock.now() - timedelta(minutes=20))
    sql(
        desk.db,
        "UPDATE sync_state SET last_result = 'offline', last_error = 'connection refused', "
        "last_attempt_at = ?, next_attempt_at = ?, skew_ms = -185000",
        last,
        stored(clock.now() + timedelta(minutes=1)),
    )
    sql(
        desk.db,
        "UPDATE ticket_event SET server_seq = NULL WHERE id IN "
        "(SELECT id FROM ticket_event ORDER BY hlc DESC LIMIT 4)",
    )
    sql(
        desk.db,
        "INSERT INTO sync_parked SELECT id, 'event', 'refused', 422, ? FROM ticket_event "
        "WHERE server_seq IS NULL ORDER BY id LIMIT 1",
        last,
    )


def painted(app: ClassroomSupportApp) -> str:
    """The whole screen as drawn, every cell with its style (ANSI)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=True)


Seen = tuple[dict[str, Any], str, SyncStatus | None]


async def settled(app: ClassroomSupportApp, pilot: Pilot[None]) -> Seen:
    """The screen once two looks in a row agree (the footer may take a refresh to fit)."""
    last: Seen | None = None
    for _ in range(100):
        await pilot.pause()
        seen = screen_text(app), painted(app), app.sync_status()
        if seen == last:
            return seen
        last = seen
    raise AssertionError("the screen never settled")


async def normal_start(desk: Desk, clock: FixedClock, size: tuple[int, int]) -> Seen:
    ctx = open_context(desk.config, desk.db, clock=clock)
    app = ClassroomSupportApp(ctx, cursor_blink=False, monitor=False)
    try:
        async with app.run_test(size=size) as pilot:
            return await settled(app, pilot)
    finally:
        ctx.close()


async def first_frame_start(
    desk: Desk, clock: FixedClock, size: tuple[int, int]
) -> tuple[Seen, Seen]:
    gate = Gate(desk.config, desk.db, clock)
    app = first_frame_app(desk.config, desk.db, clock, gate)
    try:
        async with app.run_test(size=size) as pilot:
            first = await settled(app, pilot)
            assert not app.ctx.ready and app.sync_client is None
            gate.opened.set()
            await until(pilot, lambda: app.ctx.ready, "the real context")
            return first, await settled(app, pilot)
    finally:
        if gate.ctx is not None:
            gate.ctx.close()


def shows(status: SyncStatus | None, state: str) -> bool:
    """The header's sync state is the one the test set up."""
    assert status is not None and status.configured
    if state == "online":
        return status.online and (status.pending, status.parked, status.skew_warning) == (0, 0, 0)
    return not status.online and (status.pending, status.parked, status.skew_warning) == (3, 1, 1)


HEADER_MARKS = {
    "online": ["● online · synced 10:30"],
    "busy": ["○ offline · last sync 10:30", "3 to send", "1 parked", "clock 3 min off"],
}


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_every_roles_synced_desk_paints_the_normal_screen_first(
    tmp_path: Path, central: Central, clock: FixedClock, language: str
) -> None:
    i18n.set_language(language)
    desks = synced_desks(tmp_path, central, clock, language)
    for state, size in (("online", (120, 36)), ("busy", (80, 24))):
        for name, desk in desks.items():
            if state == "busy":
                busy_sync_state(desk, clock)
            expected = await normal_start(desk, clock, size)
            first, after = await first_frame_start(desk, clock, size)
            where = f"{name}, {state}, {language}"
            # Painted from plain sqlite3: the same screen, every cell and its style, and the
            # same sync state; and nothing moves when the real context is swapped in.
            assert first == expected, where
            assert after == expected, where
            assert shows(expected[2], state), where
            if language == "en":
                for mark in HEADER_MARKS[state]:
                    assert mark in expected[0]["header"][3], where
            if name in ("hall", "level2"):  # the ticket routed to this desk is marked new
                assert expected[0]["status"], where
    # One hall, several, all: the first page of each desk's own queue.
    assert {name: halls_on_first_page(desk, clock) for name, desk in desks.items()} == {
        "hall": ["A101"],
        "level2": ["A101", "B201"],
        "contact-centre": ["A101", "B201"],
        "manager": ["A101", "B201"],
    }


def halls_on_first_page(desk: Desk, clock: FixedClock) -> list[str]:
    settings, paths = load_settings(desk.config, desk.db)
    frame = read_first_frame(settings, paths, limit=PAGE_SIZE, clock=clock)
    assert frame is not None
    return sorted({t.hall_code for t in frame.page.rows})


# --------------------------------------------------------------------------- keys and imports


@pytest.fixture
def hall_desk(tmp_path: Path, central: Central, clock: FixedClock) -> Iterator[Desk]:
    central.store.create_ticket(TicketDraft(title="Projector flickers", hall_code="A101"))
    _device, token = central.store.add_device("hall", ["A101"])
    desk, ctx = open_desk(tmp_path / "hall", "en", clock)
    pin(ctx, "00000000-0000-4000-8000-000000000001", "HALL")
    client = connect(ctx, central.url, token)
    assert client.sync().outcome == "ok"
    ctx.desk.create(TicketDraft(title="logged after the sync"))
    ctx.close()
    yield desk


async def test_sync_keys_pressed_before_the_desk_is_ready_are_handled_after(
    hall_desk: Desk, clock: FixedClock
) -> None:
    from classroom_support.screens.sync_log import SyncLogScreen

    gate = Gate(hall_desk.config, hall_desk.db, clock)
    app = first_frame_app(hall_desk.config, hall_desk.db, clock, gate)
    app.live_enabled = False
    header: Callable[[], str] = lambda: str(app.screen.query_one("#header-sync", Static).render())  # noqa: E731
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert "1 to send" in header()  # the outbox, from the first frame
            await pilot.press("f5", "f6")
            await pilot.pause()
            assert isinstance(app.screen, QueueScreen) and app.sync_client is None  # held
            gate.opened.set()
            await until(pilot, lambda: isinstance(app.screen, SyncLogScreen), "the sync log")
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.pop_screen()
            await until(
                pilot,
                lambda: header().startswith("● online") and "to send" not in header(),
                "the run sent the outbox",
            )
    finally:
        if gate.ctx is not None:
            with gate.ctx.db.read() as s:
                runs = s.exec(select(SyncLogEntry).where(SyncLogEntry.step == "run")).all()
            gate.ctx.close()
    assert [r.outcome for r in runs] == ["ok", "ok"]  # the fixture's run, then F5's


PROBE = """
import json, sys
from classroom_support.tui import make_app
HEAVY = {heavy!r}
app = make_app({config!r}, {db!r}, start="queue", monitor=False)
app.live_enabled = False
seen = {{}}
display = app._display

def header():
    return str(app.screen.query_one("#header-sync").render())

def watch(screen, update):  # every frame the compositor hands to the driver
    display(screen, update)
    page = getattr(app.screen, "page", None)
    if "first" not in seen and update is not None and page is not None and page.rows:
        seen["first"] = sorted(m for m in HEAVY if m in sys.modules)
        seen["fast"] = not app.ctx.ready
        seen["header"] = header()

app._display = watch

async def auto(pilot):
    for _ in range(3000):
        if app.ctx.ready and "first" in seen:
            break
        await pilot.pause(0.02)
    await pilot.pause()
    seen["header_after"] = header()
    seen["after"] = sorted(m for m in HEAVY if m in sys.modules)
    app.exit()

app.run(headless=True, size=(120, 36), auto_pilot=auto)
app.ctx.close()
print(json.dumps(seen))
"""


def test_a_synced_desk_paints_before_the_orm_and_httpx(hall_desk: Desk) -> None:
    code = PROBE.format(heavy=HEAVY, config=str(hall_desk.config), db=str(hall_desk.db))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["fast"] is True and seen["first"] == []
    assert seen["header"].startswith("● online") and "1 to send" in seen["header"]
    assert seen["header_after"] == seen["header"]
    assert {"sqlalchemy", "httpx"} <= set(seen["after"])  # the sync client came after


# --------------------------------------------------------------------------- the next start

TMUX = shutil.which("tmux")


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_closing_the_terminal_leaves_the_next_start_on_the_first_frame_path(
    tmp_path: Path, clock: FixedClock
) -> None:
    """The terminal window is closed instead of Ctrl+Q (tmux kill-server: SIGHUP): the app
    exits the normal way, so the database is closed and no -wal with frames is left behind
    (one would send the next start to the normal path, to verify it on a copy)."""
    from test_first_frame import demo_database

    from classroom_support.db_files import has_frames, held_by_another_process, wal_path

    assert TMUX is not None
    config, db = demo_database(tmp_path / "desk", clock)
    socket = tmp_path / "tmux.sock"
    tmux = [TMUX, "-S", str(socket)]
    command = [sys.executable, "-m", "classroom_support.cli", "--config", str(config)]
    command += ["--db", str(db)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "80", "-y", "24", *command],
        check=True,
        env={**env, "TERM": "xterm-256color"},
        cwd=REPO,
    )
    try:
        # Wait-until deadlines: the start takes seconds when the machine is busy.
        def pane() -> str:
            found = subprocess.run([*tmux, "capture-pane", "-p", "-t", "0"], capture_output=True)
            return found.stdout.decode(errors="replace")

        wait_for(lambda: "Open tickets" in pane(), "the first frame", 120)  # reader closed
        wait_for(lambda: held_by_another_process(db), "the app's real context", 120)
        # Another writer's commit (as the CLI or a cron sync would make): the app holds the
        # database open, so the -wal keeps its frames.
        sql(db, "INSERT INTO meta (key, value) VALUES ('written by another process', '1')")
        assert has_frames(wal_path(db))
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
    wait_for(lambda: not held_by_another_process(db), "the app to exit", 60)
    assert not has_frames(wal_path(db))
    settings, paths = load_settings(config, db)
    assert read_first_frame(settings, paths, limit=PAGE_SIZE, clock=clock) is not None


def wait_for(done: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.1)
