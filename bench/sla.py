"""SLA speed: deadlines per second against pandas, recompute after a calendar edit, idle CPU.

    .venv/bin/python bench/sla.py                    # everything (about 3 minutes)
    .venv/bin/python bench/sla.py --quick            # smoke run: fewer samples, 30 s idle window
    .venv/bin/python bench/sla.py --only throughput  # or recompute, idle (comma list)

1. Weekly-only calendar (every day 10:00-16:00 Asia/Riyadh): `BusinessCalendar.add(t, 48 h)` for
   random minute-aligned instants spread over 2026, against pandas `CustomBusinessHour` (naive
   local timestamps) in the same process, interleaved. Every result is checked against pandas
   and against an independent minute-grid oracle written here; every difference from pandas is
   classified (see `classify_pandas`). Also weekly + Saudi holidays, where pandas can still
   follow (its `holidays=`).
2. Full calendar: weekly windows + a year of course sessions (evenings, a Saturday afternoon
   that overlaps the day window, late labs past midnight) minus the Saudi holidays (a course on a
   holiday still counts). pandas cannot express sessions, so the check is the oracle only.
   Also `between()` per second.
3. On a copy of the cached 100k/20k database (bench/startup.py builds it; kept here migrated
   and with no SLA event recorded, as `sla-asbuilt-*.sqlite3`, beside a caught-up copy): time
   `ctx.sla.calendar_changed()` (rebuild + re-evaluate every open ticket) against reading the
   same 20,000 rows (SLA_COLUMNS) in the same process; phases, a cProfile breakdown, and a
   what-if: a real session edit, and what re-evaluating only the tickets it can move would cost.
4. Idle CPU of the real app (20,000 open tickets, monitor on, live countdowns) and of a bare
   Textual app with a 1 Hz timer, both headless, sampled from /proc/PID/stat over the same window.

Results go to bench/.data/results/sla-latest.json (and --json PATH).
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import gc
import itertools
import json
import os
import pstats
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from benchlib import (
    DATA,
    NO_CONFIG,
    REPO,
    command_line,
    ensure_data_dir,
    machine_info,
    print_machine,
    write_results,
)
from startup import DOMAIN_TICKETS, Recipe, build_database, child_env

WORK = timedelta(hours=48)  # the default first-response target
YEAR = 2026  # the sampled instants lie in this local year
SESSIONS_FROM = date(2025, 11, 1)  # sessions cover the sampled year and the deadlines after it
SESSIONS_TO = date(2027, 2, 28)
GRID_FROM = date(2025, 10, 1)  # the oracle's minute grid
GRID_TO = date(2027, 4, 30)
BETWEEN_MAX_MIN = 14 * 24 * 60  # between(a, b) with b up to two weeks after a
GOAL_RATIO_VS_PANDAS = 10.0
GOAL_FULL_PER_S = 100_000.0
GOAL_RECOMPUTE_MS = 100.0
GOAL_IDLE_PCT = 3.0
CAUGHT_UP_VERSION = 2
CLK_TCK = os.sysconf("SC_CLK_TCK")
CLOSED_SHIFT = timedelta(hours=9)  # 11:00 -> 20:00 local: outside the window, no sessions


def at_least(value: float, goal: float) -> str:
    return "MET" if value >= goal else "NOT MET"


def at_most(value: float, goal: float) -> str:
    return "MET" if value <= goal else "NOT MET"


def timed_passes(jobs: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Each job once untimed, then `repeats` timed passes in a rotating order (seconds)."""
    for fn in jobs.values():
        fn()
    names = list(jobs)
    out: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            t0 = time.perf_counter()
            jobs[name]()
            out[name].append(time.perf_counter() - t0)
    return out


# --------------------------------------------------------------------------- calendars


@dataclass(frozen=True)
class SessionPlan:
    day: date
    start_minute: int
    end_minute: int  # earlier than start: ends after midnight (as SessionDraft)
    label: str

    def clock(self, minute: int) -> str:
        return f"{minute // 60 % 24:02d}:{minute % 60:02d}"


def session_plans(first: date, last: date, seed: int) -> list[SessionPlan]:
    """A year of course sessions, the shapes the institute runs (times are local)."""
    rnd = random.Random(seed)
    plans: list[SessionPlan] = []
    day = first
    while day <= last:
        wd = day.weekday()  # Monday 0 ... Sunday 6
        if wd in (6, 0, 1, 2, 3):  # Sunday-Thursday evening course
            shift = rnd.choice((0, 0, 15, 30))
            plans.append(SessionPlan(day, 18 * 60 + shift, 21 * 60 + shift, "Evening course"))
        if wd == 5:  # Saturday workshop: overlaps the 10:00-16:00 window
            plans.append(SessionPlan(day, 14 * 60, 18 * 60, "Weekend workshop"))
        if wd in (1, 3):  # Tuesday/Thursday night lab: crosses midnight
            plans.append(SessionPlan(day, 22 * 60 + 30, 1 * 60 + 30, "Night lab"))
        day += timedelta(days=1)
    return plans


def local_instant(zone: ZoneInfo, day: date, minute: int) -> datetime:
    return datetime.combine(day, dtime(0), zone) + timedelta(minutes=minute)


def session_windows(zone: ZoneInfo, plans: Sequence[SessionPlan]) -> list[Any]:
    from classroom_support.sla import SessionWindow

    out = []
    for p in plans:
        end_day = p.day if p.end_minute > p.start_minute else p.day + timedelta(days=1)
        out.append(
            SessionWindow(
                local_instant(zone, p.day, p.start_minute).astimezone(UTC),
                local_instant(zone, end_day, p.end_minute).astimezone(UTC),
                p.label,
                "A101",
            )
        )
    return out


def holiday_closures() -> list[Any]:
    from classroom_support.config import SAUDI_HOLIDAYS
    from classroom_support.sla import Closure

    return [
        Closure(date.fromisoformat(c.start), date.fromisoformat(c.end), c.name, c.estimated)
        for c in SAUDI_HOLIDAYS
    ]


class MinuteGrid:
    """An independent oracle: one open/closed flag per minute, and a running count.

    Built directly from the rules (weekly windows on days that are not closed, plus session
    minutes), without the calendar's interval merging. Exact for minute-aligned instants: the
    deadline is the first minute boundary at which the count is reached - so a deadline that is
    used up exactly at 16:00 is 16:00.
    """

    def __init__(
        self,
        zone: ZoneInfo,
        weekly: Sequence[Any],
        closures: Sequence[Any],
        sessions: Sequence[Any],
    ) -> None:
        self.origin = local_instant(zone, GRID_FROM, 0)
        size = self.minute(local_instant(zone, GRID_TO + timedelta(days=1), 0))
        flags = bytearray(size)

        def mark(a: datetime, b: datetime) -> None:
            i, j = max(0, self.minute(a)), min(size, self.minute(b))
            if j > i:
                flags[i:j] = b"\x01" * (j - i)

        closed = set()
        for c in closures:
            d = c.start
            while d <= c.end:
                closed.add(d)
                d += timedelta(days=1)
        day = GRID_FROM - timedelta(days=1)
        while day <= GRID_TO:
            if day not in closed:
                for w in weekly:
                    if day.weekday() in w.days:
                        end_day = day if w.end_minute > w.start_minute else day + timedelta(1)
                        mark(
                            local_instant(zone, day, w.start_minute),
                            local_instant(zone, end_day, w.end_minute),
                        )
            day += timedelta(days=1)
        for s in sessions:
            mark(s.start, s.end)
        self.cum = list(itertools.accumulate(flags, initial=0))  # cum[k]: open minutes in [0, k)

    def minute(self, t: datetime) -> int:
        q, r = divmod(t - self.origin, timedelta(minutes=1))
        if r:
            raise ValueError(f"{t} is not minute-aligned")
        return q

    def at(self, k: int) -> datetime:
        return (self.origin + timedelta(minutes=k)).astimezone(UTC)

    def add(self, t: datetime, minutes: int) -> datetime:
        k = self.minute(t)
        return self.at(bisect.bisect_left(self.cum, self.cum[k] + minutes))

    def between(self, a: datetime, b: datetime) -> timedelta:
        return timedelta(minutes=self.cum[self.minute(b)] - self.cum[self.minute(a)])


