"""One whole draw of the queue's table, against Textual's own DataTable drawing the same cells.

    .venv/bin/python bench/table_draw.py                 # 40 draws of each, both languages
    .venv/bin/python bench/table_draw.py --draws 20 --lang en

The app (`ClassroomSupportApp`, monitor off) on the 100,000-ticket database of bench/startup.py
(20,000 open in A101), headless at 120x36, the queue's first page in its table. A draw is
`render_lines` over the table's whole region with every cache of the table emptied first (the
row, cell, line and style caches): what a full repaint costs, the first frame's or the one after
a cell changes (`update_cell` makes every cached line stale). Baseline, same process: a plain
`DataTable` in a bare app of the same size, holding the same column labels, widths and cells
(`Content`), drawn the same way. The two alternate after one discarded pass; medians. In Arabic
the queue's table is mirrored (widgets/table.py) and the baseline is not: a ratio there includes
the mirroring.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from benchlib import (
    NO_CONFIG,
    command_line,
    ensure_data_dir,
    machine_info,
    print_machine,
    write_results,
)
from startup import DOMAIN_TICKETS, Recipe, build_database

SIZE = (120, 36)


def empty_caches(table: Any) -> None:
    for cache in (
        table._row_render_cache,
        table._cell_render_cache,
        table._line_cache,
        table._row_renderable_cache,
    ):
        cache.clear()
    table._styles_cache.clear()


def draw(table: Any) -> float:
    from textual.geometry import Region

    empty_caches(table)
    region = Region(0, 0, table.size.width, table.size.height)
    started = time.perf_counter()
    table.render_lines(region)
    return (time.perf_counter() - started) * 1000


async def measure(path: Path, language: str, draws: int) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from classroom_support import i18n
    from classroom_support.tui import make_app

    app = make_app(NO_CONFIG, path, language=language, monitor=False, cursor_blink=False)
    timings: dict[str, list[float]] = {"app": [], "baseline": []}
    async with app.run_test(size=SIZE) as pilot:
        while not app.ctx.ready:  # the real desk in, the whole page in the table
            await pilot.pause(0.05)
        await pilot.pause()
        ours = app.screen.query_one("#queue", DataTable)
        columns = [(c.label, c.width) for c in ours.ordered_columns]
        rows = [ours.get_row_at(i) for i in range(ours.row_count)]

        class Bare(App[None]):
            def compose(self) -> ComposeResult:
                yield DataTable(cursor_type="row", zebra_stripes=True)

        bare = Bare()
        async with bare.run_test(size=SIZE) as bare_pilot:
            plain = bare.query_one(DataTable)
            for label, width in columns:
                plain.add_column(label, width=width)
            for i, cells in enumerate(rows):
                plain.add_row(*cells, key=str(i))
            await bare_pilot.pause()
            draw(ours), draw(plain)  # one discarded pass
            for r in range(draws):
                order = (("app", ours), ("baseline", plain))
                for name, table in order if r % 2 else order[::-1]:
                    timings[name].append(draw(table))
            lines = plain.size.height
        i18n.set_language("en")
    app_ms, base_ms = (statistics.median(timings[k]) for k in ("app", "baseline"))
    return {
        "language": language,
        "lines": lines,
        "rows_in_table": len(rows),
        "app_median_ms": round(app_ms, 2),
        "baseline_median_ms": round(base_ms, 2),
        "ratio_to_baseline": round(app_ms / base_ms, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--lang", choices=("en", "ar", "both"), default="both")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    ensure_data_dir()
    recipe = Recipe(100_000, 20_000, DOMAIN_TICKETS)
    path, _meta = build_database(recipe)
    out: dict[str, Any] = {
        "benchmark": "table_draw",
        "command": command_line(),
        "machine": machine_info(),
        "cases": [],
    }
    for language in ("en", "ar") if args.lang == "both" else (args.lang,):
        out["cases"].append(asyncio.run(measure(path, language, args.draws)))
    print()
    print_machine(out["machine"])
    print(f"# command: {out['command']}")
    print(f"\nThe queue's table drawn whole, caches emptied, {SIZE[0]}x{SIZE[1]} (median ms):")
    for c in out["cases"]:
        print(
            f"  {c['language']}: app {c['app_median_ms']:.2f} ms, DataTable with the same "
            f"cells {c['baseline_median_ms']:.2f} ms (x{c['ratio_to_baseline']}; "
            f"{c['lines']} lines, {c['rows_in_table']} rows)"
        )
    print(f"\nresults: {write_results('table_draw', out, args.json)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
