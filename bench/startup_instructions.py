"""Start-up to the first painted queue counted in instructions (valgrind), against the bare app.

    .venv/bin/python bench/startup_instructions.py              # 2 pairs (about 2 minutes)
    .venv/bin/python bench/startup_instructions.py --pairs 1 --variants app,bare,app-synced

A diagnostic beside `bench/startup.py`, not an issue 13 line: the wall clock of this shared
machine moves a start-up by ±20 %, so a change worth 1–3 % of it needs dozens of interleaved
runs to be seen. The number of instructions a child executes until its first painted frame
(callgrind's `Ir`, the child of `bench/startup_child.py` with BENCH_EXIT_AT_PAINT=1) moves by
about 0.1 % from run to run, and it is what the code itself does: it leaves out the disk, the
caches and the other processes, which the wall-clock bench keeps.

One caveat: under valgrind a child runs ~50 times slower, so its timers (the countdowns' one
second) fire more often before the paint than in a real start. The variants of a pair run at
the same time, so they are slowed alike; compare within a pair. Needs `valgrind` (Debian
package of the same name; not needed by the tests or `make bench`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchlib import NO_CONFIG, REPO
from startup import (
    CHILD,
    DOMAIN_TICKETS,
    Recipe,
    build_database,
    child_env,
    demo_database,
    synced_database,
)


def instructions(argv: list[str]) -> int:
    """Instructions one child executes from its start to its first painted frame."""
    env = child_env() | {"BENCH_EXIT_AT_PAINT": "1", "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(CHILD),
                *argv,
            ],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=900,
        )
        for line in out.read_text().splitlines():
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError(f"no instruction count for {argv}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=2, help="runs of each variant")
    parser.add_argument(
        "--variants", default="app,bare", help="run side by side; the last one is the baseline"
    )
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        parser.error("needs valgrind (apt-get install valgrind)")
    recipe = Recipe(100_000, 20_000, DOMAIN_TICKETS)
    path, meta = build_database(recipe)
    available = {
        "app": ["app", str(path), str(NO_CONFIG)],
        "app-demo": ["app", str(demo_database()), str(NO_CONFIG)],
        "app-synced": ["app", str(synced_database(path, meta)), str(NO_CONFIG)],
        "bare": ["bare"],
    }
    wanted = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(wanted) - available.keys()
    if unknown or len(wanted) < 2:
        parser.error(f"need two or more of {sorted(available)}")
    # Bytecode first, as bench/startup.py's warm-up does: no variant compiles its modules.
    for variant in wanted:
        subprocess.run(
            [sys.executable, str(CHILD), *available[variant]],
            env=child_env() | {"BENCH_EXIT_AT_PAINT": "1"},
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            check=False,
        )
    counts: dict[str, list[int]] = {v: [] for v in wanted}
    for pair in range(args.pairs):
        with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            counted = pool.map(lambda v: instructions(available[v]), wanted)
            done = dict(zip(wanted, counted, strict=True))
        base = done[wanted[-1]]
        shown = ", ".join(
            f"{v} {n / 1e6:,.1f} M ({n / base:.3f}×)" for v, n in done.items() if v != wanted[-1]
        )
        print(f"pair {pair + 1}: {shown}; {wanted[-1]} {base / 1e6:,.1f} M", flush=True)
        for variant, n in done.items():
            counts[variant].append(n)
    base = statistics.median(counts[wanted[-1]])
    for variant in wanted[:-1]:
        median = statistics.median(counts[variant])
        print(
            f"{variant}: {median / 1e6:,.1f} M instructions to the first painted queue, "
            f"{median / base:.3f}× {wanted[-1]} ({base / 1e6:,.1f} M)"
        )
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    raise SystemExit(main())
