"""`classroom-support check` and `classroom-support restore FROM`: the database's own health,
from the command line. Exit codes: 0 sound / restored, 1 problems found, 2 refused."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path


def build_check(check: argparse.ArgumentParser, common: Callable[..., None]) -> None:
    """The arguments of `check` (its parser and one-line help are made in cli.py)."""
    common(check, suppress=True)
    check.add_argument("--json", action="store_true", help="print the report as one JSON object")


def build_restore(restore: argparse.ArgumentParser, common: Callable[..., None]) -> None:
    """The arguments of `restore` (its parser and one-line help are made in cli.py)."""
    common(restore, suppress=True)
    restore.add_argument("source", metavar="FROM", type=Path, help="the backup file")
    restore.add_argument("--json", action="store_true", help="print the result as JSON")


def _database(args: argparse.Namespace) -> Path:
    from classroom_support.config import default_paths

    return default_paths(args.config, args.db).database


def run(args: argparse.Namespace) -> int:
    if args.command == "check":
        return cmd_check(args)
    return cmd_restore(args)


def cmd_check(args: argparse.Namespace) -> int:
    from classroom_support.db_check import check_database

    report = check_database(_database(args))
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    elif report.ok:
        print(
            f"ok: {report.path} (revision {report.revision}): integrity ok, "
            f"{report.tickets} ticket(s) equal the fold of their {report.events} event(s)"
        )
    else:
        for problem in report.problems:
            print(problem)
    return 0 if report.ok else 1


def cmd_restore(args: argparse.Namespace) -> int:
    from classroom_support.restore import RestoreRefused, restore_backup

    target = _database(args)
    try:
        result = restore_backup(args.source, target)
    except RestoreRefused as exc:
        print(f"classroom-support: nothing restored: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"classroom-support: restore failed: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    "database": str(result.database),
                    "restored_from": str(result.source),
                    "kept_aside": str(result.kept_aside) if result.kept_aside else None,
                    "tickets": result.tickets,
                    "revision": result.revision,
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"restored {result.source} → {result.database} ({result.tickets} ticket(s))")
    if result.kept_aside is not None:
        print(f"the previous database is kept at {result.kept_aside}")
    return 0
