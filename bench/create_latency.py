"""Create-ticket latency through the domain layer, next to a bare sqlite3 INSERT + COMMIT.

    .venv/bin/python bench/create_latency.py                  # 2,000 of each
    .venv/bin/python bench/create_latency.py --creates 300    # quicker

Three operations, alternated in a rotating order (so none always runs first or after another),
each on its own fresh database in one temp dir under bench/.data/ (the project's disk):

- domain: `TicketDesk.create(TicketDraft(...))` — validation, device identity, next sequence,
  next HLC, the ticket row and its `created` event in one BEGIN IMMEDIATE transaction.
- bare: plain `sqlite3`, the same pragmas as classroom_support.db (busy_timeout, WAL,
  synchronous=FULL, foreign_keys=ON), `BEGIN IMMEDIATE; INSERT` one ticket-shaped row `; COMMIT`
  into a table with the app's exact DDL (copied from the migrated database: its indexes and
  search-index triggers too). The baseline.
- bare+event: every column of the ticket row plus its event row in the same transaction
  (what the domain writes). The baseline of the goals: p50 <= 2x, p99 <= 1.2x.

The bare rows carry the same text as the domain's ticket of the same turn (title, seat, names,
channel, the course's name): the search index's work per row depends on it. Until 2026-12-02
they carried one fixed short English title, less index work than the goal's "same ticket row".

Every operation is timed alone with perf_counter_ns; a few warm-up operations are dropped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import (
    DATA,
    REPO,
    command_line,
    ensure_data_dir,
    machine_info,
    met,
    print_machine,
    summary,
    write_results,
)

from classroom_support.tickets import PRIORITIES, created_payload

# Goals (issue 13): against the bare commit of the same two rows, measured in the same run.
GOAL_P50_RATIO = 2.0
GOAL_P99_RATIO = 1.2
TICKET_COLUMNS = (
    "id, ref, hall_code, session_id, session_label, title, seat, trainee_name, trainee_contact, "
    "category, priority, channel, caller_number, remote_session_id, status, assignee, tier, "
    "created_by, origin_device, device_seq, created_at, updated_at, first_response_at, "
    "resolved_at, verified_at, last_hlc, event_count, conflicts"
)
FULL_EXTRA_COLUMNS = (
    "is_open, priority_rank, pauses, warned, breached, escalation_level, escalated_at, "
    "rca_cause, rca_what, rca_action, rca_owner, rca_at"
)
# After is_open (1) and priority_rank (the draft's): the rest as stored for a new ticket.
FULL_EXTRA = ("[]", "", "", 0, None, "", "", "", "", None)
EVENT_COLUMNS = "id, ticket_id, kind, payload, device_id, actor, occurred_at, hlc, server_seq"


def realistic_drafts() -> list[Any]:
    """What technicians type: the demo's problems, seats, names, channels (Arabic and English)."""
    from classroom_support.demo import NAMES, PROBLEMS
    from classroom_support.tickets import TicketDraft

    drafts = []
    for i, (title, category, priority, channel, seat) in enumerate(PROBLEMS):
        drafts.append(
            TicketDraft(
                title=title,
                seat=seat or f"{(i * 7) % 30 + 1}",
                trainee_name=NAMES[i % len(NAMES)],
                trainee_contact="trainee@example.org" if i % 3 == 0 else "",
                category=category,
                priority=priority,
                channel=channel,
                caller_number="0551234567" if channel in ("phone", "whatsapp") else "",
                remote_session_id="1 234 567 890" if channel == "remote_access" else "",
            )
        )
    return drafts


def open_bare(path: Path, schema: list[str]) -> sqlite3.Connection:
    """A plain sqlite3 connection set up exactly as classroom_support.db._on_connect does."""
    from classroom_support.db import BUSY_TIMEOUT_MS

    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    for ddl in schema:
        conn.execute(ddl)
    return conn


def bare_row(
    i: int, prefix: str, draft: Any, session_label: str
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The domain's ticket row and created event for the same `draft` (the same text, so the
    same search-index work), shaped as the domain stores them (naive UTC text dates)."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    ticket_id = str(uuid.uuid4())
    hlc = f"{int(time.time() * 1000):013d}-{i % 100000:05d}"
    # The payload the domain builds (its own function; only the write below is bare).
    payload = json.dumps(
        created_payload(replace(draft, hall_code="A101"), prefix, i, session_label),
        ensure_ascii=False,
    )
    ticket = (
        ticket_id, f"{prefix}-{i}", "A101", draft.session_id, session_label, draft.title,
        draft.seat, draft.trainee_name, draft.trainee_contact, draft.category, draft.priority,
        draft.channel, draft.caller_number, draft.remote_session_id, "new", "", "L1", "tech",
        "device-bare", i, now, now, None, None, None, hlc, 1, 0,
    )  # fmt: skip
    event = (
        str(uuid.uuid4()),
        ticket_id,
        "created",
        payload,
        "device-bare",
        "tech",
        now,
        hlc,
        None,
    )
    return ticket, event


