"""The first painted queue from plain sqlite3 (first_frame.py, queue_sql.py): the same page as
the desk, the same screen as the normal start, keys never lost while the real context opens,
the normal path whenever the reader cannot answer, and no ORM on the way to the first frame."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import pin_device, set_role
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext, load_settings, open_context
from classroom_support.db import HEAD_REVISION, DatabaseError
from classroom_support.demo import fill_demo
from classroom_support.first_frame import FirstFrameContext, read_first_frame
from classroom_support.models import Ticket
from classroom_support.plain_read import TICKET_COLUMNS, read_queue
from classroom_support.routing import route_ticket
from classroom_support.screens.queue import PAGE_SIZE, QueueScreen
from classroom_support.tickets import PRIORITIES, SORTS, STATUSES, QueueQuery

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "httpx", "apscheduler")


def dump(rows: list[Any]) -> list[dict[str, Any]]:
    return [t.model_dump() for t in rows]


def reader(ctx: AppContext) -> sqlite3.Connection:
    return sqlite3.connect(f"{ctx.paths.database.resolve().as_uri()}?mode=ro", uri=True)


def test_the_row_has_the_models_fields_in_order() -> None:
    assert list(Ticket.model_fields) == TICKET_COLUMNS


def queries() -> list[QueueQuery]:
    found = [QueueQuery(hall_code="A101"), QueueQuery(), QueueQuery(hall_code="B202")]
    for sort in SORTS:
        for descending in (False, True):
            found.append(QueueQuery(hall_code="A101", sort=sort, descending=descending))
            found.append(QueueQuery(sort=sort, descending=descending, offset=5, limit=7))
    for status in STATUSES:
        found.append(QueueQuery(statuses=(status,)))
    found += [
        QueueQuery(statuses=()),
        QueueQuery(priorities=(PRIORITIES[-1],), statuses=()),
        QueueQuery(search="projector"),
        QueueQuery(search="50%_\\"),
        QueueQuery(limit=0),
    ]
    for target in ("hall", "level2"):
        for sort in SORTS:
            found.append(QueueQuery(routed_to=target, sort=sort))
        found.append(QueueQuery(routed_to=target, offset=1, limit=3))
        found.append(QueueQuery(routed_to=target, offset=30, limit=10))
    return found


def test_plain_sql_pages_equal_the_desks(ctx: AppContext, clock: FixedClock) -> None:
    fill_demo(ctx)
    refs = [t.ref for t in ctx.desk.queue(QueueQuery(limit=6)).rows]
    route_ticket(ctx.desk, refs[3], level2=True)
    route_ticket(ctx.desk, refs[5], level2=True)
    set_role(ctx, "level2", halls="A101")
    clock.advance(timedelta(minutes=1))
    route_ticket(ctx.desk, refs[5], level2=False)  # back to the hall: routed to the hall
    set_role(ctx, "hall", halls="A101")
    conn = reader(ctx)
    try:
        for query in queries():
            mine = read_queue(conn, query)
            theirs = ctx.desk.queue(query)
            assert (mine.total, dump(mine.rows)) == (theirs.total, dump(theirs.rows)), query
    finally:
        conn.close()


# --------------------------------------------------------------------------- the screen


def write_config(folder: Path, language: str) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[ui]\nlanguage = "{language}"\n[device]\ntechnician = "Sami"\n', encoding="utf-8"
    )
    return config


def demo_database(folder: Path, clock: FixedClock, language: str = "en") -> tuple[Path, Path]:
    folder.mkdir(exist_ok=True)
    config = write_config(folder, language)
    ctx = open_context(config, folder / "db.sqlite3", clock=clock)
    pin_device(ctx)
    fill_demo(ctx)
    ctx.close()
    return config, folder / "db.sqlite3"


def screen_text(app: ClassroomSupportApp) -> dict[str, Any]:
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    table = screen.query_one("#queue", DataTable)
    return {
        "columns": [str(c.label) for c in table.columns.values()],
        "rows": [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)],
        "filters": str(screen.query_one("#queue-filters", Static).render()),
        "status": str(screen.query_one("#queue-status", Static).render()),
        "alert": str(screen.query_one("#class-alert", Static).render()),
        "header": [
            str(screen.query_one(f"#header-{part}", Static).render())
            for part in ("hall", "session", "time", "sync")
        ],
    }


class Gate:
    """Opens the real context only when the test says so (the worker waits at the gate)."""

    def __init__(self, config: Path, db: Path, clock: FixedClock) -> None:
        self.config, self.db, self.clock = config, db, clock
        self.opened = threading.Event()
        self.ctx: AppContext | None = None

    def __call__(self) -> AppContext:
        assert self.opened.wait(60), "the test never opened the gate"
        self.ctx = open_context(self.config, self.db, clock=self.clock)
        return self.ctx


async def normal_screen(
    config: Path, db: Path, clock: FixedClock, size: tuple[int, int]
) -> dict[str, Any]:
    """What the queue shows when the app starts the normal way (the context opened first)."""
    ctx = open_context(config, db, clock=clock)
    app = ClassroomSupportApp(ctx, cursor_blink=False, monitor=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        shown = screen_text(app)
    ctx.close()
    return shown


def first_frame_app(
    config: Path, db: Path, clock: FixedClock, gate: Callable[[], AppContext]
) -> ClassroomSupportApp:
    settings, paths = load_settings(config, db)
    frame = read_first_frame(settings, paths, limit=PAGE_SIZE, clock=clock)
    assert frame is not None
    return ClassroomSupportApp(
        FirstFrameContext(frame, settings, paths),
        cursor_blink=False,
        monitor=False,
        open_context=gate,
    )


async def until(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    for _ in range(600):
        if done():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"gave up waiting: {what}")


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_the_first_frame_is_the_normal_screen(
    tmp_path: Path, clock: FixedClock, language: str
) -> None:
    config, db = demo_database(tmp_path / "demo", clock, language)
    expected = await normal_screen(config, db, clock, (120, 36))
    assert len(expected["rows"]) > 20

    gate = Gate(config, db, clock)
    app = first_frame_app(config, db, clock, gate)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert not app.ctx.ready
        assert screen_text(app) == expected  # painted from plain sqlite3
        gate.opened.set()
        await until(pilot, lambda: app.ctx.ready, "the real context")
        await pilot.pause()
        assert app.ctx is gate.ctx
        assert screen_text(app) == expected  # swapped in: nothing moved
    assert gate.ctx is not None
    gate.ctx.close()


async def test_keys_pressed_before_the_desk_is_ready_are_handled_after(
    tmp_path: Path, clock: FixedClock
) -> None:
    from classroom_support.screens.ticket_form import NewTicketScreen

    config, db = demo_database(tmp_path / "demo", clock)
    gate = Gate(config, db, clock)
    app = first_frame_app(config, db, clock, gate)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "n")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)  # held: nothing may act on the stand-in
        gate.opened.set()
        await until(pilot, lambda: isinstance(app.screen, NewTicketScreen), "the form")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen), "the queue")
        table = app.screen.query_one("#queue", DataTable)
        assert table.cursor_row == 1  # the "down" was not lost either
    assert gate.ctx is not None
    gate.ctx.close()


async def test_the_queue_is_built_once_before_the_first_frame(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The resizes that come with the first layout keep the width: no second (or third) build
    # of the page's rows before the first frame. A real change of width still refits.
    config, db = demo_database(tmp_path / "demo", clock)
    builds: list[int] = []
    reload = QueueScreen.reload

    def counted(screen: QueueScreen, keep_cursor: bool = True) -> None:
        builds.append(screen.app.size.width)
        reload(screen, keep_cursor)

    monkeypatch.setattr(QueueScreen, "reload", counted)
    gate = Gate(config, db, clock)
    app = first_frame_app(config, db, clock, gate)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert builds == [120]
        wide = screen_text(app)["columns"]
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: len(builds) == 2, "a refit")
        assert builds == [120, 80]
        assert screen_text(app)["columns"] != wide
        gate.opened.set()
        await until(pilot, lambda: app.ctx.ready, "the real context")
    assert gate.ctx is not None
    gate.ctx.close()


def frame_text(update: Any) -> str:
    """The characters of one frame the compositor hands to the driver (all of a full update,
    or the changed pieces of a partial one)."""
    lines = ["".join(s.text for s in line) for line in getattr(update, "strips", None) or ()]
    for chops in getattr(update, "chops", None) or ():
        lines.append("".join(s.text for s in chops.values() if s is not None))
    return "\n".join(lines)


async def test_the_first_frame_sent_is_the_whole_queue_and_the_desk_opens_after_it(
    tmp_path: Path, clock: FixedClock
) -> None:
    # Textual's start-up batch drew the queue into a frame it never sent; the first frame
    # sent held only what changed after it (the header and footer). And the thread that opens
    # the real context competes for the GIL: it waits until the queue is out.
    config, db = demo_database(tmp_path / "demo", clock)
    gate = Gate(config, db, clock)
    gate.opened.set()
    sent: list[str] = []
    frames_before_opening: list[int] = []

    def opening() -> AppContext:
        frames_before_opening.append(len(sent))
        return gate()

    app = first_frame_app(config, db, clock, opening)
    display = app._display

    dropped: list[int] = []  # frames drawn inside the batch (App._display drops them)

    def watch(screen: Any, update: Any) -> None:
        display(screen, update)
        if update is not None and not app._batch_count:  # what a terminal would get
            sent.append(frame_text(update))
        elif update is not None and not sent:
            dropped.append(1)

    app._display = watch  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.ctx.ready, "the real context")
        rows = app.screen.page.rows  # type: ignore[attr-defined]
    assert gate.ctx is not None
    gate.ctx.close()
    assert frames_before_opening and frames_before_opening[0] >= 1
    first = sent[0]
    assert rows[0].ref in first and rows[20].ref in first  # the rows, not only the header
    assert "A101" in first  # the header
    assert not dropped  # the queue was drawn once before it: for the frame sent


async def test_the_first_frame_adds_the_rows_that_fit_and_the_rest_right_after(
    tmp_path: Path, clock: FixedClock
) -> None:
    # Cells cut and rows added only for what the screen can show (80x24: at most 24 rows);
    # the page's other rows go in once that frame is out, before the desk opens, fitted to
    # the same columns (worked out from the whole page), so nothing moves.
    config, db = demo_database(tmp_path / "demo", clock)
    expected = await normal_screen(config, db, clock, (80, 24))
    assert len(expected["rows"]) > 24
    at_first_frame: list[int] = []
    at_opening: list[int] = []
    gate = Gate(config, db, clock)
    app = first_frame_app(config, db, clock, gate)
    display = app._display

    def watch(screen: Any, update: Any) -> None:
        display(screen, update)
        if update is not None and not app._batch_count and not at_first_frame:
            at_first_frame.append(screen.query_one("#queue", DataTable).row_count)

    app._display = watch  # type: ignore[method-assign]
    open_real = app.open_real_context

    def counted_opening() -> None:
        at_opening.append(app.screen.query_one("#queue", DataTable).row_count)
        open_real()

    app.open_real_context = counted_opening  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(at_opening), "the desk opening")
        assert not app.ctx.ready
        assert screen_text(app) == expected
        gate.opened.set()
        await until(pilot, lambda: app.ctx.ready, "the real context")
        await pilot.pause()
        assert screen_text(app) == expected
    assert gate.ctx is not None
    gate.ctx.close()
    assert at_first_frame == [24]
    assert at_opening == [len(expected["rows"])]


# --------------------------------------------------------------------------- the normal path


def sql(db: Path, statement: str, *params: object) -> None:
    """One statement, committed and closed (an open connection would leave the -wal busy)."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(statement, params)
    finally:
        conn.close()


