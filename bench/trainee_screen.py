"""Opening the trainee QR screen: from pressing `q` on the queue to the screen painted.

    .venv/bin/python bench/trainee_screen.py                 # 30 repeats at 120x36 and 80x24
    .venv/bin/python bench/trainee_screen.py --repeats 10    # quicker

One headless app (120x36, then 80x24) on a demo database (a course session running, so the
web-form link carries its session). In the same run, interleaved, two things are opened by a
key press on the queue and closed with Esc:

- trainee: `q` -> `TraineeScreen` (link building, QR matrices, layout, two codes drawn);
- trivial: `z` -> a screen with one line of text (the baseline: what any screen switch costs).

The clock starts just before the key press and stops at the first frame the compositor hands to
the driver (`App._display`, the same hook as bench/startup.py) that shows the new screen: for the
trainee screen, a frame holding its QR half-blocks and its title; for the trivial one, its text.
"trainee (cold)" clears `qr.qr_matrix`'s cache before each press (new codes every time, as after
a seat or language change); "trainee (warm)" keeps it (reopening the same codes). Goal: the
cold median <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import (
    NO_CONFIG,
    command_line,
    ensure_data_dir,
    machine_info,
    print_machine,
    summary,
    verdict,
    write_results,
)

GOAL_MS = 100.0
TRIVIAL_TEXT = "bench: trivial screen"
SIZES = ((120, 36), (80, 24))


def frame_text(update: Any) -> str:
    lines: list[str] = []
    for line in getattr(update, "strips", None) or ():
        lines.append("".join(strip.text for strip in line))
    for line in getattr(update, "chops", None) or ():
        lines.append("".join(strip.text for strip in line.values() if strip is not None))
    return "\n".join(lines)


async def measure(size: tuple[int, int], repeats: int, warmup: int) -> dict[str, Any]:
    from textual.binding import Binding
    from textual.screen import Screen
    from textual.widgets import Static

    from classroom_support import i18n, qr
    from classroom_support.app import ClassroomSupportApp
    from classroom_support.clock import FixedClock
    from classroom_support.context import open_context
    from classroom_support.demo import fill_demo
    from classroom_support.screens.trainee_qr import TraineeScreen

    class Trivial(Screen[None]):
        BINDINGS = [Binding("escape", "app.pop_screen", id="bench-back")]

        def compose(self) -> Any:
            yield Static(TRIVIAL_TEXT)

    class BenchApp(ClassroomSupportApp):
        BINDINGS = [Binding("z", "trivial", id="bench-trivial")]

        def action_trivial(self) -> None:
            self.push_screen(Trivial())

    folder = Path(tempfile.mkdtemp(prefix="qr-bench-", dir=ensure_data_dir()))
    # 10:30 in Riyadh on a demo day: the morning course is in session.
    clock = FixedClock(datetime(2026, 11, 28, 7, 30, tzinfo=UTC))
    ctx = open_context(NO_CONFIG, folder / "db.sqlite3", clock=clock)
    i18n.set_language("ar")
    fill_demo(ctx)
    app = BenchApp(ctx, cursor_blink=False, monitor=False)
    title = i18n.display(i18n.tr("qr.title"))

    state: dict[str, Any] = {"want": None, "at": None}
    original = app._display

    def _display(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        want = state["want"]
        if want is not None and state["at"] is None and want(frame_text(renderable)):
            state["at"] = time.perf_counter()

    app._display = _display  # type: ignore[method-assign]

    def trainee_painted(text: str) -> bool:
        return "▀" in text and title[:12] in text

    def trivial_painted(text: str) -> bool:
        return TRIVIAL_TEXT in text

    times: dict[str, list[float]] = {"trivial": [], "trainee (cold)": [], "trainee (warm)": []}
    async with app.run_test(size=size) as pilot:
        await pilot.pause()

        async def open_once(key: str, want: Any, screen_type: type) -> float:
            state["want"], state["at"] = want, None
            start = time.perf_counter()
            await pilot.press(key)
            deadline = start + 10
            while state["at"] is None and time.perf_counter() < deadline:
                await asyncio.sleep(0.0005)
            assert state["at"] is not None, f"{key}: no frame showed the screen"
            assert isinstance(app.screen, screen_type)
            elapsed = (state["at"] - start) * 1000
            state["want"] = None
            await pilot.press("escape")
            await pilot.pause()
            return elapsed

        order = ["trivial", "trainee (cold)", "trainee (warm)"]
        for round_ in range(warmup + repeats):
            rotated = order[round_ % 3 :] + order[: round_ % 3]
            for name in rotated:
                if name == "trivial":
                    ms = await open_once("z", trivial_painted, Trivial)
                else:
                    if name == "trainee (cold)":
                        qr.qr_matrix.cache_clear()
                        qr._encode.cache_clear()
                    ms = await open_once("q", trainee_painted, TraineeScreen)
                if round_ >= warmup:
                    times[name].append(ms)
        await pilot.press("q")
        await pilot.pause()
        plan = app.screen.plan  # type: ignore[attr-defined]
    ctx.close()
    cases = {name: summary(values) for name, values in times.items()}
    base = cases["trivial"]["median"]
    for case in cases.values():
        case["ratio_to_trivial"] = round(case["median"] / base, 2)
    cold = cases["trainee (cold)"]["median"]
    return {
        "size": f"{size[0]}x{size[1]}",
        "layout": f"{plan.arrangement}, {plan.per_page} per page" if plan else "",
        "cases": cases,
        "goal_ms": GOAL_MS,
        "verdict": verdict(cold, GOAL_MS),
        "raw_ms": {k: [round(v, 2) for v in vs] for k, vs in times.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    info = machine_info()
    print_machine(info)
    print(f"# {command_line()}")
    results = []
    for size in SIZES:
        result = asyncio.run(measure(size, args.repeats, args.warmup))
        results.append(result)
        print(f"\n{result['size']} ({result['layout']}), medians of {args.repeats}:")
        for name, case in result["cases"].items():
            print(
                f"  {name:<16} median {case['median']:7.2f} ms  p90 {case['p90']:7.2f} ms  "
                f"(x{case['ratio_to_trivial']} trivial)"
            )
        print(f"  goal: trainee (cold) median <= {GOAL_MS:.0f} ms: {result['verdict']}")
    data = {
        "command": command_line(),
        "machine": info,
        "repeats": args.repeats,
        "results": results,
    }
    path = write_results("trainee_screen", data, args.json)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
