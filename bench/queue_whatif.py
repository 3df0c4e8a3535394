"""What-if for the queue: today's SQL against SQL on a copy with indexes that fit the queue.

    .venv/bin/python bench/queue_whatif.py                 # the 100k / 20k-open database
    .venv/bin/python bench/queue_whatif.py --repeats 5

Evidence for a suggested fix (docs/benchmarks.md, Findings); it changes nothing in the app.
"current" is the exact SQL that `TicketDesk.queue` runs (captured from the engine) on the
cached benchmark database. "proposed" runs hand-written SQL on a temporary copy of that database
with three additions:

- `is_open` (generated: status <> 'verified') and an index (hall_code, is_open, created_at, id):
  the open queue in age order straight from the index, no sort of 20,000 rows;
- `priority_rank` (generated, critical first) and an index (hall_code, is_open, priority_rank,
  created_at, id) for the priority sort;
- an FTS5 trigram table over the five searched columns, for the substring search.

Both sides run through bare sqlite3 with the app's pragmas, interleaved, count + page in one
read transaction as the app does; the ratio is proposed / current per case.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import (
    DATA,
    NO_CONFIG,
    REPO,
    command_line,
    machine_info,
    print_machine,
    write_results,
)
from startup import (
    DOMAIN_TICKETS,
    HALL,
    Recipe,
    build_database,
    capture_queue_sql,
    open_raw,
    query_plan,
)

SEARCHED = ("title", "ref", "seat", "trainee_name", "assignee")
CANDIDATE_SCHEMA = (
    "ALTER TABLE ticket ADD COLUMN is_open INTEGER "
    "GENERATED ALWAYS AS (status <> 'verified') VIRTUAL",
    "CREATE INDEX ix_ticket_hall_open_created ON ticket (hall_code, is_open, created_at, id)",
    "ALTER TABLE ticket ADD COLUMN priority_rank INTEGER GENERATED ALWAYS AS (CASE priority "
    "WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END) VIRTUAL",
    "CREATE INDEX ix_ticket_hall_open_priority "
    "ON ticket (hall_code, is_open, priority_rank, created_at, id)",
    f"CREATE VIRTUAL TABLE ticket_fts USING fts5({', '.join(SEARCHED)}, "
    "content='ticket', content_rowid='rowid', tokenize='trigram')",
    "INSERT INTO ticket_fts (ticket_fts) VALUES ('rebuild')",
)


def proposed_sql(
    name: str, kw: dict[str, Any], columns: str, search: str | None
) -> list[tuple[str, tuple[Any, ...]]]:
    """The count and page statements that would answer the same case with the new indexes."""
    where = "ticket.hall_code = ? AND ticket.is_open = 1"
    params: tuple[Any, ...] = (HALL,)
    if search is not None:
        phrase = '"' + search.replace('"', '""') + '"'  # FTS5 string: a literal substring
        where += " AND ticket.rowid IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)"
        params += (phrase,)
    if kw.get("sort") == "priority":
        order = "ticket.priority_rank, ticket.created_at, ticket.id"
    else:
        order = "ticket.created_at, ticket.id"
    return [
        (f"SELECT count(*) FROM ticket WHERE {where}", params),
        (
            f"SELECT {columns} FROM ticket WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, 100, kw.get("offset", 0)),
        ),
    ]


def run(recipe: Recipe, repeats: int) -> dict[str, Any]:
    from classroom_support.context import open_context

    path, _ = build_database(recipe)
    ctx = open_context(NO_CONFIG, path)
    found = capture_queue_sql(ctx.desk, recipe)
    ctx.close()
    folder = Path(tempfile.mkdtemp(prefix="queue-whatif-", dir=DATA))
    try:
        copy = folder / "candidate.sqlite3"
        shutil.copyfile(path, copy)
        cand = open_raw(copy)
        started = time.perf_counter()
        for ddl in CANDIDATE_SCHEMA:
            cand.execute(ddl)
        migrate_s = time.perf_counter() - started
        cur = open_raw(path)
        columns = ", ".join(f"ticket.{row[1]}" for row in cur.execute("PRAGMA table_info(ticket)"))
        kws = {name: q.__dict__ for name, q in found.queries.items()}
        proposed = {
            name: proposed_sql(name, kws[name], columns, found.search_terms.get(name))
            for name in found.queries
        }
        # Same answers: the same total and the same 100 rows, in the same order.
        for name in found.queries:
            old = [cur.execute(s, p).fetchall() for s, p in found.sql[name]]
            new = [cand.execute(s, p).fetchall() for s, p in proposed[name]]
            if old != new:
                raise RuntimeError(f"proposed SQL for {name!r} answers differently")

        def replay(conn: sqlite3.Connection, statements: list[tuple[str, Any]]) -> None:
            conn.execute("BEGIN")
            for stmt, params in statements:
                conn.execute(stmt, params).fetchall()
            conn.execute("COMMIT")

        jobs = []
        for name in found.queries:
            jobs.append((name, "current", cur, found.sql[name]))
            jobs.append((name, "proposed", cand, proposed[name]))
        times: dict[tuple[str, str], list[float]] = {(n, side): [] for n, side, _, _ in jobs}
        for _, _, conn, st in jobs:  # warm-up
            replay(conn, st)
        for r in range(repeats):
            for name, side, conn, st in jobs[r % len(jobs) :] + jobs[: r % len(jobs)]:
                t0 = time.perf_counter()
                replay(conn, st)
                times[(name, side)].append((time.perf_counter() - t0) * 1000)
        cases = {}
        for name in found.queries:
            old_ms = statistics.median(times[(name, "current")])
            new_ms = statistics.median(times[(name, "proposed")])
            cases[name] = {
                "current_ms": round(old_ms, 2),
                "proposed_ms": round(new_ms, 2),
                "ratio_proposed_over_current": round(new_ms / old_ms, 3),
                "current_plan": [query_plan(cur, s, p) for s, p in found.sql[name]],
                "proposed_plan": [query_plan(cand, s, p) for s, p in proposed[name]],
            }
        cur.close()
        cand.close()
        size_before = path.stat().st_size / 2**20
        size_after = copy.stat().st_size / 2**20
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "repeats": repeats,
        "schema_change_seconds": round(migrate_s, 2),
        "db_size_mib": {"current": round(size_before, 1), "proposed": round(size_after, 1)},
        "cases": cases,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    recipe = Recipe(args.tickets, args.open, min(DOMAIN_TICKETS, args.tickets))
    result: dict[str, Any] = {
        "benchmark": "queue_whatif",
        "command": command_line(),
        "machine": machine_info(),
    }
    result |= run(recipe, args.repeats)
    print()
    print_machine(result["machine"])
    print(f"# command: {result['command']}")
    print(
        f"\nQueue SQL, current vs proposed indexes, median of {args.repeats} (ms; schema change "
        f"{result['schema_change_seconds']} s; file {result['db_size_mib']['current']} -> "
        f"{result['db_size_mib']['proposed']} MiB):"
    )
    for name, c in result["cases"].items():
        print(
            f"  {name:<30} {c['current_ms']:8.2f} -> {c['proposed_ms']:7.2f} "
            f"(x{c['ratio_proposed_over_current']:.3f})"
        )
        for plan in c["proposed_plan"]:
            print(f"      proposed plan: {plan}")
    saved = write_results("queue_whatif", result, args.json)
    print(f"\nresults: {saved.relative_to(REPO) if saved.is_relative_to(REPO) else saved}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
