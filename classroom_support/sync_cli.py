"""`classroom-support connect` and `classroom-support sync`: sync without the TUI (for cron).

Exit codes of `sync`: 0 synced, 2 bad setup (not connected, token refused, conflict),
3 offline or server busy (try later), 4 synced but some items are parked (see the reason).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def build_connect(connect: argparse.ArgumentParser, common: Callable[..., None]) -> None:
    """The arguments of `connect` (its parser and one-line help are made in cli.py)."""
    common(connect, suppress=True)
    connect.add_argument("url", help="the central server, e.g. https://support.khit.sa")
    connect.add_argument(
        "--token-file",
        type=Path,
        required=True,
        help="file holding the device token from `central add-device` ('-' reads stdin)",
    )
    connect.add_argument(
        "--reset",
        action="store_true",
        help="a different server: forget acknowledgements and the cursor, resend everything",
    )
    connect.add_argument("--no-check", action="store_true", help="do not contact the server now")


def build_sync(sync: argparse.ArgumentParser, common: Callable[..., None]) -> None:
    """The arguments of `sync` (its parser and one-line help are made in cli.py)."""
    common(sync, suppress=True)
    sync.add_argument("--json", action="store_true", help="print counts as one JSON object")
    ssub = sync.add_subparsers(dest="sync_command")
    parked = ssub.add_parser("parked", help="the items the server refused, with its reason (F6)")
    common(parked, suppress=True)
    parked.add_argument("--json", action="store_true", help="print them as a JSON list")
    retry = ssub.add_parser(
        "retry-parked", help="put the parked items back in the outbox and sync (F6, r)"
    )
    common(retry, suppress=True)
    retry.add_argument("--json", action="store_true", help="print the sync counts as JSON")


def _read_token(source: Path) -> str:
    if str(source) == "-":
        return sys.stdin.readline().strip()
    return source.read_text(encoding="utf-8").strip()


def run(args: argparse.Namespace) -> int:
    from classroom_support.context import open_context
    from classroom_support.logfile import start_log
    from classroom_support.sync import SyncClient, token_hint

    ctx = open_context(args.config, args.db, language=args.lang)
    start_log(ctx.paths.log_dir)  # cron runs leave the same trace as the TUI
    try:

        def device_changed() -> None:
            ctx.desk._device = None

        client = SyncClient(ctx.db, ctx.config, ctx.clock, on_device_change=device_changed)
        if args.command == "connect":
            try:
                token = _read_token(args.token_file)
            except (OSError, UnicodeDecodeError) as exc:
                return _fail(f"--token-file: cannot read {args.token_file}: {exc}")
            try:
                client.configure(args.url, token, reset=args.reset)
            except ValueError as exc:
                return _fail(str(exc))
            url = client.state().central_url
            print(
                f"sync set up: {url}; token {token_hint(token)} saved to {client.token_file} "
                "(readable by you only)"
            )
            if args.no_check:
                return 0
            report = client.check()
            if report.outcome == "ok":
                state = client.state()
                where = "all halls" if state.all_halls else f"halls {state.halls}"
                print(
                    f"the server knows this laptop as '{state.device_name}' ({state.role}, {where})"
                )
                return 0
            if report.exit_code == 3:
                print(
                    f"could not reach it now ({report.message}); `classroom-support sync` retries"
                )
                return 0
            return _fail(report.message)
        sub = getattr(args, "sync_command", None)
        if sub == "parked":
            return _print_parked(client, ctx.config.zone, as_json=args.json)
        if sub == "retry-parked":
            from classroom_support.i18n import tr

            count = client.retry_parked()
            print(tr("synclog.retried", count=count), file=sys.stderr if args.json else sys.stdout)
            if not count:
                return 0
        report = client.sync()
        if report.calendar_changed:
            ctx.sla.calendar_changed()
        if args.json:
            print(json.dumps(report.as_json(), ensure_ascii=False))
        else:
            print(_summary(report))
        if report.exit_code == 2 and not args.json:
            print(f"classroom-support: {report.message}", file=sys.stderr)
        skew = _skew_warning(report.skew_ms, report.clock_anchor)
        if skew:  # on stderr, so cron mails it even when stdout is kept for --json
            print(skew, file=sys.stderr)
        return report.exit_code
    finally:
        ctx.close()


def _print_parked(client: Any, zone: Any, *, as_json: bool) -> int:
    """What the sync log screen (F6) lists: each refused item with the server's reason."""
    from classroom_support.i18n import tr
    from classroom_support.textsafe import visible

    rows = client.parked()
    if as_json:
        items = [
            {
                "item_id": row.item_id,
                "kind": row.item_kind,
                "event": event.kind if event is not None else None,
                "ref": ref or None,
                "status_code": row.status_code,
                "reason": row.reason,
                "parked_at": row.parked_at.isoformat(),
            }
            for row, event, ref in rows
        ]
        print(json.dumps(items, ensure_ascii=False))
        return 0
    if not rows:
        print(tr("synclog.no_parked"))
        return 0
    for row, event, ref in rows:
        kind = tr(f"event.{event.kind}") if event is not None else tr(f"synclog.{row.item_kind}")
        when = row.parked_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        print(
            f"{ref or row.item_id[:8]:<10} {when}  {kind}  {row.status_code or ''}  "
            f"{visible(row.reason, single_line=True)}"
        )
    return 0


def _summary(report: Any) -> str:
    counts = (
        f"pushed {report.pushed} ({report.duplicates} already there), pulled {report.pulled}, "
        f"parked {report.parked_total}, pending {report.pending}"
    )
    if report.outcome in ("ok", "parked"):
        text = f"{report.outcome}: {counts}; cursor {report.cursor}"
        if report.parked_total:
            text += " — `classroom-support sync parked` (or F6 in the TUI) shows the reasons"
        return text
    retry = f"; next try after {report.retry_at:%H:%M:%S} UTC" if report.retry_at else ""
    return f"{report.outcome}: {report.message}{retry} ({counts})"


def _skew_warning(skew_ms: int | None, anchor: Any) -> str:
    """One line when this laptop's clock is off by more than the correction threshold."""
    from classroom_support.clock import CORRECTION_THRESHOLD_MS
    from classroom_support.i18n import tr

    error_ms = anchor.error_ms if anchor is not None else 0
    if skew_ms is None or abs(skew_ms) <= max(CORRECTION_THRESHOLD_MS, error_ms):
        return ""
    seconds = round(abs(skew_ms) / 1000)
    hours, rest = divmod(seconds, 3600)
    duration = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    key = "sync.clock_behind" if skew_ms > 0 else "sync.clock_ahead"
    return tr(key, duration=duration, error=f"{error_ms / 1000:.1f}")


def _fail(message: str, code: int = 2) -> int:
    print(f"classroom-support: {message}", file=sys.stderr)
    return code