def random_starts(zone: ZoneInfo, n: int, rnd: random.Random) -> list[datetime]:
    """Minute-aligned instants spread uniformly over the local year, as aware UTC (as stored)."""
    first = local_instant(zone, date(YEAR, 1, 1), 0)
    minutes = (local_instant(zone, date(YEAR + 1, 1, 1), 0) - first) // timedelta(minutes=1)
    return [(first + timedelta(minutes=rnd.randrange(minutes))).astimezone(UTC) for _ in range(n)]


# --------------------------------------------------------------------------- 1 + 2: throughput


def pandas_offset(config: Any, holidays: Sequence[date]) -> Any:
    """CustomBusinessHour equal to the config's weekly windows (one window, all given days)."""
    import pandas as pd

    (w,) = config.weekly_windows
    if w.end_minute <= w.start_minute:
        raise SystemExit("pandas comparison needs a weekly window that ends the same day")
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    hours = int(WORK / timedelta(hours=1))
    return pd.offsets.CustomBusinessHour(
        n=hours,
        start=f"{w.start_minute // 60:02d}:{w.start_minute % 60:02d}",
        end=f"{w.end_minute // 60:02d}:{w.end_minute % 60:02d}",
        weekmask=" ".join(names[d] for d in sorted(w.days)),
        holidays=list(holidays),
    )


def classify_pandas(
    cal: Any, zone: ZoneInfo, starts: Sequence[datetime], ours: Sequence[datetime], theirs: Any
) -> dict[str, Any]:
    """Compare with pandas results (naive local). A difference is explained when ours ends
    exactly at a window's end and pandas names the next opening instead: the same point in
    working time (zero working time between them), only the other side of a closed gap."""
    agree = window_end = unexplained = 0
    examples: list[dict[str, str]] = []
    for t, mine, ts in zip(starts, ours, theirs, strict=True):
        other = ts.to_pydatetime().replace(tzinfo=zone)
        if other == mine:
            agree += 1
            continue
        same_point = (
            not cal.is_open(mine)
            and cal.is_open(mine - timedelta(minutes=1))
            and cal.next_opening(mine) == other
            and cal.between(mine, other) == timedelta(0)
        )
        if same_point:
            window_end += 1
            continue
        unexplained += 1
        if len(examples) < 10:
            examples.append(
                {
                    "start": t.astimezone(zone).isoformat(),
                    "ours": mine.astimezone(zone).isoformat(),
                    "pandas": other.isoformat(),
                }
            )
    return {
        "agree": agree,
        "differ_only_at_window_end": window_end,
        "unexplained": unexplained,
        "unexplained_examples": examples,
    }


def throughput_case(
    name: str,
    cal_factory: Callable[[], Any],
    grid: MinuteGrid,
    starts: list[datetime],
    pairs: list[tuple[datetime, datetime]],
    repeats: int,
    offset: Any | None,
    zone: ZoneInfo,
) -> dict[str, Any]:
    """One calendar: cold pass, checks, then interleaved timed passes (rates per second)."""
    n = len(starts)
    cold = cal_factory()
    t0 = time.perf_counter()
    ours = [cold.add(t, WORK) for t in starts]
    cold_s = time.perf_counter() - t0
    cal = cal_factory()
    add, between = cal.add, cal.between
    ours_again = [add(t, WORK) for t in starts]
    need_min = int(WORK / timedelta(minutes=1))
    oracle_bad = [(t, m) for t, m in zip(starts, ours, strict=True) if grid.add(t, need_min) != m]
    between_bad = sum(1 for a, b in pairs if grid.between(a, b) != between(a, b))
    round_trip_bad = sum(1 for t, m in zip(starts, ours, strict=True) if between(t, m) != WORK)
    at_window_end = sum(1 for t, m in zip(starts, ours, strict=True) if not cal.is_open(m))
    result: dict[str, Any] = {
        "samples": n,
        "checks": {
            "same_on_fresh_and_warm_calendar": ours == ours_again,
            "add_differs_from_oracle": len(oracle_bad),
            "add_oracle_examples": [
                [t.astimezone(zone).isoformat(), m.astimezone(zone).isoformat()]
                for t, m in oracle_bad[:5]
            ],
            "between_differs_from_oracle": between_bad,
            "between_of_add_not_48h": round_trip_bad,
            "deadlines_ending_exactly_at_a_window_end": at_window_end,
        },
        "cold_pass_per_s": round(n / cold_s),
    }
    jobs: dict[str, Callable[[], object]] = {
        "add": lambda: [add(t, WORK) for t in starts],
        "floor: t + d": lambda: [t + WORK for t in starts],
        "between": lambda: [between(a, b) for a, b in pairs],
        "floor: b - a": lambda: [b - a for a, b in pairs],
    }
    if offset is not None:
        import pandas as pd

        local = [pd.Timestamp(t.astimezone(zone).replace(tzinfo=None)) for t in starts]
        index = pd.DatetimeIndex(local)
        scalar = [ts + offset for ts in local]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PerformanceWarning: non-vectorized DateOffset
            vector = list(index + offset)
        result["pandas"] = classify_pandas(cal, zone, starts, ours, scalar)
        result["pandas"]["scalar_equals_vectorised"] = scalar == vector

        def pandas_vectorised() -> object:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return index + offset

        jobs["pandas: Timestamp + offset"] = lambda: [ts + offset for ts in local]
        jobs["pandas: DatetimeIndex + offset"] = pandas_vectorised
    times = timed_passes(jobs, repeats)
    count = {k: len(pairs) if k in ("between", "floor: b - a") else n for k in jobs}
    rates = {k: round(count[k] / statistics.median(v)) for k, v in times.items()}
    result["per_s"] = rates
    result["per_call_us"] = {k: round(1e6 / v, 3) for k, v in rates.items()}
    if offset is not None:
        best = max(rates["pandas: Timestamp + offset"], rates["pandas: DatetimeIndex + offset"])
        result["pandas_best_per_s"] = best
        result["ratio_add_vs_pandas"] = round(rates["add"] / best, 1)
    print(
        f"  {name:<16} add {rates['add']:>9,}/s  between {rates['between']:>9,}/s"
        + (f"  pandas best {result['pandas_best_per_s']:>7,}/s" if offset is not None else ""),
        flush=True,
    )
    return result


