"""Run every benchmark (each in its own process) and print one summary. `make bench` runs this.

    .venv/bin/python bench/run_all.py              # full: 7 start-up runs, 2,000 creates
    .venv/bin/python bench/run_all.py --quick      # 3 runs, 500 creates, 5 queue repeats
    .venv/bin/python bench/run_all.py --whatif     # also the queue index what-if
    .venv/bin/python bench/run_all.py --no-sla     # skip bench/sla.py and edit_frames.py
    .venv/bin/python bench/run_all.py --no-sync    # skip bench/sync.py (~2 min of a full run)
    .venv/bin/python bench/run_all.py --no-webform # skip bench/webform.py (~15 s)

Results of each script land in bench/.data/results/ (see each script's docstring); write them
up in docs/benchmarks.md with the commands printed here.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import BENCH_DIR, REPO, RESULTS, command_line, machine_info, print_machine


def run_script(name: str, flags: list[str], out: Path) -> tuple[str, dict[str, Any]]:
    argv = [sys.executable, str(BENCH_DIR / f"{name}.py"), *flags, "--json", str(out)]
    shown = shlex.join([".venv/bin/python", f"bench/{name}.py", *flags])
    print(f"\n=== {shown}", flush=True)
    subprocess.run(argv, cwd=REPO, check=True)
    return shown, json.loads(out.read_text(encoding="utf-8"))


def print_sla(cmd: str, sl: dict[str, Any]) -> None:
    print(f"\nSLA  [{cmd}]")
    tp = sl.get("throughput")
    if tp:
        weekly, full = tp["cases"]["weekly only"], tp["cases"]["full calendar"]
        if "ratio_add_vs_pandas" in weekly:
            print(
                f"  weekly add(48 h) {weekly['per_s']['add']:,}/s vs pandas "
                f"{weekly['pandas_best_per_s']:,}/s = {weekly['ratio_add_vs_pandas']}x; "
                f"goal >= 10x: {tp['goal_ratio_verdict']}"
            )
        print(
            f"  full calendar add {full['per_s']['add']:,}/s, between {full['per_s']['between']:,}"
            f"/s; goal >= 100,000/s: {tp['goal_full_verdict']}"
        )
    rc = sl.get("recompute")
    if rc:
        for name, v in rc["variants"].items():
            edit = v["edit_tomorrow_ms"]
            print(
                f"  calendar edit (a course tomorrow), {name}: {edit['median']:.0f} ms for "
                f"{edit['checked']} of {v['checked']:,} open tickets (reading the open rows "
                f"alone {v['read_ms']['median']:.0f} ms); full recompute (sync) "
                f"{v['calendar_changed_ms']['median']:.0f} ms"
            )
        print(
            f"  calendar edit recompute, slowest {rc['edit_worst_median_ms']:.0f} ms; goal <= "
            f"{rc['goal_ms']:g} ms: {rc['goal_verdict'].lower()}"
        )
    idle = sl.get("idle")
    if idle:
        pcts = ", ".join(
            f"{name} {p['cpu_pct_of_one_core']:.2f} %" for name, p in idle["processes"].items()
        )
        print(
            f"  idle CPU over {idle['window_s']:.0f} s: {pcts}; goal app <= 3 %: "
            f"{idle['goal_verdict'].lower()}"
        )


def print_frames(cmd: str, fr: dict[str, Any]) -> None:
    gap, after = fr["frame_gap_max_ms"], fr["recompute_to_result_ms"]
    print(f"\nFrames while a calendar edit is saved, 20,000 open  [{cmd}]")
    print(
        f"  longest gap between frames: idle {gap['idle']:.0f} ms (baseline), save a session "
        f"{gap['save']:.0f} ms (result after {after['save']:.0f} ms), full recompute in the "
        f"worker {gap['full']:.0f} ms, recompute on the UI thread {gap['ui_thread']:.0f} ms"
    )
    print(f"  save a session, longest gap <= 50 ms: {fr['goal_verdict']}")


def print_pages(cmd: str, qp: dict[str, Any]) -> None:
    print(f"\nQueue pages, 20,000 open  [{cmd}]")
    print(
        f"  baseline bare sqlite3, the screen's columns of 100 rows by rowid "
        f"{qp['baseline_median_ms']:.2f} ms (every column "
        f"{qp.get('baseline_all_columns_median_ms', float('nan')):.2f} ms)"
    )
    for name, c in qp["cases"].items():
        print(
            f"    {name:<34} {c['median_ms']:7.2f} ms  (x{c['ratio_to_baseline']} baseline); "
            f"goal <= {c['goal_ms']:g} ms: {c['verdict']}"
        )
    print(
        f"  every page <= 10 ms: {qp['goal_pages_verdict']}; ref search <= 5 ms: "
        f"{qp['goal_ref_verdict']}; word search of the open tickets <= 10 ms: "
        f"{qp.get('goal_word_verdict', '-')}"
    )


def print_sync(cmd: str, sy: dict[str, Any]) -> None:
    runs, n = sy["runs"], sy["events"]
    print(f"\nSync with the central server, {n} events  [{cmd}]")
    for name in ("batched", "per_event", "batched_latency"):
        r = runs[name]
        print(
            f"  push {name:<16} {r['push_s']:7.2f} s  {n / r['push_s']:8.0f} events/s "
            f"({r['requests']} requests)"
        )
    p = runs["pull"]
    print(f"  pull {p['pulled']} events {p['pull_s']:.2f} s")
    print(
        f"  batched vs one request per event: {sy['ratio_per_event_over_batched']}x, goal >= "
        f"{sy['goal_ratio']:g}x: {sy['goal_ratio_verdict']}; through +50 ms "
        f"{runs['batched_latency']['push_s']:.2f} s, goal <= {sy['goal_latency_s']:g} s: "
        f"{sy['goal_latency_verdict']}"
    )


def print_webform(cmd: str, wf: dict[str, Any]) -> None:
    lat = wf["latency"]
    g, p = lat["get_form_ms"], lat["post_to_durable_ticket_ms"]
    print(f"\nWeb form  [{cmd}]")
    print(
        f"  GET /form p50 {g['p50']:.2f} ms p99 {g['p99']:.2f}; POST to durable ticket p50 "
        f"{p['p50']:.2f} ms p99 {p['p99']:.2f} (x{lat['ratio_post_over_get']['p50']} of GET)"
    )
    for name, case in wf["load"].items():
        print(f"  load, {name}: {case['statuses']} in {case['seconds']} s: {case['verdict']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs: a smoke test")
    parser.add_argument("--runs", type=int, help="start-up runs per variant (default 7; quick 3)")
    parser.add_argument("--creates", type=int, help="creates of each kind (default 2000; 500)")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--whatif", action="store_true", help="also run bench/queue_whatif.py")
    parser.add_argument("--no-sla", action="store_true", help="skip bench/sla.py")
    parser.add_argument("--no-sync", action="store_true", help="skip bench/sync.py")
    parser.add_argument("--no-webform", action="store_true", help="skip bench/webform.py")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 7)
    creates = args.creates or (500 if args.quick else 2000)
    repeats = 5 if args.quick else 15
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = RESULTS / f"run_all-{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    size = ["--tickets", str(args.tickets), "--open", str(args.open)]

    startup_cmd, st = run_script(
        "startup",
        ["--runs", str(runs), "--queue-repeats", str(repeats), *size],
        folder / "startup.json",
    )
    cli_cmd, cli = run_script(
        "cli_start", ["--runs", "5" if args.quick else "15", *size], folder / "cli.json"
    )
    create_cmd, cr = run_script(
        "create_latency", ["--creates", str(creates), "--profile", "500"], folder / "create.json"
    )
    pages_cmd, pages = run_script(
        "queue_pages", ["--repeats", str(repeats // 3 * 2 + 1), *size], folder / "pages.json"
    )
    sla: tuple[str, dict[str, Any]] | None = None
    if not args.no_sla:
        sla = run_script("sla", [*(["--quick"] if args.quick else []), *size], folder / "sla.json")
    frames: tuple[str, dict[str, Any]] | None = None
    if not args.no_sla:
        frames = run_script(
            "edit_frames", ["--repeats", "2" if args.quick else "5", *size], folder / "frames.json"
        )
    sync: tuple[str, dict[str, Any]] | None = None
    if not args.no_sync:
        events = ["--events", "2000"] if args.quick else []
        sync = run_script("sync", events, folder / "sync.json")
    webform: tuple[str, dict[str, Any]] | None = None
    if not args.no_webform:
        submits = ["--submits", "100"] if args.quick else []
        webform = run_script("webform", submits, folder / "webform.json")
    whatif: tuple[str, dict[str, Any]] | None = None
    if args.whatif:
        whatif = run_script(
            "queue_whatif", ["--repeats", str(repeats), *size], folder / "whatif.json"
        )

    print("\n" + "=" * 100)
    print(f"SUMMARY  ({command_line()})")
    print_machine(machine_info())
    s = st["startup"]
    app, bare = s["app"], s["bare"]
    print(f"\nStart-up to first painted queue  [{startup_cmd}]")
    app_ms, bare_ms = app["to_paint_ms"]["median"], bare["to_paint_ms"]["median"]
    print(
        f"  app {app_ms:.0f} ms vs bare Textual {bare_ms:.0f} ms (medians of {runs}) = "
        f"{s['ratio_app_over_bare']:.2f}x; goal <= {s['goal_ratio']}x: {s['goal_ratio_verdict']}"
    )
    app_rss, bare_rss = app["peak_rss_mib"]["max"], bare["peak_rss_mib"]["max"]
    print(
        f"  app peak RSS {app_rss:.1f} MiB (bare {bare_rss:.1f}); "
        f"goal <= {s['goal_rss_mib']:.0f} MiB: {s['goal_rss_verdict']}"
    )
    if "ratio_orm_first_over_bare" in s:
        print(
            f"  before issue 13 (context opened before the first frame): "
            f"{s['app-orm-first']['to_paint_ms']['median']:.0f} ms = "
            f"{s['ratio_orm_first_over_bare']:.2f}x bare"
        )
    print(f"  heavy modules imported at the first frame: {app.get('heavy_imported_at_paint')}")
    print(f"\nScripting commands, spawn to exit  [{cli_cmd}]")
    for name, case in cli["cases"].items():
        print(f"    {name:<28} {case['ms']['median']:7.1f} ms  (x{case['ratio_to_baseline']})")
    print(
        f"  tickets list / python -c 'import sqlite3' = "
        f"{cli['cases']['tickets list']['ratio_to_baseline']:.2f}x; goal <= "
        f"{cli['goal_ratio']:g}x: {cli['goal_verdict']}"
    )
    q = st["queue"]
    print(
        f"  queue of {args.open} open tickets through TicketDesk.queue (median ms, limit 100; "
        "'offset' is the page read by OFFSET, as a reader without a key does; the keyset "
        "pages the screen reads are under Queue pages below):"
    )
    for name, c in q["cases"].items():
        print(f"    {name:<32} {c['median_ms']:7.2f}  (x{c['ratio_to_baseline']} baseline)")
    stats = cr["stats_ms"]
    print(f"\nCreate latency  [{create_cmd}]")
    print(
        f"  TicketDesk.create p50 {stats['domain']['p50']:.2f} ms, p99 {stats['domain']['p99']:.2f}"
        f" ms; bare sqlite3 commit p50 {stats['bare']['p50']:.2f}, p99 {stats['bare']['p99']:.2f}"
    )
    be, r = stats["bare+event"], cr["ratio_domain_over_bare_event"]
    print(
        f"  bare sqlite3 commit of the ticket + event rows p50 {be['p50']:.2f}, p99 "
        f"{be['p99']:.2f} ms"
    )
    print(f"  ticket save p50 {r['p50']:.2f}x bare; goal <= 2x: {cr['goal_p50_verdict']}")
    print(f"  ticket save p99 {r['p99']:.2f}x bare; goal <= 1.2x: {cr['goal_p99_verdict']}")
    if whatif is not None:
        cmd, wi = whatif
        print(f"\nQueue index what-if  [{cmd}]")
        for name, c in wi["cases"].items():
            print(
                f"    {name:<32} {c['current_ms']:7.2f} -> {c['proposed_ms']:6.2f} ms "
                f"(x{c['ratio_proposed_over_current']:.3f})"
            )
    print_pages(pages_cmd, pages)
    if sla is not None:
        print_sla(*sla)
    if frames is not None:
        print_frames(*frames)
    if sync is not None:
        print_sync(*sync)
    if webform is not None:
        print_webform(*webform)
    print_issue13(st, cli, cr, pages, sla, frames)
    print(f"\nresults: {folder.relative_to(REPO)}/")
    return 0


def print_issue13(
    st: dict[str, Any],
    cli: dict[str, Any],
    cr: dict[str, Any],
    pages: dict[str, Any],
    sla: tuple[str, dict[str, Any]] | None,
    frames: tuple[str, dict[str, Any]] | None,
) -> None:
    """Issue 13's lines, each against its baseline of this run, and how many are met."""
    s = st["startup"]
    lines: list[tuple[str, str, str]] = [
        (
            "1. start-up <= 1.5x bare Textual",
            f"{s['ratio_app_over_bare']:.2f}x",
            s["goal_ratio_verdict"],
        ),
        (
            "1. peak RSS <= 100 MiB",
            f"{s['app']['peak_rss_mib']['max']:.1f} MiB",
            s["goal_rss_verdict"],
        ),
    ]
    for name, case in s.items():  # other desks' start-up (e.g. with sync set up), if measured
        if name.startswith("app-") and isinstance(case, dict) and "goal_ratio_verdict" in case:
            lines.append(
                (
                    f"1. start-up, {name} <= 1.5x bare",
                    f"{case['ratio_over_bare']:.2f}x",
                    case["goal_ratio_verdict"],
                )
            )
    lines.append(
        (
            "1. tickets list <= 2x python -c 'import sqlite3'",
            f"{cli['cases']['tickets list']['ratio_to_baseline']:.2f}x",
            cli["goal_verdict"],
        )
    )
    r = cr["ratio_domain_over_bare_event"]
    lines += [
        ("2. save p50 <= 2x bare commit", f"{r['p50']:.2f}x", cr["goal_p50_verdict"]),
        ("2. save p99 <= 1.2x bare commit", f"{r['p99']:.2f}x", cr["goal_p99_verdict"]),
    ]
    if sla is not None and "recompute" in sla[1]:
        rc = sla[1]["recompute"]
        lines.append(
            (
                "3. calendar edit recompute <= 100 ms",
                f"{rc['edit_worst_median_ms']:.0f} ms",
                rc["goal_verdict"],
            )
        )
    if frames is not None:
        fr = frames[1]
        gap = fr["frame_gap_max_ms"]
        lines.append(
            (
                "3. longest frame gap saving a session <= 50 ms",
                f"{gap['save']:.0f} ms (idle {gap['idle']:.0f})",
                fr["goal_verdict"],
            )
        )
    cases = pages["cases"]
    # Every page, in three lines: without a word, a word's new search (the match runs) and the
    # same search again (its hits kept); the closed tickets' word searches included.
    for label, keep in (
        (
            "4. every page <= 10 ms, sorts and filters",
            lambda k: not k.startswith(("search", "word")),
        ),
        ("4. every page <= 10 ms, a new word search", lambda k: k.endswith(", new search")),
        ("4. every page <= 10 ms, the same word search", lambda k: k.endswith(", same search")),
    ):
        paged = {k: c for k, c in cases.items() if keep(k)}
        if not paged:
            continue
        slowest = max(paged, key=lambda k: paged[k]["median_ms"])
        every = "met" if all(c["verdict"].lower() == "met" for c in paged.values()) else "not met"
        lines.append((label, f"slowest {paged[slowest]['median_ms']:.2f} ms ({slowest})", every))
    lines.append(("4. ref search <= 5 ms", "", pages["goal_ref_verdict"]))
    if sla is not None and "idle" in sla[1]:
        idle = sla[1]["idle"]
        app = idle["processes"]["app"]["cpu_pct_of_one_core"]
        lines.append(("5. idle <= 3 % of a core", f"{app:.2f} %", idle["goal_verdict"]))
    met = sum(1 for *_x, v in lines if v.lower() == "met")
    print(f"\nIssue 13, line by line: {met} of {len(lines)} met")
    for name, value, verdict in lines:
        print(f"  {name:<52} {value:<36} {verdict.upper()}")


if __name__ == "__main__":
    sys.exit(main())
