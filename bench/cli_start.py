"""The scripting commands' start-up: `--help` and `tickets list`, against `python -c "import
sqlite3"` (issue 13, item 1: `tickets list` <= 2x that baseline).

    .venv/bin/python bench/cli_start.py                      # 15 runs each, 100k tickets
    .venv/bin/python bench/cli_start.py --runs 5

Each run is a fresh process timed from spawn to exit (wall clock, stdout to /dev/null), the
variants interleaved in a rotating order after one discarded warm-up each; medians reported.
The children may write bytecode (`PYTHONDONTWRITEBYTECODE` is dropped from their environment,
the files go to bench/.data/pycache): the warm-up compiles the modules once, as an installed
package has them compiled, instead of every run compiling the project's from source.
`console script` is the installed entry point (`.venv/bin/classroom-support`), the others
`python -m classroom_support.cli`.
`tickets list` lists the open tickets of hall A101 (its default: up to 1,000 of 20,000) on the
database that bench/startup.py builds. "via the ORM" runs the same command's code with
`TicketDesk.queue` (the path before issue 13), for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchlib import (
    DATA,
    REPO,
    command_line,
    machine_info,
    print_machine,
    summary,
    verdict,
    write_results,
)

GOAL_RATIO = 2.0
ORM_LIST = (
    "import sys; from classroom_support.cli import build_parser; "
    "from classroom_support import cli_tickets; from classroom_support.context import "
    "open_context; a = build_parser().parse_args(sys.argv[1:]); "
    "c = open_context(a.config, a.db); cli_tickets.cmd_list(c.config, c.desk.queue, a); c.close()"
)


def commands(db: Path) -> dict[str, list[str]]:
    py = sys.executable
    cli = [py, "-m", "classroom_support.cli"]
    script = str(Path(py).parent / "classroom-support")  # the installed entry point
    paths = ["--db", str(db)]  # no config file: the defaults (the CLI refuses a missing one)
    return {
        "baseline": [py, "-c", "import sqlite3"],
        "--help": [*cli, "--help"],
        "tickets list": [*cli, *paths, "tickets", "list"],
        "tickets list, console script": [script, *paths, "tickets", "list"],
        "tickets list --json": [*cli, *paths, "tickets", "list", "--json"],
        "tickets list via the ORM": [py, "-c", ORM_LIST, *paths, "tickets", "list"],
    }


def child_env() -> dict[str, str]:
    """No developer config: an empty home under bench/.data."""
    home = DATA / "cli-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLASSROOM_SUPPORT", "XDG_"))}
    # The warm-up leaves bytecode (in bench/.data, as bench/startup.py's children do): every run
    # starts from .pyc files, as an installed program does.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
    env.update(XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"))
    return env


def run_once(argv: list[str], env: dict[str, str]) -> float:
    """Spawn to exit. `wait()` without a timeout blocks in waitpid; with one (as
    `subprocess.run(timeout=...)` does) it polls with sleeps growing to 50 ms, which rounded
    every time up to the next poll (a 20 ms baseline read as 32 ms). A timer kills a hung child."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        code = proc.wait()
    finally:
        watchdog.cancel()
    elapsed = (time.perf_counter() - started) * 1000
    if code != 0:
        raise subprocess.CalledProcessError(code, argv)
    return elapsed


def measure(variants: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    names = list(variants)
    env = child_env()
    for name in names:  # warm-up: page cache, .pyc files
        run_once(variants[name], env)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(runs):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(run_once(variants[name], env))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    from startup import DOMAIN_TICKETS, Recipe, build_database

    recipe = Recipe(args.tickets, args.open, min(DOMAIN_TICKETS, args.tickets))
    db, _meta = build_database(recipe)
    result: dict[str, Any] = {
        "benchmark": "cli_start",
        "command": command_line(),
        "machine": machine_info(),
        "runs": args.runs,
    }
    times = measure(commands(db), args.runs)
    base = statistics.median(times["baseline"])
    cases = {}
    for name, values in times.items():
        med = statistics.median(values)
        cases[name] = {
            "ms": {k: round(v, 1) for k, v in summary(values).items()},
            "ratio_to_baseline": round(med / base, 2),
        }
    result["cases"] = cases
    ratio = cases["tickets list"]["ratio_to_baseline"]
    result["goal_ratio"] = GOAL_RATIO
    result["goal_verdict"] = verdict(ratio, GOAL_RATIO)
    print()
    print_machine(result["machine"])
    print(f"# command: {result['command']}")
    print(f"\nProcess spawn to exit, median of {args.runs} (ms):")
    for name, case in cases.items():
        ms = case["ms"]
        print(
            f"  {name:<29} {ms['median']:7.1f}  (min {ms['min']:6.1f}, max {ms['max']:7.1f})"
            f"  x{case['ratio_to_baseline']:.2f} baseline"
        )
    print(
        f"  tickets list / baseline = {ratio:.2f}x; goal <= {GOAL_RATIO}x: {result['goal_verdict']}"
    )
    saved = write_results("cli_start", result, args.json)
    print(f"\nresults: {saved.relative_to(REPO) if saved.is_relative_to(REPO) else saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
