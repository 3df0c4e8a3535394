"""`classroom-support report`: the managers' figures as a table, JSON or CSV (no Textual)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

DEFAULT_WEEKS = 4


def build_parser(report: argparse.ArgumentParser, common: Callable[..., None]) -> None:
    """The arguments of `report` (its parser and one-line help are made in cli.py)."""
    common(report, suppress=True)
    # Text, checked here: argparse would print its usage for a non-number.
    report.add_argument("--weeks", default=str(DEFAULT_WEEKS), help="weeks back (1-104)")
    report.add_argument("--hall", default=None, help="only this hall's tickets")
    report.add_argument("--json", action="store_true", help="print one JSON object")
    report.add_argument("--csv", type=Path, default=None, help="write CSV here ('-': stdout)")


def _fail(message: str) -> int:
    print(f"classroom-support: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from classroom_support import context
    from classroom_support.i18n import tr
    from classroom_support.performance_report import MAX_WEEKS, build_report, halls_in_data

    try:
        weeks = int(args.weeks)
    except ValueError:
        weeks = 0
    if not 1 <= weeks <= MAX_WEEKS:
        return _fail(tr("report.bad_weeks", value=args.weeks, max=MAX_WEEKS))
    if args.json and args.csv is not None:
        return _fail(tr("report.json_or_csv"))
    ctx = context.open_context(args.config, args.db, language=args.lang)
    try:
        if args.hall is not None:
            known = sorted({h.code for h in ctx.config.halls} | set(halls_in_data(ctx.db)))
            if args.hall not in known:
                return _fail(tr("report.bad_hall", hall=args.hall, known=", ".join(known)))
        ctx.sla.run(notify=False)  # the breaches that are due are recorded, as `breaches` does
        report = build_report(ctx, weeks=weeks, hall=args.hall)
    finally:
        ctx.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return 0
    if args.csv is not None:
        return write_csv(report, args.csv)
    print_table(report, sys.stdout)
    return 0


def write_csv(report: Any, path: Path) -> int:
    from classroom_support.i18n import tr
    from classroom_support.performance_report import csv_rows

    rows = csv_rows(report)
    if str(path) == "-":
        csv.writer(sys.stdout).writerows(rows)
        return 0
    try:
        with path.open("w", newline="", encoding="utf-8-sig") as handle:  # BOM: Excel, Arabic
            csv.writer(handle).writerows(rows)
    except OSError as exc:
        return _fail(tr("cli.csv_failed", path=path, error=exc.strerror or exc))
    print(tr("report.csv_written", rows=len(rows) - 1, path=path))
    return 0


def print_table(report: Any, out: TextIO) -> None:
    from classroom_support.i18n import tr
    from classroom_support.performance_report import duration_text, group_title, share_text
    from classroom_support.textsafe import visible

    zone = report.zone
    out.write(
        tr(
            "report.heading",
            weeks=len(report.weeks),
            zone=zone.key,
            now=report.generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        )
        + "\n"
    )
    if not report.has_data:
        out.write(tr("report.no_data") + "\n")
        return
    columns = [
        tr("report.col.week"),
        tr("report.col.within"),
        tr("report.col.breaches"),
        tr("report.col.median"),
    ]
    widths = [
        max(12, len(columns[0]) + 1),
        max(16, len(columns[1]) + 2),
        max(10, len(columns[2]) + 2),
    ]

    def line(cells: list[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells, widths, strict=False)]
        return "  " + "".join(padded) + cells[-1]

    for group in report.groups:
        if group.dimension == "hall" and len(report.halls) < 2:
            continue  # one hall: its figures are the ones above
        title = group_title(group, report.hall)
        out.write("\n" + visible(title, single_line=True) + "\n")
        out.write(line(columns) + "\n")
        for week, figures in zip(report.weeks, group.weeks, strict=True):
            start = week.start.isoformat() + ("*" if week.partial else "")
            out.write(
                line(
                    [
                        start,
                        share_text(figures),
                        str(figures.breaches),
                        duration_text(figures.median_first_response),
                    ]
                )
                + "\n"
            )
        total = group.total
        out.write(
            line(
                [
                    tr("report.total"),
                    share_text(total),
                    str(total.breaches),
                    duration_text(total.median_first_response),
                ]
            )
            + "\n"
        )
        if group.awaiting:
            out.write("  " + tr("report.awaiting", count=group.awaiting) + "\n")
    out.write("\n" + tr("report.footnote") + "\n")