def first_frame_of(config: Path, db: Path, clock: FixedClock) -> object:
    settings, paths = load_settings(config, db)
    return read_first_frame(settings, paths, limit=PAGE_SIZE, clock=clock)


def test_the_reader_declines_what_the_normal_path_must_do(
    tmp_path: Path, clock: FixedClock
) -> None:
    config, db = demo_database(tmp_path / "demo", clock)
    assert first_frame_of(config, db, clock) is not None
    assert first_frame_of(config, tmp_path / "none.sqlite3", clock) is None  # a new database
    for revision in ("0008_queue_indexes", "9999_from_the_future"):  # not this code's schema
        sql(db, "UPDATE alembic_version SET version_num = ?", revision)
        assert first_frame_of(config, db, clock) is None
    sql(db, "UPDATE alembic_version SET version_num = ?", HEAD_REVISION)
    assert first_frame_of(config, db, clock) is not None
    sql(db, "UPDATE meta SET key = 'seeded?' WHERE key = 'closures_seeded'")  # the normal path
    assert first_frame_of(config, db, clock) is None  # seeds the default holidays first
    sql(db, "UPDATE meta SET key = 'closures_seeded' WHERE key = 'seeded?'")
    assert first_frame_of(config, db, clock) is not None
    # Sync set up is no reason: the header's sync state is read with the page
    # (test_first_frame_sync.py).
    ctx = open_context(config, db, clock=clock)
    set_role(ctx, "hall")
    ctx.close()
    sql(db, "UPDATE sync_state SET central_url = 'http://127.0.0.1:9'")
    db.with_name(db.name + ".sync-token").write_text("t")
    frame = first_frame_of(config, db, clock)
    assert frame is not None and frame.sync.configured  # type: ignore[attr-defined]