def measure_throughput(samples: int, repeats: int, seed: int) -> dict[str, Any]:
    from classroom_support.config import Config
    from classroom_support.sla import BusinessCalendar

    config = Config()
    zone = config.zone
    every_day = tuple(range(7))
    if [(w.days, w.start_minute, w.end_minute) for w in config.weekly_windows] != [
        (every_day, 600, 960)
    ]:
        raise SystemExit("expected the default weekly window: every day 10:00-16:00")
    try:
        import pandas as pd
    except ImportError:
        pd = None
        print("  pandas is not installed: pip install -e '.[bench]' (comparison skipped)")
    closures = holiday_closures()
    holidays = sorted(
        {c.start + timedelta(days=i) for c in closures for i in range((c.end - c.start).days + 1)}
    )
    plans = session_plans(SESSIONS_FROM, SESSIONS_TO, seed)
    sessions = session_windows(zone, plans)
    rnd = random.Random(seed)
    starts = random_starts(zone, samples, rnd)
    pairs = [(a, a + timedelta(minutes=rnd.randrange(BETWEEN_MAX_MIN + 1))) for a in starts]
    weekly = config.weekly_windows
    cases: dict[str, tuple[Callable[[], Any], MinuteGrid, Any]] = {
        "weekly only": (
            lambda: BusinessCalendar(zone, weekly),
            MinuteGrid(zone, weekly, (), ()),
            pandas_offset(config, ()) if pd else None,
        ),
        "weekly+holidays": (
            lambda: BusinessCalendar(zone, weekly, (), closures),
            MinuteGrid(zone, weekly, closures, ()),
            pandas_offset(config, holidays) if pd else None,
        ),
        "full calendar": (
            lambda: BusinessCalendar(zone, weekly, sessions, closures),
            MinuteGrid(zone, weekly, closures, sessions),
            None,
        ),
    }
    out: dict[str, Any] = {
        "pandas": pd.__version__ if pd else None,
        "sessions": len(sessions),
        "sessions_span": [SESSIONS_FROM.isoformat(), SESSIONS_TO.isoformat()],
        "closed_days": len(holidays),
        "cases": {},
    }
    # One throwaway pass first, so the first case's cold pass does not pay interpreter warm-up.
    throwaway = BusinessCalendar(zone, weekly)
    for t in starts:
        throwaway.add(t, WORK)
    for name, (factory, grid, offset) in cases.items():
        out["cases"][name] = throughput_case(
            name, factory, grid, starts, pairs, repeats, offset, zone
        )
    weekly_case = out["cases"]["weekly only"]
    if "ratio_add_vs_pandas" in weekly_case:
        ratio = weekly_case["ratio_add_vs_pandas"]
        out["goal_ratio_vs_pandas"] = GOAL_RATIO_VS_PANDAS
        out["goal_ratio_verdict"] = at_least(ratio, GOAL_RATIO_VS_PANDAS)
    full = out["cases"]["full calendar"]["per_s"]["add"]
    out["goal_full_per_s"] = GOAL_FULL_PER_S
    out["goal_full_verdict"] = at_least(full, GOAL_FULL_PER_S)
    return out


# --------------------------------------------------------------------------- databases


def bench_now(source_meta: dict[str, Any], zone: ZoneInfo) -> datetime:
    """The first 11:00 local at or after the database was built: inside working hours."""
    built = datetime.fromisoformat(source_meta["built_utc"]).astimezone(zone)
    at = datetime.combine(built.date(), dtime(11), zone)
    if at < built:
        at += timedelta(days=1)
    return at.astimezone(UTC)


def copy_database(src: Path, folder: Path, name: str) -> Path:
    """A private copy (the cache stays clean): a file copy, or SQLite's backup API when the
    source still has a write-ahead log to fold in."""
    wal = Path(f"{src}-wal")
    dst = folder / name
    if wal.exists() and wal.stat().st_size:
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        shutil.copyfile(src, dst)
    return dst


def checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for p in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)


SLA_KINDS = ("sla_warning", "sla_breached", "escalated")
AS_BUILT_VERSION = 1


