"""`classroom-support sla due` and `classroom-support breaches`: SLA what-if questions and the
breach ledger from scripts (their arguments are built only when one of them runs, cli.COMMANDS).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from classroom_support.cli_checks import fail


def build_sla(sla: argparse.ArgumentParser, common: Callable[..., None]) -> None:
    ssub = sla.add_subparsers(dest="sla_command", required=True)
    due = ssub.add_parser(
        "due", help="when is a ticket logged at START due, and which windows count"
    )
    common(due, suppress=True)
    due.add_argument(
        "start", help="ISO 8601 instant ('2026-11-28T15:00', local if no offset) or 'now'"
    )
    due.add_argument("--target", default=None, help="working time, e.g. 48h, 90m, 2h30m")
    due.add_argument("--hall", default=None, help="hall whose course sessions count")
    due.add_argument("--json", action="store_true")


def build_breaches(breaches: argparse.ArgumentParser, common: Callable[..., None]) -> None:
    common(breaches, suppress=True)
    breaches.add_argument("--csv", type=Path, default=None, help="write the ledger to this file")
    breaches.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    if args.command == "sla":
        return cmd_sla(args)
    return cmd_breaches(args)


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