def test_another_schema_starts_the_normal_way(tmp_path: Path, clock: FixedClock) -> None:
    from classroom_support.tui import make_app

    config, db = demo_database(tmp_path / "demo", clock)
    app = make_app(config, db, clock=clock)
    assert not app.ctx.ready  # the first frame from plain sqlite3
    sql(db, "UPDATE alembic_version SET version_num = '9999_from_the_future'")
    # The normal path, before any frame: its one-line refusal, as before.
    with pytest.raises(DatabaseError, match="newer classroom-support"):
        make_app(config, db, clock=clock)
    new = make_app(config, tmp_path / "new.sqlite3", clock=clock)  # created and migrated
    try:
        assert new.ctx.ready
    finally:
        new.ctx.close()


# --------------------------------------------------------------------------- imports

PROBE = """
import json, sys
from classroom_support.tui import make_app
from classroom_support.screens.queue import QueueScreen
HEAVY = {heavy!r}
app = make_app({config!r}, {db!r}, start="queue")
seen = {{}}
display = app._display

def watch(screen, update):  # every frame the compositor hands to the driver
    display(screen, update)
    page = getattr(app.screen, "page", None)
    if "first" not in seen and update is not None and page is not None and page.rows:
        seen["first"] = sorted(m for m in HEAVY if m in sys.modules)
        seen["rows"] = len(page.rows)

app._display = watch

async def auto(pilot):
    for _ in range(3000):
        if app.ctx.ready and "first" in seen:
            break
        await pilot.pause(0.02)
    seen["ready"] = app.ctx.ready
    seen["after"] = sorted(m for m in HEAVY if m in sys.modules)
    app.exit()

app.run(headless=True, size=(120, 36), auto_pilot=auto)
app.ctx.close()
print(json.dumps(seen))
"""