def profile_shares(fn: Callable[[], None], n: int) -> dict[str, Any]:
    """cProfile `n` calls of `fn`; own time grouped by layer, as shares (profiling inflates)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        fn()
    prof.disable()
    groups: dict[str, float] = {}
    raw_stats: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    for (filename, _line, func), (_cc, _nc, own, _cum, _callers) in raw_stats.items():
        if "sqlite3.Connection" in func or "sqlite3.Cursor" in func:
            group = "sqlite3 C calls (" + func.split("'")[1] + ")"
        elif "/sqlalchemy/orm/" in filename:
            group = "SQLAlchemy ORM (session, unit of work, instrumentation)"
        elif "/sqlalchemy/" in filename:
            group = "SQLAlchemy Core (compile cache, engine, pool)"
        elif "/sqlmodel/" in filename or "/pydantic" in filename:
            group = "SQLModel / pydantic (model construction)"
        elif "classroom_support" in filename:
            group = "classroom_support itself"
        else:
            group = "other Python (stdlib: uuid, json, datetime, contextlib ...)"
        groups[group] = groups.get(group, 0.0) + own
    total = sum(groups.values())
    return {
        "calls": n,
        "profiled_ms_per_call": round(total / n * 1000, 3),
        "own_time_share_pct": {
            k: round(v / total * 100, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])
        },
    }


def run(creates: int, warmup: int, folder: Path, profile: int = 0) -> dict[str, Any]:
    from classroom_support.context import open_context
    from classroom_support.sessions import SessionDraft

    config = folder / "no-config.toml"  # never created: default config
    ctx = open_context(config, folder / "domain.sqlite3")
    desk = ctx.desk
    # A course running now, as in a real hall: the form passes its id, `create` looks it up.
    began = ctx.clock.now().astimezone(ctx.config.zone) - timedelta(hours=1)
    ends = began + timedelta(hours=3)
    course = "Excel المتقدم — Advanced Excel"
    day = began.date().isoformat()
    ctx.sessions.add(SessionDraft(course, "أ. سارة", day, f"{began:%H:%M}", f"{ends:%H:%M}"))
    current = ctx.sessions.current()
    if current is None:
        raise RuntimeError("the course session added for the benchmark is not current")
    drafts = [replace(d, session_id=current.id) for d in realistic_drafts()]
    with ctx.db.read() as s:
        schema = [
            sql
            for (sql,) in s.connection().exec_driver_sql(
                # Tables (and the search index) before their indexes and triggers.
                "SELECT sql FROM sqlite_master WHERE tbl_name IN ('ticket', 'ticket_event', "
                "'ticket_fts_open', 'ticket_fts_closed', 'ticket_fts_hall') "
                "AND sql IS NOT NULL ORDER BY "
                "CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name"
            )
        ]
    bare1 = open_bare(folder / "bare.sqlite3", schema)
    bare2 = open_bare(folder / "bare-event.sqlite3", schema)
    ins_ticket = f"INSERT INTO ticket ({TICKET_COLUMNS}) VALUES ({', '.join('?' * 28)})"
    # bare+event writes every column of the ticket, as the domain does (the rest as stored
    # for a new ticket: open, its priority's rank, no pauses, marks, escalation or analysis).
    ins_full = (
        f"INSERT INTO ticket ({TICKET_COLUMNS}, {FULL_EXTRA_COLUMNS}) "
        f"VALUES ({', '.join('?' * (30 + len(FULL_EXTRA)))})"
    )
    ins_event = f"INSERT INTO ticket_event ({EVENT_COLUMNS}) VALUES ({', '.join('?' * 9)})"
    counter = {"domain": 0, "bare": 0, "bare+event": 0}

    def domain() -> None:
        desk.create(drafts[counter["domain"] % len(drafts)])

    def bare() -> None:
        n = counter["bare"]
        ticket, _ = bare_row(n + 1, "BARE", drafts[n % len(drafts)], course)
        bare1.execute("BEGIN IMMEDIATE")
        bare1.execute(ins_ticket, ticket)
        bare1.execute("COMMIT")

    def bare_event() -> None:
        n = counter["bare+event"]
        draft = drafts[n % len(drafts)]
        ticket, event = bare_row(n + 1, "BREV", draft, course)
        bare2.execute("BEGIN IMMEDIATE")
        bare2.execute(ins_full, (*ticket, 1, PRIORITIES.index(draft.priority), *FULL_EXTRA))
        bare2.execute(ins_event, event)
        bare2.execute("COMMIT")

    ops: list[tuple[str, Callable[[], None]]] = [
        ("domain", domain),
        ("bare", bare),
        ("bare+event", bare_event),
    ]
    samples: dict[str, list[float]] = {name: [] for name, _ in ops}
    total = warmup + creates
    for i in range(total):
        order = ops[i % len(ops) :] + ops[: i % len(ops)]
        for name, fn in order:
            t0 = time.perf_counter_ns()
            fn()
            elapsed = (time.perf_counter_ns() - t0) / 1e6
            counter[name] += 1
            if i >= warmup:
                samples[name].append(elapsed)
        if (i + 1) % 500 == 0:
            print(f"  {i + 1}/{total}", flush=True)
    profiled = profile_shares(domain, profile) if profile else None
    # The work really happened: every row is there.
    with ctx.db.read() as s:
        made = s.connection().exec_driver_sql("SELECT count(*) FROM ticket").scalar()
    got1 = bare1.execute("SELECT count(*) FROM ticket").fetchone()[0]
    got2 = bare2.execute("SELECT count(*) FROM ticket_event").fetchone()[0]
    if (made, got1, got2) != (total + profile, total, total):
        raise RuntimeError(f"row counts {made}, {got1}, {got2} != {total}")
    bare1.close()
    bare2.close()
    ctx.close()

    stats = {
        name: {k: round(v, 3) for k, v in summary(vals).items()} for name, vals in samples.items()
    }
    base = stats["bare"]
    return {
        "creates": creates,
        "warmup_dropped": warmup,
        "stats_ms": stats,
        "ratio_domain_over_bare": {
            "p50": round(stats["domain"]["p50"] / base["p50"], 2),
            "p99": round(stats["domain"]["p99"] / base["p99"], 2),
        },
        "ratio_domain_over_bare_event": {
            "p50": round(stats["domain"]["p50"] / stats["bare+event"]["p50"], 2),
            "p99": round(stats["domain"]["p99"] / stats["bare+event"]["p99"], 2),
        },
        "goal_p50_ratio": GOAL_P50_RATIO,
        "goal_p99_ratio": GOAL_P99_RATIO,
        "goal_p50_verdict": met(
            stats["domain"]["p50"] / stats["bare+event"]["p50"], GOAL_P50_RATIO
        ),
        "goal_p99_verdict": met(
            stats["domain"]["p99"] / stats["bare+event"]["p99"], GOAL_P99_RATIO
        ),
        **({"profile": profiled} if profiled else {}),
    }


def print_report(result: dict[str, Any]) -> None:
    print()
    print_machine(result["machine"])
    print(f"# command: {result['command']}")
    print(f"\nCreate latency, {result['creates']} of each (ms):")
    for name, s in result["stats_ms"].items():
        print(
            f"  {name:<11} p50 {s['p50']:7.3f}  p90 {s['p90']:7.3f}  p99 {s['p99']:7.3f}  "
            f"max {s['max']:8.3f}  mean {s['mean']:7.3f}"
        )
    r = result["ratio_domain_over_bare"]
    r2 = result["ratio_domain_over_bare_event"]
    print(
        f"  domain / bare: p50 {r['p50']:.2f}x, p99 {r['p99']:.2f}x   "
        f"(domain / bare+event: p50 {r2['p50']:.2f}x, p99 {r2['p99']:.2f}x)"
    )
    print(
        f"  goal p50 <= {GOAL_P50_RATIO}x bare+event: {result['goal_p50_verdict']}; "
        f"p99 <= {GOAL_P99_RATIO}x: {result['goal_p99_verdict']}"
    )
    prof = result.get("profile")
    if prof:
        print(
            f"\nWhere a create's time goes (cProfile, {prof['calls']} more creates, "
            f"{prof['profiled_ms_per_call']} ms each under the profiler):"
        )
        for group, pct in prof["own_time_share_pct"].items():
            print(f"  {pct:5.1f}%  {group}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--creates", type=int, default=2000, help="timed operations of each kind")
    parser.add_argument("--warmup", type=int, default=20, help="untimed operations of each kind")
    parser.add_argument(
        "--dir", type=Path, help="parent folder of the temp dir (default bench/.data)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp databases")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="then profile N more domain creates"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    ensure_data_dir()
    parent = args.dir or DATA
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="create-latency-", dir=parent))
    result: dict[str, Any] = {
        "benchmark": "create_latency",
        "command": command_line(),
        "machine": machine_info() | {"temp_dir": str(folder)},
    }
    print(
        f"create latency: {args.creates} + {args.warmup} warm-up of each, in {folder}", flush=True
    )
    try:
        result |= run(args.creates, args.warmup, folder, args.profile)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print_report(result)
    saved = write_results("create_latency", result, args.json)
    print(f"\nresults: {saved.relative_to(REPO) if saved.is_relative_to(REPO) else saved}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
