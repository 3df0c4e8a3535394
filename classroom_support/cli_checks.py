"""Checks on the files a user names on the command line, made before anything is opened.

A path typed by hand that is wrong (a folder, a missing parent, a missing config) is a typo to
report in one line, not something to create or silently replace with defaults.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from classroom_support.i18n import tr

# Options whose value may start with "-" (a negative duration): argparse would read it as an
# option and print its usage; joined as `--target=-3h` it reaches our own one-line check.
_VALUE_OPTIONS = ("--target", "--weeks")


def join_dashed_values(argv: Sequence[str]) -> list[str]:
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        if item in _VALUE_OPTIONS and i + 1 < len(items) and items[i + 1].startswith("-"):
            out.append(f"{item}={items[i + 1]}")
            i += 2
            continue
        out.append(item)
        i += 1
    return out


def path_problem(args: argparse.Namespace) -> str | None:
    """One line naming what is wrong with --config, --db or --csv, or None."""
    config: Path | None = getattr(args, "config", None)
    if config is not None:
        if config.is_dir():
            return tr("cli.path.is_folder", option="--config", path=config)
        if not config.exists():
            return tr("cli.path.config_missing", path=config)
    for option, path in (
        ("--db", getattr(args, "db", None)),
        ("--csv", getattr(args, "csv", None)),
    ):
        if path is None or str(path) == "-":
            continue
        path = Path(path).expanduser()
        if path.is_dir():
            return tr("cli.path.is_folder", option=option, path=path)
        parent = path.parent
        if not parent.is_dir():
            return tr("cli.path.no_parent", option=option, path=path, folder=parent)
    return None


def fail(message: str, code: int = 2) -> int:
    """One line on stderr, and the exit code to return."""
    print(f"classroom-support: {message}", file=sys.stderr)
    return code