def test_no_orm_sync_or_scheduler_on_the_way_to_the_first_frame(
    tmp_path: Path, clock: FixedClock
) -> None:
    config, db = demo_database(tmp_path / "demo", clock)
    code = PROBE.format(heavy=(*HEAVY, "qrcode", "PIL"), config=str(config), db=str(db))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["rows"] > 0
    assert seen["first"] == []
    assert seen["ready"] is True
    assert {"sqlalchemy", "sqlmodel"} <= set(seen["after"])  # then the real context loaded


# --------------------------------------------------------------------------- the command line


LIST_ARGS = [
    [],
    ["--json"],
    ["--all", "--json"],
    ["--status", "new", "--status", "waiting"],
    ["--search", "projector", "--json"],
    ["--hall", "B202"],
    ["--limit", "3"],
]


@pytest.mark.parametrize("extra", LIST_ARGS)
def test_tickets_list_without_the_orm_prints_what_the_desk_would(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    import argparse

    from classroom_support import cli_tickets
    from classroom_support.cli import build_parser

    config, db = demo_database(tmp_path / "demo", clock)
    args = build_parser().parse_args(
        ["--config", str(config), "--db", str(db), "tickets", "list", *extra]
    )
    assert isinstance(args, argparse.Namespace)
    assert cli_tickets.list_without_orm(args) == 0
    lean = capsys.readouterr().out
    ctx = open_context(config, db, clock=clock)
    try:
        assert cli_tickets.cmd_list(ctx.config, ctx.desk.queue, args) == 0
    finally:
        ctx.close()
    assert capsys.readouterr().out == lean
    assert lean.strip()


CLI_PROBE = """
import contextlib, io, json, sys
from classroom_support.cli import main
out = io.StringIO()
try:
    with contextlib.redirect_stdout(out):
        code = main({argv!r})
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "heavy": sorted(m for m in {heavy!r} if m in sys.modules),
                   "lines": len(out.getvalue().splitlines())}}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["tickets", "list"], ["tickets", "list", "--json"]])
def test_help_and_tickets_list_stay_lean(
    tmp_path: Path, clock: FixedClock, argv: list[str]
) -> None:
    config, db = demo_database(tmp_path / "demo", clock)
    full = [*argv, "--config", str(config), "--db", str(db)] if argv[0] != "--help" else argv
    # `dataclasses` brings `inspect`, `ast` and `dis`: ~9 ms of a 20 ms command (records.py).
    lean = (*HEAVY, "textual", "pydantic", "dataclasses", "inspect")
    code = CLI_PROBE.format(argv=full, heavy=lean)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0 and seen["lines"] > 0
    assert seen["heavy"] == []


def test_constants_written_out_for_the_first_frame_match_their_sources() -> None:
    from classroom_support import app_sync, sync_live, sync_transport

    assert app_sync.LIVE_WAIT_S == sync_live.LIVE_WAIT_S
    assert sync_transport.token_path(Path("x.sqlite3")).name == "x.sqlite3.sync-token"