def sla_events(path: Path) -> int:
    """How many SLA events (warnings, breaches, escalations) a database holds."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        marks = ", ".join("?" * len(SLA_KINDS))
        q = f"SELECT count(*) FROM ticket_event WHERE kind IN ({marks})"
        return int(conn.execute(q, SLA_KINDS).fetchone()[0])
    finally:
        conn.close()


def as_built_database(recipe: Recipe) -> tuple[Path, dict[str, Any]]:
    """bench/startup.py's cached database, migrated to the current schema, with no SLA event
    recorded yet: kept as our own copy, because any run of the app on the shared cache (e.g. a
    start-up child: the monitor job records at start) turns it into a caught-up database."""
    from classroom_support.clock import FixedClock
    from classroom_support.config import Config
    from classroom_support.context import open_context
    from classroom_support.db import HEAD_REVISION

    path = DATA / f"sla-asbuilt-{recipe.tickets}-{recipe.open}-v{AS_BUILT_VERSION}.sqlite3"
    meta_path = path.with_suffix(".json")
    source, source_meta = build_database(recipe)
    key = {"source_built_utc": source_meta["built_utc"], "schema": HEAD_REVISION}
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            return path, meta
    if sla_events(source):
        print(f"{source.name} has SLA events recorded (an app ran on it): rebuilding", flush=True)
        source, source_meta = build_database(recipe, rebuild=True)
        key["source_built_utc"] = source_meta["built_utc"]
    now = bench_now(source_meta, Config().zone)
    with tempfile.TemporaryDirectory(dir=DATA, prefix="sla-build-") as tmp:
        work = copy_database(source, Path(tmp), "db.sqlite3")
        open_context(NO_CONFIG, work, clock=FixedClock(now)).close()  # migrations, seed rows
        checkpoint(work)
        if sla_events(work):
            raise RuntimeError("the as-built copy has SLA events")
        path.unlink(missing_ok=True)
        shutil.move(work, path)
    meta = {"key": key, "built_utc": source_meta["built_utc"], "source": source.name}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return path, meta


def caught_up_database(
    source: Path, source_meta: dict[str, Any], recipe: Recipe, at: datetime, rebuild: bool
) -> tuple[Path, dict[str, Any]]:
    """The cached database after the monitor has recorded everything due at `at` (one real
    `SlaService.run(record=True)`): the steady state of a desk whose app has been running."""
    from classroom_support.clock import FixedClock
    from classroom_support.context import open_context
    from classroom_support.db import HEAD_REVISION

    path = DATA / f"sla-caughtup-{recipe.tickets}-{recipe.open}-v{CAUGHT_UP_VERSION}.sqlite3"
    meta_path = path.with_suffix(".json")
    key = {
        "source": source.name,
        "source_key": source_meta["key"],
        "at": at.isoformat(),
        "schema": HEAD_REVISION,
        "version": CAUGHT_UP_VERSION,
    }
    if path.exists() and meta_path.exists() and not rebuild:
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            return path, meta
    print(f"building {path.name} (records the SLA events due; about a minute) ...", flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=DATA, prefix="sla-build-") as tmp:
        work = copy_database(source, Path(tmp), "db.sqlite3")
        ctx = open_context(NO_CONFIG, work, clock=FixedClock(at))
        result = ctx.sla.run(record=True, notify=False)
        again = ctx.sla.run(record=True, notify=False)
        ctx.close()
        checkpoint(work)
        path.unlink(missing_ok=True)
        shutil.move(work, path)
    if again.alerts:
        raise RuntimeError("a second monitor run still recorded events")
    kinds: dict[str, int] = {}
    for alert in result.alerts:
        kinds[alert.kind] = kinds.get(alert.kind, 0) + 1
    meta = {
        "key": key,
        "recorded_events": kinds,
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return path, meta


# --------------------------------------------------------------------------- 3: recompute


def read_open_rows(ctx: Any) -> list[Any]:
    """Exactly what `SlaService.run` reads: SLA_COLUMNS of the open tickets."""
    from sqlalchemy import select as sa_select
    from sqlmodel import col

    from classroom_support.models import Ticket
    from classroom_support.monitor import SLA_COLUMNS

    with ctx.db.read() as s:
        return list(s.exec(sa_select(*SLA_COLUMNS).where(col(Ticket.is_open).is_(True))))


def open_rows_sql() -> str:
    """The same SELECT as `read_open_rows`, compiled for SQLite with its parameter inlined."""
    from sqlalchemy import select as sa_select
    from sqlalchemy.dialects import sqlite
    from sqlmodel import col

    from classroom_support.models import Ticket
    from classroom_support.monitor import SLA_COLUMNS

    stmt = sa_select(*SLA_COLUMNS).where(col(Ticket.is_open).is_(True))
    return str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def evaluate_rows(svc: Any, rows: Sequence[Any], now: datetime) -> tuple[list[Any], list[Any]]:
    """What `SlaService.run` does per ticket (clocks, then planned events), phase by phase."""
    from classroom_support.monitor import _marks
    from classroom_support.sla_policy import planned_sla_events

    clocks = [svc.clocks(r, now) for r in rows]
    plans = [
        planned_sla_events(
            svc.calendar(r.hall_code),
            svc.ladder,
            c,
            ticket_id=r.id,
            warned=_marks(r.warned),
            breached=_marks(r.breached),
            escalation_level=r.escalation_level,
            now=now,
        )
        for r, c in zip(rows, clocks, strict=True)
    ]
    return clocks, plans


def phases(ctx: Any, now: datetime, repeats: int) -> dict[str, Any]:
    """The recompute split into its steps, each timed alone with the real functions."""
    from classroom_support.monitor import SlaService
    from classroom_support.sla_policy import rung_deadlines, sla_event_id

    def fresh() -> Any:
        return SlaService(ctx.db, ctx.clock, ctx.config, ctx.desk)

    rows = read_open_rows(ctx)
    first = min(r.created_at for r in rows)
    raw_sql = open_rows_sql()
    raw = sqlite3.connect(ctx.db.path)
    if len(raw.execute(raw_sql).fetchall()) != len(rows):
        raise RuntimeError("bare sqlite3 read a different number of rows")
    svc = fresh()
    clocks, plans = evaluate_rows(svc, rows, now)
    planned = [(r.id, p.kind) for r, ps in zip(rows, plans, strict=True) for p in ps]
    cal = svc.calendar(rows[0].hall_code)
    dues = [c.first_response.due for c in clocks if c.first_response.due is not None]
    times: dict[str, list[float]] = {k: [] for k in ("read", "calendar", "clocks", "planned")}
    times["read, bare sqlite3 (same SQL, no row processing)"] = []
    times |= {"rung_deadlines once": [], "sla_event_id": []}
    for _ in range(repeats):
        svc = fresh()
        gc.collect()
        t0 = time.perf_counter()
        rows = read_open_rows(ctx)
        t1 = time.perf_counter()
        svc.calendar(rows[0].hall_code).between(first, now + timedelta(days=60))
        t2 = time.perf_counter()
        clocks = [svc.clocks(r, now) for r in rows]
        t3 = time.perf_counter()
        evaluate_planned(svc, rows, clocks, now)
        t4 = time.perf_counter()
        for d in dues:
            rung_deadlines(cal, svc.ladder, d)
        t5 = time.perf_counter()
        for ticket_id, kind in planned:
            sla_event_id(ticket_id, "x", kind)
        t6 = time.perf_counter()
        raw.execute(raw_sql).fetchall()
        t7 = time.perf_counter()
        for k, a, b in (
            ("read", t0, t1),
            ("calendar", t1, t2),
            ("clocks", t2, t3),
            ("planned", t3, t4),
            ("rung_deadlines once", t4, t5),
            ("sla_event_id", t5, t6),
            ("read, bare sqlite3 (same SQL, no row processing)", t6, t7),
        ):
            times[k].append((b - a) * 1000)
    raw.close()
    return {
        "median_ms": {k: round(statistics.median(v), 1) for k, v in times.items()},
        "planned_events": len(planned),
        "tickets_with_first_response_due": len(dues),
    }


def evaluate_planned(svc: Any, rows: Sequence[Any], clocks: Sequence[Any], now: datetime) -> None:
    from classroom_support.monitor import _marks
    from classroom_support.sla_policy import planned_sla_events

    for r, c in zip(rows, clocks, strict=True):
        planned_sla_events(
            svc.calendar(r.hall_code),
            svc.ladder,
            c,
            ticket_id=r.id,
            warned=_marks(r.warned),
            breached=_marks(r.breached),
            escalation_level=r.escalation_level,
            now=now,
        )


PROFILE_GROUPS = (
    ("event ids (uuid5)", ("uuid.py", "sla_event_id")),
    ("calendar (sla.py)", ("classroom_support/sla.py",)),
    ("clocks + ladder (sla_policy.py)", ("classroom_support/sla_policy.py",)),
    ("row read (SQLAlchemy, sqlite3, UTCDateTime)", ("sqlalchemy", "sqlite3", "models.py")),
    ("pause spans (json)", ("json/", "tickets.py")),
    ("monitor loop (monitor.py)", ("classroom_support/monitor.py",)),
)
PROFILE_FUNCTIONS = (
    ("monitor.py", "run"),
    ("monitor.py", "clocks"),
    ("sla_policy.py", "ticket_clocks"),
    ("sla_policy.py", "evaluate_clock"),
    ("sla_policy.py", "planned_sla_events"),
    ("sla_policy.py", "required_rung"),
    ("sla_policy.py", "rung_deadlines"),
    ("sla_policy.py", "sla_event_id"),
    ("sla.py", "add"),
    ("sla.py", "between"),
    ("sla.py", "_build"),
    ("tickets.py", "pause_spans"),
)


def profile_once(fn: Callable[[], object], tickets: int) -> dict[str, Any]:
    """cProfile of one call: own time grouped by layer, and a few functions' cumulative time."""
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    groups: dict[str, float] = {g: 0.0 for g, _ in PROFILE_GROUPS} | {"other": 0.0}
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.items():
        where = f"{filename}:{func}"
        for group, needles in PROFILE_GROUPS:
            if any(n in where for n in needles):
                groups[group] += tt
                break
        else:
            groups["other"] += tt
    funcs: dict[str, dict[str, float]] = {}
    for (filename, _line, func), (_cc, nc, _tt, ct, _callers) in stats.items():
        for file_end, name in PROFILE_FUNCTIONS:
            if func == name and filename.endswith(f"classroom_support/{file_end}"):
                funcs[f"{file_end}:{name}"] = {
                    "calls_per_ticket": round(nc / tickets, 2),
                    "cumulative_pct": round(100 * ct / total, 1),
                }
    return {
        "profiled_total_ms": round(total * 1000),
        "own_time_pct": {g: round(100 * v / total, 1) for g, v in groups.items()},
        "functions": funcs,
    }


