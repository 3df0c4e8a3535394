"""The new-ticket form's crash-safe draft: a killed app offers the typed ticket back."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.context import AppContext
from classroom_support.drafts import TicketDraftFile, draft_path
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.ticket_form import NewTicketScreen
from classroom_support.tickets import QueueQuery

SIZE = (120, 36)

# Types a ticket into the real TUI (headless), waits for the draft, then is SIGKILLed: no
# unmount, no clean-up, exactly what a power cut or `kill -9` leaves.
KILLED_TUI = """
import asyncio, os, signal, sys
from classroom_support.app import ClassroomSupportApp
from classroom_support.context import open_context
from classroom_support.drafts import TicketDraftFile
from classroom_support.screens.ticket_form import NewTicketScreen

NewTicketScreen.DRAFT_DELAY_S = 0.01

async def main() -> None:
    ctx = open_context(sys.argv[1], sys.argv[2])
    app = ClassroomSupportApp(ctx, cursor_blink=False, monitor=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("n", *"Projector dead", "tab", *"12", "tab", "2")
        deadline = asyncio.get_running_loop().time() + 60  # a busy machine is slow, never wrong
        while asyncio.get_running_loop().time() < deadline:
            await pilot.pause()
            kept = TicketDraftFile(ctx.db.path).load()
            if kept and kept["values"]["category"] == "pc":
                print("typed", flush=True)
                break
            await asyncio.sleep(0.02)
        os.kill(os.getpid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_a_killed_app_offers_the_unsaved_ticket_at_the_next_start(
    make_ctx: Callable[..., AppContext],
) -> None:
    ctx = make_ctx()
    config = ctx.paths.config_file
    child = subprocess.run(
        [sys.executable, "-c", KILLED_TUI, str(config), str(ctx.db.path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL and "typed" in child.stdout, child.stderr
    kept = TicketDraftFile(ctx.db.path).load()
    assert kept is not None
    assert (kept["values"]["title"], kept["values"]["seat"]) == ("Projector dead", "12")
    assert kept["values"]["category"] == "pc"

    app = ClassroomSupportApp(ctx, cursor_blink=False, monitor=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("unsaved ticket" in str(n.message) for n in app._notifications)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NewTicketScreen)
        assert app.screen.query_one("#title", Input).value == "Projector dead"
        assert app.screen.query_one("#seat", Input).value == "12"
        error = str(app.screen.query_one("#form-error", Static).render())
        assert "Restored the unsaved ticket" in error
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
    [ticket] = ctx.desk.queue(QueueQuery()).rows
    assert (ticket.title, ticket.seat, ticket.category) == ("Projector dead", "12", "pc")
    assert not draft_path(ctx.db.path).exists()  # saved: the draft is gone


async def test_discarding_the_form_removes_the_draft(
    make_app: Callable[..., ClassroomSupportApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(NewTicketScreen, "DRAFT_DELAY_S", 0.01)
    app = make_app()
    path = draft_path(app.ctx.db.path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", *"typed then thrown away")
        for _ in range(100):  # until the draft is written (bounded; no time is asserted)
            if path.exists():
                break
            await pilot.pause(0.02)
        assert path.exists()
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert not path.exists()


def test_the_draft_file_is_replaced_whole_and_a_damaged_one_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    drafts = TicketDraftFile(db)
    assert drafts.load() is None
    assert drafts.keep({"title": "first", "seat": ""})
    assert drafts.keep({"title": "جهاز العرض لا يعمل", "seat": "12"})
    kept = drafts.load()
    assert kept is not None and kept["values"] == {"title": "جهاز العرض لا يعمل", "seat": "12"}
    assert [p.name for p in tmp_path.iterdir()] == [draft_path(db).name]  # no temp files left
    for damaged in (b"{not json", b"[]", b'{"values": {"title": 3}}', b"\xff\xfe"):
        draft_path(db).write_bytes(damaged)
        assert drafts.load() is None
    drafts.clear()
    drafts.clear()
    assert not draft_path(db).exists()


def test_a_draft_on_a_full_disk_fails_quietly_and_keeps_the_old_one(tiny_disk: Path) -> None:
    from disk_support import fill_disk

    drafts = TicketDraftFile(tiny_disk / "db.sqlite3")
    assert drafts.keep({"title": "short"})
    filler = fill_disk(tiny_disk)
    try:
        assert not drafts.keep({"title": "x" * 100_000})
        kept = drafts.load()
        assert kept is not None and kept["values"] == {"title": "short"}
        assert sorted(p.name for p in tiny_disk.iterdir()) == sorted(
            [draft_path(tiny_disk / "db.sqlite3").name, filler.name]
        )
    finally:
        filler.unlink()
