"""The command line: the TUI by default, plus scripting commands that never import Textual."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from classroom_support.cli_checks import fail

TYPE_CHECKING = False  # typing is not imported for `--help` (annotations are strings)
if TYPE_CHECKING:
    from typing import Any


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
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
    _common(screen, suppress=True)
    screen.add_argument("--demo", action="store_true", default=argparse.SUPPRESS)
    screen.add_argument("--lang", choices=("ar", "en"), default=argparse.SUPPRESS)


def _sla_args(sla: argparse.ArgumentParser) -> None:
    ssub = sla.add_subparsers(dest="sla_command", required=True)
    due = ssub.add_parser(
        "due", help="when is a ticket logged at START due, and which windows count"
    )
    _common(due, suppress=True)
    due.add_argument(
        "start", help="ISO 8601 instant ('2026-11-28T15:00', local if no offset) or 'now'"
    )
    due.add_argument("--target", default=None, help="working time, e.g. 48h, 90m, 2h30m")
    due.add_argument("--hall", default=None, help="hall whose course sessions count")
    due.add_argument("--json", action="store_true")


def _breaches_args(breaches: argparse.ArgumentParser) -> None:
    _common(breaches, suppress=True)
    breaches.add_argument("--csv", type=Path, default=None, help="write the ledger to this file")
    breaches.add_argument("--json", action="store_true")


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
    ("sla", "SLA what-if questions", _sla_args),
    ("breaches", "the breach ledger (missed SLAs and their RCA)", _breaches_args),
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
    from classroom_support.cli_checks import (
        UsageError,
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
        if args.command == "sla":
            return cmd_sla(args)
        if args.command == "breaches":
            return cmd_breaches(args)
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
        # `tickets list | head`: the reader has gone. Exit quietly, as Unix tools do; point
        # stdout at /dev/null so the interpreter's final flush cannot complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _check_paths(args: argparse.Namespace) -> str | None:
    """Refuse a mistyped --config/--db/--csv before anything is created (not for `central`,
    whose options are the server's)."""
    if args.command == "central":
        return None
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


def parse_work(text: str) -> timedelta | None:
    """'48h', '90m', '2h30m', '1.5h' → working time; None when malformed."""
    import re

    match = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+)m)?\s*", text)
    if not match or not any(match.groups()):
        return None
    hours = float(match.group(1) or 0)
    minutes = int(match.group(2) or 0)
    return timedelta(hours=hours, minutes=minutes)


def parse_instant(text: str, zone: Any, now: datetime) -> datetime | None:
    if text.strip().lower() == "now":
        return now
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


def cmd_sla(args: argparse.Namespace) -> int:
    import json

    from classroom_support.context import open_context
    from classroom_support.i18n import tr
    from classroom_support.monitor import explain_json

    ctx = open_context(args.config, args.db, language=args.lang)
    try:
        zone = ctx.config.zone
        start = parse_instant(args.start, zone, ctx.clock.now())
        if start is None:
            return fail(f"START: '{args.start}' is not an ISO 8601 time like 2026-11-28T15:00")
        if args.target is None:
            target = timedelta(hours=ctx.config.first_response_hours)
        else:
            parsed = parse_work(args.target)
            if parsed is None or parsed <= timedelta(0):
                return fail(tr("cli.target_negative", target=args.target))
            target = parsed
        if args.hall is not None and ctx.config.hall_named(args.hall) is None:
            known = ", ".join(h.code for h in ctx.config.halls)
            return fail(f"--hall: '{args.hall}' is not one of the halls ({known})")
        cal = ctx.sla.calendar(args.hall or ctx.config.hall)
        due = cal.add(start, target)
        spans = cal.explain(start, due)
        hours = target.total_seconds() / 3600
        if args.json:
            print(
                json.dumps(
                    {
                        "start": start.astimezone(zone).isoformat(),
                        "target_hours": hours,
                        "due": due.astimezone(zone).isoformat(),
                        "due_utc": due.astimezone(UTC).isoformat(),
                        "timezone": ctx.config.timezone,
                        "windows": explain_json(spans, zone),
                    },
                    ensure_ascii=False,
                )
            )
            return 0
        print(f"start:  {start.astimezone(zone):%Y-%m-%d %H:%M %Z}  (+{hours:g} working hours)")
        print(
            f"due:    {due.astimezone(zone):%a %Y-%m-%d %H:%M %Z}  "
            f"= {due.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        )
        print("counted:")
        for sp in spans:
            a, b = sp.start.astimezone(zone), sp.end.astimezone(zone)
            what = f"course: {sp.label}" if sp.source == "session" else "opening hours"
            print(
                f"  {a:%a %Y-%m-%d %H:%M}–{b:%H:%M}  {sp.duration.total_seconds() / 3600:g}h"
                f"  {what}"
            )
        return 0
    finally:
        ctx.close()


def cmd_breaches(args: argparse.Namespace) -> int:
    import json

    from classroom_support.context import open_context
    from classroom_support.i18n import tr
    from classroom_support.reports import breach_rows, write_breach_csv
    from classroom_support.textsafe import visible

    ctx = open_context(args.config, args.db, language=args.lang)
    try:
        ctx.sla.run(notify=False)  # record what is due now before reporting
        if args.csv is not None:
            try:
                count = write_breach_csv(ctx, args.csv)
            except OSError as exc:
                return fail(tr("cli.csv_failed", path=args.csv, error=exc.strerror or exc))
            print(f"{count} breach(es) written to {args.csv}")
            return 0
        rows = breach_rows(ctx)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False))
            return 0
        for r in rows:
            rca = r["rca_cause"] if r["rca_recorded"] else "RCA MISSING"
            print(
                f"{r['ref']:<10} {'+'.join(r['clocks']):<28} due {r['due_local']}  {rca:<12} "
                f"{visible(r['title'], single_line=True, limit=50)}"
            )
        if not rows:
            print("No breaches.")
        return 0
    finally:
        ctx.close()


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
        from classroom_support.tui import make_app  # Textual only for the TUI

        app = make_app(args.config, db_path, args.lang, start=start)
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
