"""The command line: the TUI by default, plus scripting commands that never import Textual.

`tickets list` is first offered to `cli_list_fast` (no argparse), so this module imports only
`sys` before `main` runs: argparse and the rest are imported by the functions that use them.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing is not imported for `--help` (annotations are strings)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    import argparse
    from pathlib import Path

    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--config",
        type=Path,
        default=default,
        help="configuration file (default: platform config dir; env CLASSROOM_SUPPORT_CONFIG)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=default,
        help="SQLite database (default: platform data dir; env CLASSROOM_SUPPORT_DB)",
    )


def _screen_args(screen: argparse.ArgumentParser) -> None:
    import argparse

    _common(screen, suppress=True)
    screen.add_argument("--demo", action="store_true", default=argparse.SUPPRESS)
    screen.add_argument("--lang", choices=("ar", "en"), default=argparse.SUPPRESS)


def _in(module: str, builder: str, *common: object) -> Callable[[argparse.ArgumentParser], None]:
    """A subcommand's arguments, added by `builder` of `module`, imported only to build them."""

    def build(parser: argparse.ArgumentParser) -> None:
        from importlib import import_module

        getattr(import_module(f"classroom_support.{module}"), builder)(parser, *common)

    return build


# Every subcommand in `--help` order: its name, its one-line help, and what adds its arguments
# (run only for the subcommand that is used: cli_checks.CommandParser).
COMMANDS: tuple[tuple[str, str, Callable[[argparse.ArgumentParser], None]], ...] = (
    ("locate", "print the config, data and log paths", lambda p: _common(p, suppress=True)),
    ("qr", "open the TUI on the trainee QR codes (web form, WhatsApp)", _screen_args),
    ("kiosk", "open the TUI in full-screen QR kiosk mode, for a projector", _screen_args),
    (
        "tickets",
        "log, list, show and act on tickets from scripts",
        _in("cli_tickets", "build_parser", _common),
    ),
    ("sla", "SLA what-if questions", _in("sla_cli", "build_sla", _common)),
    (
        "breaches",
        "the breach ledger (missed SLAs and their RCA)",
        _in("sla_cli", "build_breaches", _common),
    ),
    (
        "connect",
        "set this laptop up for sync: central URL and device token",
        _in("sync_cli", "build_connect", _common),
    ),
    (
        "sync",
        "push this laptop's changes and pull the central ones",
        _in("sync_cli", "build_sync", _common),
    ),
    (
        "check",
        "integrity check plus the fold check; one line per problem",
        _in("db_cli", "build_check", _common),
    ),
    (
        "restore",
        "replace the database with a backup (the current one is kept aside)",
        _in("db_cli", "build_restore", _common),
    ),
    (
        "report",
        "first responses within target, breaches and the median first response per week",
        _in("report_cli", "build_parser", _common),
    ),
    (
        "central",
        "the central server: serve the sync API, devices",
        _in("central.cli", "build_parser"),
    ),
)


