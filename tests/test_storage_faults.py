"""A disk that cannot take a write (full, I/O error, read-only, locked) never costs typed work:
the core raises one StorageError, the form keeps the text, the CLI says one line."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import pin_device
from disk_support import file_hashes, fill_disk, remount, truncate_wal
from sqlalchemy import event
from textual.widgets import Input, Static

from classroom_support import db as db_module
from classroom_support.app import ClassroomSupportApp
from classroom_support.cli import main
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext, open_context
from classroom_support.db import StorageError
from classroom_support.models import DeviceIdentity
from classroom_support.screens.prompts import TextPrompt
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.screens.ticket_form import NewTicketScreen
from classroom_support.tickets import QueueQuery, TicketDraft

SIZE = (120, 36)
CONFIG = '[ui]\nlanguage = "en"\n[device]\ntechnician = "Sami"\n'


@pytest.fixture
def open_on(tmp_path: Path, clock: FixedClock) -> Iterator[Callable[[Path], AppContext]]:
    """A context whose database lives at the given path (config stays on the normal disk)."""
    opened: list[AppContext] = []
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")

    def factory(db_path: Path) -> AppContext:
        ctx = open_context(config, db_path, clock=clock)
        with ctx.db.read() as s:
            pinned = s.get(DeviceIdentity, 1) is not None
        if not pinned:
            pin_device(ctx)
        opened.append(ctx)
        return ctx

    yield factory
    for ctx in opened:
        ctx.close()


def count_created(ctx: AppContext) -> int:
    with ctx.db.read() as s:
        return (
            s.connection()
            .exec_driver_sql("SELECT count(*) FROM ticket_event WHERE kind = 'created'")
            .scalar_one()
        )


def static_text(app: ClassroomSupportApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


class InjectedFault:
    """Makes every INSERT/UPDATE/DELETE on a database's connections fail as SQLite reports a sick
    disk. Injected in the driver (`sqlite3`), under both SQLAlchemy and the statements that go to
    the driver directly (`Database.write_driver`): from now on the engine opens connections of a
    class whose statements raise, and the ones it held are closed."""

    def __init__(self, ctx: AppContext, code: int, name: str, message: str) -> None:
        self.engine = ctx.db.engine
        self.error = (code, name, message)
        self.active = True
        fault = self

        class FaultyCursor(sqlite3.Cursor):
            def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
                fault.check(sql)
                return super().execute(sql, parameters)

            def executemany(self, sql: str, seq: Any, /) -> sqlite3.Cursor:
                fault.check(sql)
                return super().executemany(sql, seq)

        class FaultyConnection(sqlite3.Connection):
            def cursor(self, factory: Any = FaultyCursor) -> Any:
                return super().cursor(factory)

            def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
                return self.cursor().execute(sql, parameters)

            def executemany(self, sql: str, seq: Any, /) -> sqlite3.Cursor:
                return self.cursor().executemany(sql, seq)

        self.connection_class = FaultyConnection
        event.listen(self.engine, "do_connect", self.connect)
        self.engine.dispose()

    def connect(self, _dialect: Any, _record: Any, cargs: Any, cparams: Any) -> sqlite3.Connection:
        return sqlite3.connect(*cargs, **cparams, factory=self.connection_class)

    def check(self, statement: str) -> None:
        if self.active and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            code, name, message = self.error
            exc = sqlite3.OperationalError(message)
            exc.sqlite_errorcode = code  # type: ignore[attr-defined]
            exc.sqlite_errorname = name  # type: ignore[attr-defined]
            raise exc

    def heal(self) -> None:
        self.active = False
        event.remove(self.engine, "do_connect", self.connect)
        self.engine.dispose()


# --------------------------------------------------------------------------- full disk (real)


async def test_full_disk_keeps_the_typed_ticket_and_saves_it_once_space_is_back(
    tiny_disk: Path, open_on: Callable[[Path], AppContext]
) -> None:
    db_path = tiny_disk / "db.sqlite3"
    ctx = open_on(db_path)
    app = ClassroomSupportApp(ctx, cursor_blink=False, monitor=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", *"Projector dead", "tab", *"12")
        truncate_wal(db_path)
        filler = fill_disk(tiny_disk)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, NewTicketScreen)  # still open: nothing was thrown away
        assert "disk is full" in static_text(app, "#form-error")
        assert "Ctrl+S" in static_text(app, "#form-error")
        assert app.screen.query_one("#title", Input).value == "Projector dead"
        assert app.screen.query_one("#seat", Input).value == "12"
        assert count_created(ctx) == 0

        filler.unlink()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        rows = ctx.desk.queue(QueueQuery()).rows
        assert [(t.title, t.seat, t.ref) for t in rows] == [("Projector dead", "12", "TEST-1")]
        assert count_created(ctx) == 1
    assert app.return_code in (None, 0)
    integrity = sqlite3.connect(db_path).execute("PRAGMA integrity_check").fetchone()[0]
    assert integrity == "ok"


@pytest.mark.parametrize("held_open", [True, False], ids=["app-open", "nothing-open"])
def test_cli_add_on_a_full_disk_says_one_line_and_fails(
    tiny_disk: Path, tmp_path: Path, held_open: bool
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db_path = tiny_disk / "db.sqlite3"
    base = [sys.executable, "-m", "classroom_support.cli", "--config", str(config)]
    args = [*base, "--db", str(db_path), "tickets", "add", "--title"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    first = subprocess.run([*args, "first"], capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    holder = None
    if held_open:  # as when the TUI has the database open: -wal and -shm exist
        holder = sqlite3.connect(db_path)
        holder.execute("SELECT count(*) FROM ticket").fetchone()
        truncate_wal(db_path)
    filler = fill_disk(tiny_disk)
    try:
        done = subprocess.run(
            [*args, "second"], capture_output=True, text=True, env=env, timeout=120
        )
    finally:
        filler.unlink()
        if holder is not None:
            holder.close()
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert re.search(r"The disk holding .* is full: free some space", lines[0]), lines[0]
    assert "Traceback" not in done.stderr
    listed = subprocess.run(
        [*base, "--db", str(db_path), "tickets", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert '"first"' in listed.stdout and '"second"' not in listed.stdout


# --------------------------------------------------------------------------- read-only (real)


def test_read_only_file_system_is_a_storage_error_and_nothing_changes(
    tiny_disk: Path, open_on: Callable[[Path], AppContext], capsys: pytest.CaptureFixture[str]
) -> None:
    # A disk the kernel remounted read-only after errors; SQLite cannot even open the -wal.
    db_path = tiny_disk / "db.sqlite3"
    ctx = open_on(db_path)
    ctx.desk.create(TicketDraft(title="before"))
    ctx.close()
    before = file_hashes(tiny_disk)
    remount(tiny_disk, "ro")
    try:
        with pytest.raises(StorageError) as caught:
            open_on(db_path).desk.create(TicketDraft(title="while read-only"))
        assert caught.value.kind == "readonly"
        assert "read-only" in str(caught.value)
        config = str(db_path.parent.parent / "config.toml")
        code = main(["--config", config, "--db", str(db_path), "tickets", "add", "--title", "x"])
        out, err = capsys.readouterr()
        assert code != 0 and out == ""
        assert len(err.strip().splitlines()) == 1 and "read-only" in err
    finally:
        remount(tiny_disk, "rw")
    assert file_hashes(tiny_disk) == before
    ctx = open_on(db_path)
    ctx.desk.create(TicketDraft(title="after"))
    assert sorted(t.title for t in ctx.desk.queue(QueueQuery()).rows) == ["after", "before"]


# --------------------------------------------------------------------------- locked (real)


def test_locked_beyond_the_busy_timeout_is_a_storage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_on: Callable[[Path], AppContext],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)
    db_path = tmp_path / "db.sqlite3"
    ctx = open_on(db_path)
    ctx.desk.create(TicketDraft(title="before"))
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        with pytest.raises(StorageError) as caught:
            ctx.desk.create(TicketDraft(title="while locked"))
        assert caught.value.kind == "locked"
        code = main(
            [
                "--config",
                str(tmp_path / "config.toml"),
                "--db",
                str(db_path),
                "tickets",
                "add",
                "--title",
                "from cli",
            ]
        )
        out, err = capsys.readouterr()
        assert code != 0 and out == ""
        assert len(err.strip().splitlines()) == 1 and "Another program has held" in err
    finally:
        other.rollback()
        other.close()
    ctx.desk.create(TicketDraft(title="after"))
    assert sorted(t.title for t in ctx.desk.queue(QueueQuery()).rows) == ["after", "before"]


# --------------------------------------------------------------------------- injected faults


@pytest.mark.parametrize(
    ("code", "name", "message", "kind"),
    [
        (778, "SQLITE_IOERR_WRITE", "disk I/O error", "io"),
        (8, "SQLITE_READONLY", "attempt to write a readonly database", "readonly"),
        (5, "SQLITE_BUSY", "database is locked", "locked"),
        (13, "SQLITE_FULL", "database or disk is full", "full"),
        (11, "SQLITE_CORRUPT", "database disk image is malformed", "corrupt"),
    ],
)
def test_every_write_path_turns_a_sick_disk_into_one_storage_error(
    ctx: AppContext, code: int, name: str, message: str, kind: str
) -> None:
    ref = ctx.desk.create(TicketDraft(title="kept")).ref
    fault = InjectedFault(ctx, code, name, message)
    for change in (
        lambda: ctx.desk.create(TicketDraft(title="lost?")),
        lambda: ctx.desk.respond(ref, "on my way"),
        lambda: ctx.desk.add_note(ref, "a note"),
        lambda: ctx.desk.resolve(ref, "fixed"),
    ):
        with pytest.raises(StorageError) as caught:
            change()
        assert caught.value.kind == kind
    fault.heal()
    assert [t.status for t in ctx.desk.queue(QueueQuery()).rows] == ["new"]
    ctx.desk.respond(ref, "on my way")
    assert ctx.desk.get(ref).status == "in_progress"


def test_a_constraint_error_is_not_mistaken_for_a_sick_disk(ctx: AppContext) -> None:
    fault = InjectedFault(ctx, 2067, "SQLITE_CONSTRAINT_UNIQUE", "UNIQUE constraint failed")
    try:
        with pytest.raises(Exception) as caught:
            ctx.desk.create(TicketDraft(title="x"))
        assert not isinstance(caught.value, StorageError)
    finally:
        fault.heal()


async def test_detail_response_is_asked_again_with_the_text_when_the_disk_fails(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app()
    ref = app.ctx.desk.create(TicketDraft(title="No sound")).ref
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, TicketDetailScreen)
        fault = InjectedFault(app.ctx, 778, "SQLITE_IOERR_WRITE", "disk I/O error")
        await pilot.press("r", *"Checking the speakers", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)  # asked again, text kept
        assert app.screen.query_one("#prompt-input", Input).value == "Checking the speakers"
        assert "Not saved" in static_text(app, "#prompt-error")
        assert app.ctx.desk.get(ref).status == "new"
        fault.heal()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketDetailScreen)
        ticket = app.ctx.desk.get(ref)
        assert ticket.status == "in_progress"
        # A status change without text: a message, no crash, the ticket unchanged.
        fault = InjectedFault(app.ctx, 13, "SQLITE_FULL", "database or disk is full")
        await pilot.press("w", *"gone to lunch", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await pilot.press("escape")
        await pilot.pause()
        fault.heal()
        assert app.ctx.desk.get(ref).status == "in_progress"
    assert app.return_code in (None, 0)


async def test_sla_monitor_keeps_running_when_the_disk_refuses(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app()
    app.ctx.desk.create(TicketDraft(title="old problem"))
    app.ctx.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    async with app.run_test(size=SIZE) as pilot:
        fault = InjectedFault(app.ctx, 13, "SQLITE_FULL", "database or disk is full")
        result = await app.check_sla()  # the breach cannot be recorded: said, not raised
        await pilot.pause()
        assert result.alerts == []
        assert any("disk" in str(n.message) for n in app._notifications)
        fault.heal()
        result = await app.check_sla()
        assert {a.kind for a in result.alerts} >= {"sla_breached"}
    assert app.return_code in (None, 0)