def insert_sessions(ctx: Any, plans: Sequence[SessionPlan]) -> int:
    """The year of sessions as CourseSession rows (SessionBook's own conversion), in one write
    transaction and without its change listener (the recompute is what gets timed next)."""
    import uuid

    from classroom_support.models import CourseSession
    from classroom_support.sessions import SessionDraft

    with ctx.db.write() as s:
        for p in plans:
            draft = SessionDraft(
                p.label, "", p.day.isoformat(), p.clock(p.start_minute), p.clock(p.end_minute)
            )
            starts, ends = ctx.sessions.to_instants(draft)
            s.add(
                CourseSession(
                    id=str(uuid.uuid4()),
                    hall_code=ctx.config.hall,
                    course=p.label,
                    starts_at=starts,
                    ends_at=ends,
                    updated_at=ctx.clock.now(),
                )
            )
    return len(plans)


def recompute_variant(ctx: Any, now: datetime, repeats: int, open_count: int) -> dict[str, Any]:
    # Warm (imports, statement cache, pages) with a full recompute: the monitor itself only
    # re-evaluates tickets whose state can have changed, so a plain run() may check fewer.
    first = ctx.sla.calendar_changed()
    if first.checked != open_count:
        raise RuntimeError(f"the monitor checked {first.checked} tickets, not {open_count}")
    seen: dict[str, Any] = {"rows": set(), "checked": set(), "moved": 0}
    # A typical edit: a course added for tomorrow evening. Only deadlines at or after its start
    # can move, so only those tickets are re-evaluated.
    tomorrow = (now + timedelta(days=1)).replace(hour=13, minute=0, second=0, microsecond=0)
    partial: list[float] = []
    partial_checked: set[int] = set()
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = ctx.sla.calendar_changed(since=tomorrow)
        partial.append(time.perf_counter() - t0)
        partial_checked.add(result.checked)

    def read() -> None:
        seen["rows"].add(len(read_open_rows(ctx)))

    def recompute() -> None:
        result = ctx.sla.calendar_changed()
        seen["checked"].add(result.checked)
        seen["moved"] += len(result.moved_earlier)

    times = timed_passes({"read": read, "calendar_changed": recompute}, repeats)
    if seen["rows"] != {open_count} or seen["checked"] != {open_count} or seen["moved"]:
        raise RuntimeError(f"unexpected recompute results: {seen}")
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    return {
        "checked": open_count,
        "read_ms": {"median": round(med["read"], 1), "min": round(min(times["read"]) * 1000, 1)},
        "calendar_changed_ms": {
            "median": round(med["calendar_changed"], 1),
            "min": round(min(times["calendar_changed"]) * 1000, 1),
            "max": round(max(times["calendar_changed"]) * 1000, 1),
        },
        "ratio_to_read": round(med["calendar_changed"] / med["read"], 1),
        "edit_tomorrow_ms": {
            "median": round(statistics.median(partial) * 1000, 1),
            "checked": sorted(partial_checked),
            "verdict": at_most(statistics.median(partial) * 1000, GOAL_RECOMPUTE_MS),
        },
        "per_ticket_us": round(med["calendar_changed"] * 1000 / open_count, 1),
        "verdict": at_most(med["calendar_changed"], GOAL_RECOMPUTE_MS),
    }


def all_deadlines(svc: Any, rows: Sequence[Any], now: datetime) -> dict[str, tuple[Any, ...]]:
    """Every instant a ticket's evaluation names: both dues and every rung deadline."""
    from classroom_support.sla_policy import rung_deadlines

    out: dict[str, tuple[Any, ...]] = {}
    for r in rows:
        c = svc.clocks(r, now)
        fr = c.first_response.due
        rungs = tuple(rung_deadlines(svc.calendar(r.hall_code), svc.ladder, fr)) if fr else ()
        out[r.ref] = (fr, c.resolution.due, *rungs, c.first_response.state, c.resolution.state)
    return out


def edit_whatif(ctx: Any, now: datetime, repeats: int) -> dict[str, Any]:
    """A real edit (SessionBook.add of a session tomorrow 16:00-18:00, which runs the real
    calendar_changed through its listener), and which tickets it can move.

    Working time changes only from the edit's start e0 on, and e0 is after now, so a ticket's
    clocks and ladder can change only if one of its instants (dues, rung deadlines) is at or
    after e0; elapsed time lies before now, and a paused clock has no due until it resumes (a
    desk write, evaluated then). That set is predicted before the edit and checked after it
    against a full re-evaluation; then evaluating only that set (read by id, fresh calendar) is
    timed.
    """
    from sqlalchemy import select as sa_select
    from sqlmodel import col

    from classroom_support.models import Ticket
    from classroom_support.monitor import SLA_COLUMNS, SlaService
    from classroom_support.sessions import SessionDraft

    zone = ctx.config.zone
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    e0 = local_instant(zone, tomorrow, 16 * 60).astimezone(UTC)
    rows = read_open_rows(ctx)
    before = all_deadlines(ctx.sla, rows, now)
    predicted = {ref for ref, v in before.items() if any(d is not None and d >= e0 for d in v[:-2])}
    told: list[Any] = []
    ctx.sla.listeners.append(told.append)  # what the app's listener would be told
    t0 = time.perf_counter()
    ctx.sessions.add(SessionDraft("Bench: extra hours", "", tomorrow.isoformat(), "16:00", "18:00"))
    edit_ms = (time.perf_counter() - t0) * 1000
    ctx.sla.listeners.remove(told.append)
    if len(told) != 1:
        raise RuntimeError(f"the edit ran calendar_changed {len(told)} times, not once")
    after = all_deadlines(SlaService(ctx.db, ctx.clock, ctx.config, ctx.desk), rows, now)
    changed = {ref for ref in before if before[ref] != after[ref]}
    missed = sorted(changed - predicted)
    ids = [r.id for r in rows if r.ref in predicted]

    def subset() -> None:
        svc = SlaService(ctx.db, ctx.clock, ctx.config, ctx.desk)
        with ctx.db.read() as s:
            part = list(s.exec(sa_select(*SLA_COLUMNS).where(col(Ticket.id).in_(ids))))
        evaluate_rows(svc, part, now)

    times = timed_passes({"subset": subset}, repeats)["subset"]
    return {
        "edit": f"session {tomorrow.isoformat()} 16:00-18:00 local",
        "session_add_end_to_end_ms": round(edit_ms, 1),
        "tickets": len(rows),
        "predicted_affected": len(predicted),
        "changed": len(changed),
        "moved_earlier_flagged": len(told[0].moved_earlier),
        "changed_but_not_predicted": missed[:10],
        "subset_recompute_ms": round(statistics.median(times) * 1000, 1),
    }