def build_parser() -> argparse.ArgumentParser:
    from classroom_support.cli_checks import CommandParser

    parser = CommandParser(
        prog="classroom-support",
        description="Classroom support desk: log, track and hand on trainees' problems offline.",
    )
    _common(parser, suppress=False)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the app on a throwaway database filled with demo data",
    )
    parser.add_argument("--lang", choices=("ar", "en"), help="interface language for this run")
    sub = parser.add_subparsers(dest="command")
    for name, text, build in COMMANDS:
        sub.add_parser(name, help=text, build=build)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (`argv`, else the process's): `tickets list` by its fast path when
    that recognises it, everything else (and an explicit `argv`) by the parser below."""
    if argv is None:
        from classroom_support.cli_list_fast import run as list_fast

        code = list_fast(sys.argv[1:])
        if code is not None:
            return code
    from classroom_support.cli_checks import (
        UsageError,
        fail,
        join_dashed_values,
        usage_language,
        usage_message,
    )

    words = join_dashed_values(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(words)
        if extra and args.command == "tickets":  # `tickets ...` says it in one line
            raise UsageError(
                f"{parser.prog} tickets {args.tickets_command}",
                f"unrecognized arguments: {' '.join(extra)}",
            )
        if extra:  # as parse_args would
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except UsageError as exc:
        usage_language(words)
        return fail(usage_message(exc.command, exc.detail))
    from classroom_support.config_model import ConfigError  # not for `--help`
    from classroom_support.db_plain import DatabaseError  # no SQLAlchemy

    try:
        problem = _check_paths(args)
        if problem:
            return fail(problem)
        if args.command == "locate":
            return cmd_locate(args)
        if args.command == "tickets":
            from classroom_support import cli_tickets

            return cli_tickets.run(args)
        if args.command in ("sla", "breaches"):
            from classroom_support import sla_cli

            return sla_cli.run(args)
        if args.command in ("connect", "sync"):
            from classroom_support import sync_cli

            return sync_cli.run(args)
        if args.command == "report":
            from classroom_support import report_cli

            return report_cli.run(args)
        if args.command in ("check", "restore"):
            from classroom_support import db_cli

            return db_cli.run(args)
        if args.command == "central":
            from classroom_support.central import cli as central_cli

            return central_cli.run(args)
        if args.command in ("qr", "kiosk"):
            return cmd_tui(args, start="trainee" if args.command == "qr" else "kiosk")
        return cmd_tui(args)
    except (ConfigError, DatabaseError) as exc:
        print(f"classroom-support: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        from classroom_support.cli_list_fast import quiet_broken_pipe

        return quiet_broken_pipe()  # `tickets list | head`: exit quietly, as Unix tools do


def _check_paths(args: argparse.Namespace) -> str | None:
    """Refuse a mistyped --config/--db/--csv before anything is created (not for `central`,
    whose options are the server's)."""
    if args.command == "central":
        return None
    import argparse

    from classroom_support import i18n
    from classroom_support.cli_checks import path_problem

    if args.lang:
        i18n.set_language(args.lang)
    if args.config is not None:
        problem = path_problem(argparse.Namespace(config=args.config))
        if problem:
            return problem
    from classroom_support.context import load_settings

    load_settings(args.config, args.db, args.lang)  # the configured language for the message
    return path_problem(args)


def cmd_locate(args: argparse.Namespace) -> int:
    from classroom_support.config import default_paths

    paths = default_paths(args.config, args.db)
    missing = "" if paths.config_file.exists() else "  (not created; defaults in use)"
    no_logs = "" if paths.log_dir.is_dir() else "  (not created yet: the TUI and `sync` write here)"
    print(f"config:   {paths.config_file}{missing}")
    print(f"data:     {paths.database}")
    print(f"backups:  {paths.backup_dir}")
    print(f"logs:     {paths.log_dir}{no_logs}")
    return 0


def cmd_tui(args: argparse.Namespace, start: str = "queue") -> int:
    import logging
    import shutil
    import tempfile
    from pathlib import Path

    from classroom_support.cli_checks import fail
    from classroom_support.context import load_settings, open_context
    from classroom_support.logfile import start_log
    from classroom_support.screens.keymap_check import keymap_problem

    problem = keymap_problem(load_settings(args.config, args.db, args.lang)[0].keymap)
    if problem:  # before the screen is taken over: a key that would silently do nothing
        return fail(problem)
    db_path = args.db
    folder = Path(tempfile.mkdtemp(prefix="classroom-support-demo-")) if args.demo else None
    try:
        if folder is not None:
            db_path = folder / "demo.sqlite3"
        if folder is not None:
            from classroom_support.demo import fill_demo

            ctx = open_context(args.config, db_path, language=args.lang)
            fill_demo(ctx)
            ctx.close()
        from classroom_support import heap

        heap.hold()  # until the first frame is out (app_start.py)
        from classroom_support.tui import make_app  # Textual only for the TUI

        app = make_app(args.config, db_path, args.lang, start=start, manage_heap=True)
        paths = app.ctx.paths
        start_log(paths.log_dir)
        logging.getLogger("classroom_support").info("start: database %s", paths.database)
        try:
            app.run()
        finally:
            app.ctx.close()
        if app.start_error is not None:  # the real context failed after the first frame
            raise app.start_error
    finally:
        if folder is not None:  # throwaway: the demo leaves nothing behind
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
