"""The TUI's garbage-collection policy (heap.py): the command line's app freezes what start-up
built and holds full collections for quiet moments; tests' apps leave the collector alone."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from classroom_support import heap
from classroom_support.app import ClassroomSupportApp


@pytest.fixture
def young_collections() -> Iterator[Callable[[int], None]]:
    """Run n generation-1 collections (each counts towards the next full one)."""
    was = gc.isenabled()
    gc.disable()  # none of its own in between
    gc.collect()  # the count starts at 0

    def run(n: int) -> None:
        for _ in range(n):
            gc.collect(1)

    try:
        yield run
    finally:
        if was:
            gc.enable()


def test_a_full_collection_waits_for_a_quiet_moment(
    young_collections: Callable[[int], None],
) -> None:
    young_collections(heap.IDLE_MIN_GEN1)
    assert gc.get_count()[2] == heap.IDLE_MIN_GEN1
    assert not heap.collect_when_idle(heap.IDLE_S / 2)  # someone is typing
    assert gc.get_count()[2] == heap.IDLE_MIN_GEN1
    assert heap.collect_when_idle(heap.IDLE_S)
    assert gc.get_count()[2] == 0  # collected


def test_a_quiet_moment_with_little_garbage_costs_nothing(
    young_collections: Callable[[int], None],
) -> None:
    young_collections(heap.IDLE_MIN_GEN1 - 1)
    assert not heap.collect_when_idle(60.0)
    assert gc.get_count()[2] == heap.IDLE_MIN_GEN1 - 1


def test_apps_in_tests_leave_the_collector_alone(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app()
    assert not app.manage_heap


PROBE = """
import gc, json, sys
from classroom_support.app import ClassroomSupportApp

run = ClassroomSupportApp.run
seen = {{}}

def headless_run(self, *args, **kwargs):
    seen["held_before_run"] = not gc.isenabled()

    async def auto(pilot):
        for _ in range(3000):
            if self.ctx.ready and gc.get_freeze_count():
                break
            await pilot.pause(0.02)
        seen.update(
            manage_heap=self.manage_heap,
            frozen=gc.get_freeze_count(),
            full_after=gc.get_threshold()[2],
            enabled_once_up=gc.isenabled(),
        )
        self.exit()

    return run(self, headless=True, size=(80, 24), auto_pilot=auto)

ClassroomSupportApp.run = headless_run
from classroom_support.cli import main

code = main(["--config", {config!r}, "--db", {db!r}, "--lang", "en"])
print("SEEN " + json.dumps(seen), flush=True)
sys.exit(code)
"""


def test_the_command_line_app_freezes_what_start_up_built(tmp_path: Path) -> None:
    """In a process of its own (freezing is for the whole process): the app the command line
    starts holds the collector until its first frame and takes over its timing once the
    queue is up."""
    config = tmp_path / "config.toml"
    config.write_text('[ui]\nlanguage = "en"\n[device]\ntechnician = "Sami"\n', encoding="utf-8")
    probe = PROBE.format(config=str(config), db=str(tmp_path / "desk.sqlite3"))
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=180,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TERM": "dumb"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("SEEN "))
    seen = json.loads(line.removeprefix("SEEN "))
    assert seen["manage_heap"] is True
    # No collection while start-up builds the first frame; collected as usual once it is out.
    assert seen["held_before_run"] is True
    assert seen["enabled_once_up"] is True
    assert seen["frozen"] > 1000  # modules, styles, the widget tree
    assert seen["full_after"] == heap.FULL_AFTER
