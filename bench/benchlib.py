"""Shared helpers for the benchmarks: paths, statistics, machine notes and result files.

Stdlib only, and no import of classroom_support: the start-up child must not pay for it.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sqlite3
import statistics
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DATA = BENCH_DIR / ".data"  # git-ignored: cached databases, temp dirs, result files
RESULTS = DATA / "results"
# A config path that never exists: every run uses the built-in defaults (hall A101, Arabic UI),
# never the developer's own config file.
NO_CONFIG = DATA / "no-config.toml"


def ensure_data_dir() -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    if NO_CONFIG.exists():
        raise SystemExit(f"{NO_CONFIG} must not exist: the benchmarks use the default config")
    return DATA


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100] (same as numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": statistics.median(values),
        "mean": statistics.fmean(values),
        "min": min(values),
        "max": max(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
    }


def command_line() -> str:
    """The command that started this process, with paths inside the repo made repo-relative."""
    argv = list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    shown = []
    for arg in argv:
        path = Path(arg)  # not resolve(): .venv/bin/python is a symlink to the base interpreter
        if path.is_absolute() and path.is_relative_to(REPO):
            arg = str(path.relative_to(REPO))
        shown.append(arg)
    return shlex.join(shown)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _filesystem(path: Path) -> str:
    try:
        out = subprocess.run(
            ["df", "--output=fstype", str(path)], capture_output=True, text=True, check=True
        ).stdout.split()
        return out[-1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "absent"


def git_state() -> dict[str, Any]:
    """The commit measured, and whether the app's code differed from it (uncommitted edits)."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    dirty = git("status", "--porcelain", "--", "classroom_support", "styles", "pyproject.toml")
    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "app_code_dirty": bool(dirty),
    }


def machine_info() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "loadavg_at_start": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "textual": _version("textual"),
        "sqlalchemy": _version("SQLAlchemy"),
        "sqlmodel": _version("sqlmodel"),
        "data_dir_fs": _filesystem(DATA if DATA.exists() else REPO),
        **git_state(),
    }


def write_results(name: str, data: dict[str, Any], explicit: Path | None = None) -> Path:
    """Save under bench/.data/results/ (timestamped and `NAME-latest.json`), or at `explicit`."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{name}-{stamp}.json").write_text(text, encoding="utf-8")
    (RESULTS / f"{name}-latest.json").write_text(text, encoding="utf-8")
    if explicit is not None:
        explicit.parent.mkdir(parents=True, exist_ok=True)
        explicit.write_text(text, encoding="utf-8")
        return explicit
    return RESULTS / f"{name}-latest.json"


def verdict(value: float, goal: float) -> str:
    return "MET" if value <= goal else "NOT MET"


def met(value: float, goal: float) -> str:
    """The verdict `make bench` prints for a goal "value <= goal"."""
    return "met" if value <= goal else "not met"


def print_machine(info: dict[str, Any]) -> None:
    print(
        f"# {info['date_utc']} · {info['cpus']} CPUs ({info['cpu_model']}), shared · "
        f"load {info['loadavg_at_start']} · Python {info['python']} · SQLite {info['sqlite']} · "
        f"Textual {info['textual']} · SQLAlchemy {info['sqlalchemy']} · fs {info['data_dir_fs']}"
    )
    dirty = " + uncommitted changes to the app" if info.get("app_code_dirty") else ""
    print(f"# code: commit {info.get('commit')}{dirty}")
