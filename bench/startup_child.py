"""One measured start-up, run by bench/startup.py in a fresh interpreter. Not for humans.

    python bench/startup_child.py app  DB CONFIG   # the real app on the queue of DB
    python bench/startup_child.py app-orm-first DB CONFIG  # the same, context opened first
    python bench/startup_child.py bare             # an App with one Static and a Footer

"Painted" means: the first frame the compositor hands to the driver (`App._display`) whose text
contains the marker — the ref of the queue's first row for the app, the Static's text for the
bare app. The autopilot only waits for that and exits; it never drives a refresh itself.
Prints one line: RESULT_MARK + JSON. Times are `time.perf_counter()` values; on Linux that is
CLOCK_MONOTONIC, shared by all processes, so the parent's spawn time can be subtracted.
"""

import time

T_TOP = time.perf_counter()  # first statement: before any other import of this script

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

RESULT_MARK = "BENCH-RESULT "
SIZE = (120, 36)
PAINT_TIMEOUT_S = 120.0
BARE_TEXT = "bench: bare Textual app"
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "httpx", "apscheduler")


def peak_rss_kib() -> int:
    """This program's peak resident set (VmHWM), in KiB.

    Not `ru_maxrss`: Linux keeps a process's maxrss across fork and exec, so a child started
    by a big parent reports at least the parent's size. VmHWM belongs to the new address space.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def frame_text(update: Any) -> str:
    """The characters of one compositor update (full LayoutUpdate or partial ChopsUpdate)."""
    lines: list[str] = []
    strips = getattr(update, "strips", None)
    if strips is not None:
        for line in strips:
            lines.append("".join(strip.text for strip in line))
    for line in getattr(update, "chops", None) or ():
        lines.append("".join(strip.text for strip in line.values() if strip is not None))
    return "\n".join(lines)


def watch_paint(app: Any, marker: Callable[[], str | None], marks: dict[str, float]) -> Any:
    """Wrap this app instance's `_display`; set the returned event on the first painted marker."""
    painted = asyncio.Event()
    original = app._display
    frames = 0

    def _display(screen: Any, renderable: Any) -> None:
        nonlocal frames
        original(screen, renderable)
        # Same conditions under which a real driver would write the frame.
        if painted.is_set() or renderable is None or app._batch_count or not app._running:
            return
        frames += 1
        text = marker()
        if text and text in frame_text(renderable):
            marks["painted"] = time.perf_counter()
            # CPU seconds of this process from its start to the paint (one thread until then):
            # less sensitive than the wall clock to what other processes do on a shared machine.
            marks["painted_cpu"] = time.process_time()
            marks["frames"] = frames
            painted.set()
            if os.environ.get("BENCH_EXIT_AT_PAINT"):  # bench/startup_instructions.py
                os._exit(0)

    app._display = _display
    return painted


async def wait_then_exit(
    pilot: Any,
    painted: asyncio.Event,
    marks: dict[str, float],
    after_paint: Callable[[], Any] | None = None,
) -> None:
    try:
        await asyncio.wait_for(painted.wait(), PAINT_TIMEOUT_S)
    except TimeoutError:
        marks["timeout"] = 1.0
    if after_paint is not None:
        await after_paint()
    pilot.app.exit()


def run_bare(marks: dict[str, float]) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    class BareApp(App[None]):
        BINDINGS = [("ctrl+q", "quit", "Quit")]

        def compose(self) -> ComposeResult:
            yield Static(BARE_TEXT)
            yield Footer()

    marks["imported"] = time.perf_counter()
    app = BareApp()
    marks["constructed"] = time.perf_counter()
    painted = watch_paint(app, lambda: BARE_TEXT, marks)
    app.run(
        headless=True, size=SIZE, auto_pilot=lambda pilot: wait_then_exit(pilot, painted, marks)
    )
    return {}


def run_app(db: str, config: str, marks: dict[str, float], fast: bool = True) -> dict[str, Any]:
    # What classroom_support.cli.cmd_tui does: the collector held (heap.hold), `tui.make_app`
    # (the first frame from plain sqlite3, the real context opened after it; with fast=False
    # the context is opened first, the order before issue 13). The SLA monitor is off: its
    # first run records SLA events into the cached database, which would make every later run
    # read another database.
    from classroom_support import heap

    heap.hold()
    from classroom_support.tui import make_app

    marks["imported"] = time.perf_counter()
    app = make_app(config, db, start="queue", fast=fast, monitor=False, manage_heap=True)
    marks["constructed"] = time.perf_counter()
    from classroom_support.screens.queue import QueueScreen

    seen: dict[str, Any] = {"first_frame": not app.ctx.ready}

    def first_ref() -> str | None:
        screen = app.screen
        page = getattr(screen, "page", None)
        if isinstance(screen, QueueScreen) and page is not None and page.rows:
            if "heavy_at_paint" not in seen:
                seen["heavy_at_paint"] = sorted(m for m in HEAVY if m in sys.modules)
                sync = screen.query("#header-sync")
                seen["header_sync_at_paint"] = str(sync.first().render()) if sync else None
            seen["queue_total"] = page.total
            seen["first_ref"] = page.rows[0].ref
            return str(page.rows[0].ref)
        return None

    painted = watch_paint(app, first_ref, marks)

    async def then_ready() -> None:
        # After the first frame: until the real context is in (keys work from then on).
        seen["peak_rss_kib_at_paint"] = peak_rss_kib()
        for _ in range(int(PAINT_TIMEOUT_S / 0.005)):
            if app.ctx.ready:
                break
            await asyncio.sleep(0.005)
        marks["ready"] = time.perf_counter()

    try:
        app.run(
            headless=True,
            size=SIZE,
            auto_pilot=lambda pilot: wait_then_exit(pilot, painted, marks, then_ready),
        )
    finally:
        app.ctx.close()
    return seen


def main() -> int:
    variant = sys.argv[1]
    marks: dict[str, float] = {"top": T_TOP}
    if variant == "bare":
        extra = run_bare(marks)
    elif variant == "app":
        extra = run_app(sys.argv[2], sys.argv[3], marks)
    elif variant == "app-orm-first":
        extra = run_app(sys.argv[2], sys.argv[3], marks, fast=False)
    else:
        raise SystemExit(f"unknown variant {variant!r}")
    marks["exited"] = time.perf_counter()
    spawn = float(os.environ.get("BENCH_SPAWN_T", "nan"))
    result = {
        "variant": variant,
        "spawn": spawn,
        "marks": marks,
        "peak_rss_kib": peak_rss_kib(),
        "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "modules": len(sys.modules),
        "textual_imported": "textual" in sys.modules,
        **extra,
    }
    print(RESULT_MARK + json.dumps(result), flush=True)
    return 0 if "painted" in marks else 1


if __name__ == "__main__":
    raise SystemExit(main())