def measure_recompute(
    recipe: Recipe, rebuild: bool, repeats: int, seed: int, skip_whatif: bool
) -> dict[str, Any]:
    from classroom_support.clock import FixedClock
    from classroom_support.config import Config
    from classroom_support.context import open_context

    source, source_meta = as_built_database(recipe)
    zone = Config().zone
    now = bench_now(source_meta, zone)
    caught, caught_meta = caught_up_database(source, source_meta, recipe, now, rebuild)
    out: dict[str, Any] = {
        "now_local": now.astimezone(zone).isoformat(),
        "database": str(source.relative_to(REPO)),
        "caught_up_database": str(caught.relative_to(REPO)),
        "caught_up_recorded": caught_meta["recorded_events"],
        "variants": {},
    }
    with tempfile.TemporaryDirectory(dir=DATA, prefix="sla-recompute-") as tmp:
        folder = Path(tmp)
        variants: list[tuple[str, Path, bool]] = [
            ("as built", copy_database(source, folder, "built.sqlite3"), False),
            ("as built + a year of sessions", folder / "built.sqlite3", True),
            ("caught up", copy_database(caught, folder, "caught.sqlite3"), False),
        ]
        contexts: dict[Path, Any] = {}
        for name, path, sessions in variants:
            ctx = contexts.get(path) or open_context(NO_CONFIG, path, clock=FixedClock(now))
            contexts[path] = ctx
            if sessions:
                inserted = insert_sessions(ctx, session_plans(SESSIONS_FROM, SESSIONS_TO, seed))
                out["sessions_inserted"] = inserted
                # The edit itself: the cached calendar predates the rows.
                out["sessions_moved_earlier"] = len(ctx.sla.calendar_changed().moved_earlier)
            res = recompute_variant(ctx, now, repeats, recipe.open)
            res["phases"] = phases(ctx, now, max(3, repeats // 2))
            res["profile"] = profile_once(ctx.sla.calendar_changed, recipe.open)
            out["variants"][name] = res
            print(
                f"  {name:<30} calendar_changed {res['calendar_changed_ms']['median']:7.1f} ms"
                f"  read {res['read_ms']['median']:6.1f} ms  (x{res['ratio_to_read']})"
                f"  edit tomorrow {res['edit_tomorrow_ms']['median']:.1f} ms"
                f" ({res['edit_tomorrow_ms']['checked']} tickets)",
                flush=True,
            )
        if not skip_whatif:
            ctx = contexts[folder / "built.sqlite3"]
            out["edit_whatif"] = edit_whatif(ctx, now, repeats)
        for ctx in contexts.values():
            ctx.close()
    # The goal is the edit's recompute (what saving a session or a closure runs); the full
    # recompute (a sync that brought calendar rows, no hint) is reported beside it.
    worst = max(v["edit_tomorrow_ms"]["median"] for v in out["variants"].values())
    out["goal_ms"] = GOAL_RECOMPUTE_MS
    out["edit_worst_median_ms"] = worst
    out["goal_verdict"] = at_most(worst, GOAL_RECOMPUTE_MS)
    return out


# --------------------------------------------------------------------------- 4: idle CPU


APP_CHILD = """
import asyncio, json, sys, time
from datetime import UTC, datetime
from textual.coordinate import Coordinate
from classroom_support.context import open_context

class ShiftedClock:  # the system clock, moved to start at the benchmark's instant
    def __init__(self, start):
        self.offset = start - datetime.now(UTC)
    def now(self):
        return datetime.now(UTC) + self.offset

db, config, start = sys.argv[1:4]
ctx = open_context(config, db, clock=ShiftedClock(datetime.fromisoformat(start)))
from classroom_support.app import ClassroomSupportApp
from classroom_support.screens.queue import QueueScreen

async def ready(pilot):
    app = pilot.app
    while not (isinstance(app.screen, QueueScreen) and app.screen.page and app.screen.page.rows):
        await asyncio.sleep(0.1)
    while not ctx.sla._last_due:  # the monitor job's first run has finished
        await asyncio.sleep(0.1)
    screen = app.screen
    table = screen.query_one("#queue")
    # The Time left cell by its column key: where it is drawn depends on the width (Hall, Age
    # come and go) and the language (Arabic reads from the right, widgets/table.py).
    row = table.coordinate_to_cell_key(Coordinate(0, 0)).row_key
    due = lambda: str(table.get_cell(row, "due"))
    first = due()
    await asyncio.sleep(2.5)
    info = {"open": screen.page.total, "rows": len(screen.visible_tickets),
            "monitor_checked": len(ctx.sla._last_due), "due_then": first, "due_now": due(),
            "scheduler": app.scheduler is not None}
    print("READY " + json.dumps(info, ensure_ascii=False), flush=True)
    if len(sys.argv) > 5:  # profile the UI thread (the monitor's worker thread is not seen)
        import cProfile
        prof = cProfile.Profile(time.thread_time)
        prof.enable()
        await asyncio.sleep(float(sys.argv[5]))
        prof.disable()
        prof.dump_stats(sys.argv[4])
        print("PROFILED", flush=True)
    await asyncio.Event().wait()

app = ClassroomSupportApp(ctx, monitor=True, manage_heap=True)  # as the command line
app.run(headless=True, size=(120, 36), auto_pilot=ready)
"""

BARE_CHILD = """
import asyncio, json
from datetime import datetime
from textual.app import App
from textual.widgets import Footer, Static

class BareApp(App):
    def compose(self):
        yield Static("bench: bare Textual app", id="clock")
        yield Footer()
    def on_mount(self):
        self.set_interval(1, self.tick)
    def tick(self):
        self.query_one("#clock", Static).update(datetime.now().strftime("%H:%M:%S"))

async def ready(pilot):
    await asyncio.sleep(2.5)
    print("READY " + json.dumps({"clock": str(pilot.app.query_one("#clock").render())}), flush=True)
    await asyncio.Event().wait()

BareApp().run(headless=True, size=(120, 36), auto_pilot=ready)
"""


def cpu_ticks(pid: int) -> int:
    """utime + stime of the process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def ready(self) -> dict[str, Any] | None:
        for line in self.out.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("READY "):
                return dict(json.loads(line.removeprefix("READY ")))
        return None


def spawn_child(name: str, code: str, args: list[str], folder: Path) -> Child:
    slug = "".join(ch if ch.isalnum() else "-" for ch in name)
    out, err = folder / f"{slug}.out", folder / f"{slug}.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=REPO,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    return Child(name, proc, out, err)


def stop_child(child: Child) -> int | None:
    """Terminate, then kill if needed; returns the exit code (the process is reaped)."""
    if child.proc.poll() is None:
        child.proc.terminate()
        try:
            child.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait(timeout=10)
    return child.proc.returncode


IDLE_GROUPS = (
    ("arabic shaping / bidi", ("arabic_reshaper", "bidi")),
    (
        "classroom_support SLA (sla, sla_policy, monitor, sla_cell)",
        ("classroom_support/sla", "classroom_support/monitor", "widgets/sla_cell"),
    ),
    ("classroom_support other", ("classroom_support/",)),
    ("DataTable", ("widgets/_data_table",)),
    ("Textual other (compositor, styles, DOM, messages)", ("textual/",)),
    ("Rich (segments, text, measuring)", ("rich/",)),
    ("asyncio / selectors / threading", ("asyncio", "selectors", "threading", "select")),
)


def profile_app(db_source: Path, now: datetime, seconds: float) -> dict[str, Any]:
    """A second app child (not the one measured), profiled on its UI thread for `seconds`."""
    with tempfile.TemporaryDirectory(dir=DATA, prefix="sla-idle-prof-") as tmp:
        folder = Path(tmp)
        db = copy_database(db_source, folder, "app.sqlite3")
        stats_path = folder / "ui.prof"
        args = [str(db), str(NO_CONFIG), now.isoformat(), str(stats_path), str(seconds)]
        child = spawn_child("app-profiled", APP_CHILD, args, folder)
        try:
            deadline = time.monotonic() + 300 + seconds
            while "PROFILED" not in child.out.read_text(errors="replace"):
                if child.proc.poll() is not None or time.monotonic() > deadline:
                    err = child.err.read_text(errors="replace")
                    raise RuntimeError(f"profiled app child failed:\n{err[-3000:]}")
                time.sleep(0.5)
        finally:
            stop_child(child)
        stats = pstats.Stats(str(stats_path)).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    groups: dict[str, float] = {g: 0.0 for g, _ in IDLE_GROUPS} | {"other": 0.0}
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.items():
        where = f"{filename}:{func}"
        for group, needles in IDLE_GROUPS:
            if any(n in where for n in needles):
                groups[group] += tt
                break
        else:
            groups["other"] += tt
    top = sorted(
        ((f"{Path(f).name}:{fn}", ct) for (f, _l, fn), (_c, _n, _t, ct, _) in stats.items()),
        key=lambda kv: -kv[1],
    )
    wanted = (
        "tick_countdowns",
        "due_cell",
        "clock_cell",
        "update_cell",
        "reload",
        "refresh_class_alert",
        "_display",
        "_refresh_layout",
        "render_lines",
    )
    return {
        "seconds": seconds,
        "profiled_cpu_ms_per_s": round(total * 1000 / seconds, 1),
        "own_time_pct": {g: round(100 * v / total, 1) for g, v in groups.items()},
        "cumulative_ms_per_s": {
            name: round(ct * 1000 / seconds, 2)
            for name, ct in top
            if name.split(":", 1)[1] in wanted
        },
    }


def measure_idle(
    recipe: Recipe, rebuild: bool, settle_s: float, window_s: int, profile_s: float
) -> dict[str, Any]:
    from classroom_support.config import Config

    source, source_meta = as_built_database(recipe)
    now = bench_now(source_meta, Config().zone)
    caught, _ = caught_up_database(source, source_meta, recipe, now, rebuild)
    with tempfile.TemporaryDirectory(dir=DATA, prefix="sla-idle-") as tmp:
        folder = Path(tmp)
        # The app at 11:00 local (open: countdowns move every second), the app at 20:00 local
        # (closed: countdowns stand still), and the bare app; each its own copy, same window.
        plan = [("app", now), ("app, closed hours", now + CLOSED_SHIFT), ("bare", None)]
        children: list[Child] = []
        try:
            for i, (name, at) in enumerate(plan):
                if at is None:
                    children.append(spawn_child(name, BARE_CHILD, [], folder))
                    continue
                db = copy_database(caught, folder, f"app{i}.sqlite3")
                args = [str(db), str(NO_CONFIG), at.isoformat()]
                children.append(spawn_child(name, APP_CHILD, args, folder))
            ready: dict[str, dict[str, Any]] = {}
            deadline = time.monotonic() + 300
            while len(ready) < len(children):
                for c in children:
                    if c.proc.poll() is not None:
                        err = c.err.read_text(errors="replace")
                        raise RuntimeError(f"{c.name} exited early:\n{err[-3000:]}")
                    info = c.ready()
                    if info is not None:
                        ready[c.name] = info
                if time.monotonic() > deadline:
                    raise RuntimeError("children not ready after 300 s")
                time.sleep(0.2)
            time.sleep(settle_s)
            samples: dict[str, list[int]] = {c.name: [cpu_ticks(c.proc.pid)] for c in children}
            t_start = time.monotonic()
            for second in range(1, window_s + 1):
                time.sleep(max(0.0, t_start + second - time.monotonic()))
                for c in children:
                    samples[c.name].append(cpu_ticks(c.proc.pid))
            wall = time.monotonic() - t_start
            alive = {c.name: c.proc.poll() is None for c in children}
        finally:
            codes = {c.name: stop_child(c) for c in children}
        leftover = [c.name for c in children if Path(f"/proc/{c.proc.pid}").exists()]
    if leftover:
        raise RuntimeError(f"processes left running: {leftover}")
    out: dict[str, Any] = {
        "window_s": round(wall, 2),
        "settle_s": settle_s,
        "clock_starts_local": {
            name: at.astimezone(ZoneInfo("Asia/Riyadh")).isoformat() for name, at in plan if at
        },
        "processes": {},
    }
    for name, ticks in samples.items():
        per_second = [(b - a) / CLK_TCK * 100 for a, b in itertools.pairwise(ticks)]
        out["processes"][name] = {
            "cpu_pct_of_one_core": round((ticks[-1] - ticks[0]) / CLK_TCK / wall * 100, 2),
            "cpu_seconds": round((ticks[-1] - ticks[0]) / CLK_TCK, 2),
            "per_second_median_pct": round(statistics.median(per_second), 1),
            "per_second_max_pct": round(max(per_second), 1),
            "seconds_over_20pct": sum(1 for p in per_second if p > 20),
            "cpu_pct_in_other_seconds": round(
                statistics.fmean([p for p in per_second if p <= 20] or [0.0]), 2
            ),
            "per_second_pct": [round(p, 1) for p in per_second],
            "ready": ready[name],
            "alive_until_end": alive[name],
            "exit_code_after_stop": codes[name],
        }
    if profile_s > 0:
        out["app_ui_thread_profile"] = profile_app(caught, now, profile_s)
    app = out["processes"]["app"]["cpu_pct_of_one_core"]
    bare = out["processes"]["bare"]["cpu_pct_of_one_core"]
    out["ratio_app_over_bare"] = round(app / bare, 1) if bare else None
    out["goal_pct"] = GOAL_IDLE_PCT
    out["goal_verdict"] = at_most(app, GOAL_IDLE_PCT)
    return out


# --------------------------------------------------------------------------- report


def print_report(result: dict[str, Any]) -> None:
    print()
    print_machine(result["machine"])
    print(f"# command: {result['command']}")
    tp = result.get("throughput")
    if tp:
        print(
            f"\nDeadlines: add(t, 48 h), {tp['cases']['weekly only']['samples']:,} random "
            f"minute-aligned starts in {YEAR}; per second, median of {result['repeats']} passes "
            f"(pandas {tp['pandas']}; {tp['sessions']} sessions, {tp['closed_days']} closed days)"
        )
        for name, c in tp["cases"].items():
            r = c["per_s"]
            line = (
                f"  {name:<16} add {r['add']:>9,}/s ({c['per_call_us']['add']:.2f} us; cold "
                f"{c['cold_pass_per_s']:,}/s)  between {r['between']:>9,}/s"
                f"  floors t+d {r['floor: t + d']:,}/s, b-a {r['floor: b - a']:,}/s"
            )
            print(line)
            if "pandas" in c:
                p = c["pandas"]
                print(
                    f"  {'':<16} pandas Timestamp+offset {r['pandas: Timestamp + offset']:,}/s, "
                    f"DatetimeIndex+offset {r['pandas: DatetimeIndex + offset']:,}/s -> add is "
                    f"{c['ratio_add_vs_pandas']}x pandas; agree {p['agree']:,}, differ only at "
                    f"window end {p['differ_only_at_window_end']:,}, unexplained "
                    f"{p['unexplained']}"
                )
            ch = c["checks"]
            print(
                f"  {'':<16} oracle: add differs {ch['add_differs_from_oracle']}, between "
                f"differs {ch['between_differs_from_oracle']}, between(t, add(t)) != 48 h "
                f"{ch['between_of_add_not_48h']}; fresh == warm "
                f"{ch['same_on_fresh_and_warm_calendar']}"
            )
        if "goal_ratio_verdict" in tp:
            print(
                f"  goal weekly add >= {GOAL_RATIO_VS_PANDAS:g}x pandas: "
                f"{tp['cases']['weekly only']['ratio_add_vs_pandas']}x {tp['goal_ratio_verdict']}"
            )
        full = tp["cases"]["full calendar"]["per_s"]["add"]
        print(f"  goal full calendar >= 100,000/s: {full:,}/s {tp['goal_full_verdict']}")
    rc = result.get("recompute")
    if rc:
        print(f"\nRecompute after a calendar edit (now = {rc['now_local']}):")
        for name, v in rc["variants"].items():
            cc = v["calendar_changed_ms"]
            print(
                f"  {name:<30} calendar_changed median {cc['median']:.1f} ms (min {cc['min']:.1f},"
                f" max {cc['max']:.1f}; {v['per_ticket_us']} us/ticket); read rows "
                f"{v['read_ms']['median']:.1f} ms; x{v['ratio_to_read']}; goal <= 100 ms: "
                f"{v['verdict']}"
            )
            print(f"      phases (ms, unprofiled): {v['phases']['median_ms']}")
            prof = v["profile"]
            print(
                f"      cProfile ({prof['profiled_total_ms']} ms profiled) own time %: "
                f"{prof['own_time_pct']}"
            )
            funcs = ", ".join(
                f"{k} {f['calls_per_ticket']}/ticket {f['cumulative_pct']}%"
                for k, f in prof["functions"].items()
            )
            print(f"      cumulative: {funcs}")
        w = rc.get("edit_whatif")
        if w:
            print(
                f"  what-if, {w['edit']}: SessionBook.add end to end "
                f"{w['session_add_end_to_end_ms']} ms; predicted affected "
                f"{w['predicted_affected']} of {w['tickets']}, changed "
                f"{w['changed']} (not predicted: {len(w['changed_but_not_predicted'])}); "
                f"re-evaluating only those: {w['subset_recompute_ms']} ms"
            )
    idle = result.get("idle")
    if idle:
        print(f"\nIdle CPU over {idle['window_s']} s (after ready + {idle['settle_s']} s):")
        for name, p in idle["processes"].items():
            print(
                f"  {name:<17} {p['cpu_pct_of_one_core']:5.2f} % of one core "
                f"({p['cpu_seconds']} s CPU); per second median {p['per_second_median_pct']} %, "
                f"max {p['per_second_max_pct']} %; {p['seconds_over_20pct']} s over 20 %, the "
                f"other seconds average {p['cpu_pct_in_other_seconds']} %; ready: {p['ready']}"
            )
        prof = idle.get("app_ui_thread_profile")
        if prof:
            print(
                f"  app UI thread, profiled {prof['seconds']} s in another child: "
                f"{prof['profiled_cpu_ms_per_s']} ms/s; own time %: {prof['own_time_pct']}"
            )
            print(f"      cumulative ms/s: {prof['cumulative_ms_per_s']}")
        print(
            f"  app / bare = {idle['ratio_app_over_bare']}x; goal app <= {GOAL_IDLE_PCT:g} %: "
            f"{idle['goal_verdict']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small numbers")
    parser.add_argument("--samples", type=int, help="random starts (default 10000; quick 2000)")
    parser.add_argument("--repeats", type=int, help="timed passes (default 5; quick 3)")
    parser.add_argument("--recompute-repeats", type=int, help="default 7; quick 3")
    parser.add_argument("--idle-seconds", type=int, help="CPU window (default 60; quick 30)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after ready")
    parser.add_argument(
        "--idle-profile-seconds", type=float, help="profile another app child (20; quick 0 = off)"
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--only", default="throughput,recompute,idle", help="comma list")
    parser.add_argument("--no-whatif", action="store_true", help="skip the session-edit what-if")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the caught-up database")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    if parts - {"throughput", "recompute", "idle"}:
        parser.error(f"unknown parts in --only: {sorted(parts)}")
    samples = args.samples or (2000 if args.quick else 10_000)
    repeats = args.repeats or (3 if args.quick else 5)
    rc_repeats = args.recompute_repeats or (3 if args.quick else 7)
    window = args.idle_seconds or (30 if args.quick else 60)
    if args.idle_profile_seconds is None:
        profile_s = 0.0 if args.quick else 20.0
    else:
        profile_s = args.idle_profile_seconds
    ensure_data_dir()
    result: dict[str, Any] = {
        "benchmark": "sla",
        "command": command_line(),
        "machine": machine_info(),
        "repeats": repeats,
    }
    recipe = Recipe(args.tickets, args.open, min(DOMAIN_TICKETS, args.tickets))
    if "throughput" in parts:
        print(f"throughput: {samples} starts, {repeats} passes ...", flush=True)
        result["throughput"] = measure_throughput(samples, repeats, args.seed)
    if "recompute" in parts:
        print(f"recompute: {rc_repeats} repeats ...", flush=True)
        result["recompute"] = measure_recompute(
            recipe, args.rebuild, rc_repeats, args.seed, args.no_whatif
        )
    if "idle" in parts:
        print(f"idle CPU: {window} s window ...", flush=True)
        result["idle"] = measure_idle(recipe, args.rebuild, args.settle, window, profile_s)
    print_report(result)
    saved = write_results("sla", result, args.json)
    print(f"\nresults: {saved.relative_to(REPO) if saved.is_relative_to(REPO) else saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
