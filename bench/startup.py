"""Start-up to the first painted queue, against a bare Textual app; then queue paging speed.

    .venv/bin/python bench/startup.py                      # 7 runs each, 100k tickets, 20k open
    .venv/bin/python bench/startup.py --runs 3 --queue-repeats 5        # quicker
    .venv/bin/python bench/startup.py --tickets 10000 --open 2000       # a smaller database

Part 1 (start-up). Every run is a fresh interpreter (`bench/startup_child.py`) timed from just
before the parent spawns it to the first frame whose text shows the queue's first ticket ref
(see the child's docstring), headless at 120x36. Variants run alternately, in a rotating order,
after one discarded warm-up each, from cached bytecode; the ratio is app / bare of the medians
(and the same of the CPU time each child used until its paint, which other processes on a shared
machine disturb less than the wall clock). Peak RSS is the child's
VmHWM (its `ru_maxrss` would include this parent's size: Linux keeps it across fork and exec).

Part 2 (queue). `TicketDesk.queue(QueueQuery(hall_code="A101", limit=100))` in this process on
the same database: page 1 and the far page (offset 19,900 of 20,000 open), sorted by age and by
priority, and two searches. Cases are interleaved, repeated, and the median reported. Beside
each: the same SQL statements replayed through bare `sqlite3` ("SQL only"), and the ratio to a
baseline measured in the same loop: bare `sqlite3` reading 100 ticket rows by rowid.

The database (cached in bench/.data/, rebuilt with --rebuild or when its recipe changes) gets its
schema from `open_database` (the real migrations). Most tickets are bulk-inserted in one
transaction, each row folded by the real `fold()` from `created`/`responded`/... events that
are inserted alongside; the newest few hundred go through `TicketDesk.create` and its actions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import (
    BENCH_DIR,
    DATA,
    NO_CONFIG,
    REPO,
    command_line,
    ensure_data_dir,
    machine_info,
    print_machine,
    summary,
    verdict,
    write_results,
)

RECIPE_VERSION = 1  # bump when the generated data changes shape
HALL = "A101"
STEP_S = 300  # one ticket every five minutes; each kind's jitter stays below this
DOMAIN_TICKETS = 300  # the newest tickets, made by TicketDesk.create and its actions
OPEN_CYCLE = ("new",) * 6 + ("in_progress",) * 7 + ("waiting",) * 3 + ("resolved",) * 4
PRIORITY_WEIGHTS = (("low", 20), ("normal", 50), ("high", 22), ("critical", 8))
ASSIGNEES = ("L2 - technical support", "Ahmed", "فريق الشبكات")
# (offset from creation in seconds, extra jitter range < STEP_S, ms tag) per event kind. The ms
# tag keeps every event's wall time, hence its HLC, unique without a global sort.
SCHEDULE = {
    "created": (0, 0, 0),
    "responded": (180, 120, 1),
    "assigned": (420, 60, 2),
    "paused": (600, 240, 3),
    "resolved": (1200, 280, 4),
    "verified": (86_400, 280, 5),
}
LAST_EVENT_S = 86_400 + 280 + 1
GOAL_RATIO = 1.5
GOAL_RSS_MIB = 100.0  # issue 13 (it was 120 before)
GOAL_CLI_RATIO = 2.0


# --------------------------------------------------------------------------- the database


@dataclass(frozen=True)
class Recipe:
    tickets: int
    open: int
    domain: int
    seed: int = 20261128

    @property
    def name(self) -> str:
        return f"queue-{self.tickets}-{self.open}-v{RECIPE_VERSION}"

    def is_open(self, i: int) -> bool:
        """Exactly `open` of the `tickets` indices are open, spread evenly."""
        return (i + 1) * self.open // self.tickets > i * self.open // self.tickets

    def status(self, i: int) -> str:
        if not self.is_open(i):
            return "verified"
        k = i * self.open // self.tickets  # 0-based number of this open ticket
        return OPEN_CYCLE[k % len(OPEN_CYCLE)]


def steps_for(status: str, assigned: bool) -> list[str]:
    steps = ["created"]
    if status == "new":
        return steps
    steps.append("responded")
    if assigned:
        steps.append("assigned")
    steps += {
        "in_progress": [],
        "waiting": ["paused"],
        "resolved": ["resolved"],
        "verified": ["resolved", "verified"],
    }[status]
    return steps


def step_payload(kind: str, rnd: random.Random) -> dict[str, Any]:
    return {
        "responded": {"message": "تم التواصل مع المتدرب / contacted the trainee"},
        "assigned": {"assignee": rnd.choice(ASSIGNEES)},
        "paused": {"reason": "بانتظار المتدرب"},
        "resolved": {"summary": "تم الحل / fixed"},
        "verified": {"note": "Verified by L2"},
    }[kind]


def make_draft(i: int, rnd: random.Random) -> Any:
    from classroom_support.demo import NAMES, PROBLEMS
    from classroom_support.tickets import TicketDraft

    title, category, _, channel, seat = PROBLEMS[i % len(PROBLEMS)]
    priority = rnd.choices(
        [p for p, _ in PRIORITY_WEIGHTS], weights=[w for _, w in PRIORITY_WEIGHTS]
    )[0]
    return TicketDraft(
        title=title,
        seat=seat or f"{rnd.randint(1, 30)}",
        trainee_name=rnd.choice(NAMES),
        category=category,
        priority=priority,
        channel=channel,
        caller_number="0551234567" if channel in ("phone", "whatsapp") else "",
        remote_session_id="1 234 567 890" if channel == "remote_access" else "",
        hall_code=HALL,
    )


def row_of(obj: Any) -> dict[str, Any]:
    """Every column of a table model, as the ORM would insert it (unset attributes are NULL)."""
    return {c.key: getattr(obj, c.key, None) for c in obj.__table__.columns}


def db_path(recipe: Recipe) -> Path:
    return DATA / f"{recipe.name}.sqlite3"


def unchanged(path: Path, meta: dict[str, Any]) -> bool:
    """The cached database still holds what was built, at this code's schema: a run that wrote
    to it (a migration, an SLA monitor recording its events, a child killed with its -wal
    full) would make every later measurement read another database, so it is rebuilt."""
    from classroom_support.db_plain import HEAD_REVISION

    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        events = conn.execute("SELECT count(*) FROM ticket_event").fetchone()[0]
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()
    wal = Path(f"{path}-wal")
    return (
        events == meta.get("events")
        and revision == HEAD_REVISION  # built by this code's migrations, never migrated by a run
        and (not wal.exists() or wal.stat().st_size == 0)
    )


def build_database(recipe: Recipe, *, rebuild: bool = False) -> tuple[Path, dict[str, Any]]:
    """The cached database for `recipe`, built (about a minute for 100k) when missing."""
    ensure_data_dir()
    path = db_path(recipe)
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists() and not rebuild:
        meta = json.loads(meta_path.read_text())
        if meta.get("recipe") == recipe.__dict__ | {"version": RECIPE_VERSION} and unchanged(
            path, meta
        ):
            return path, meta
    started = time.perf_counter()
    tmp = path.with_name(path.stem + ".building.sqlite3")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), path, meta_path):
        p.unlink(missing_ok=True)
    from sqlalchemy import insert
    from sqlmodel import SQLModel

    from classroom_support.clock import FixedClock
    from classroom_support.context import open_context
    from classroom_support.hlc import HLC
    from classroom_support.models import TicketEvent
    from classroom_support.tickets import created_payload, fold, validate_draft

    now = datetime.now(UTC).replace(microsecond=0)
    bulk = recipe.tickets - recipe.domain
    # Bulk history first, then a gap, then the domain-made tickets, all ending before now.
    span = recipe.tickets * STEP_S + 2 * (LAST_EVENT_S + 60) + 3600
    base = now - timedelta(seconds=span)
    clock = FixedClock(base)
    ctx = open_context(NO_CONFIG, tmp, clock=clock)
    desk = ctx.desk
    desk.fixed_role = "level2"  # the history includes Level 2's verifications
    device = desk.device
    rnd = random.Random(recipe.seed)
    ticket_table = SQLModel.metadata.tables["ticket"]
    event_table = SQLModel.metadata.tables["ticket_event"]
    actor = ctx.config.technician
    base_ms = int(base.timestamp()) * 1000
    print(f"building {path.name}: {bulk} bulk + {recipe.domain} via TicketDesk ...", flush=True)
    with ctx.db.engine.begin() as conn:  # one BEGIN IMMEDIATE transaction
        chunk_t: list[dict[str, Any]] = []
        chunk_e: list[dict[str, Any]] = []
        for i in range(bulk):
            seq = i + 1
            draft = validate_draft(make_draft(i, rnd), ctx.config)
            created_ms = base_ms + i * STEP_S * 1000
            ticket_id = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            payload = created_payload(draft, device.ref_prefix, seq, "")  # no session
            events = []
            for kind in steps_for(recipe.status(i), assigned=i % 6 == 0):
                offset_s, jitter_s, tag = SCHEDULE[kind]
                wall_ms = created_ms + (offset_s + rnd.randrange(jitter_s + 1)) * 1000 + tag
                events.append(
                    TicketEvent(
                        id=str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                        ticket_id=ticket_id,
                        kind=kind,
                        payload=json.dumps(
                            payload if kind == "created" else step_payload(kind, rnd),
                            ensure_ascii=False,
                        ),
                        device_id=device.device_id,
                        actor=actor,
                        occurred_at=datetime.fromtimestamp(wall_ms / 1000, UTC),
                        hlc=HLC(wall_ms, 0).encode(),
                    )
                )
            ticket = fold(events)  # the real projection of these events
            if ticket.conflicts:
                raise RuntimeError(f"generated events conflict for ticket {i}")
            chunk_t.append(row_of(ticket))
            chunk_e.extend(row_of(e) for e in events)
            if len(chunk_t) >= 5000 or i == bulk - 1:
                conn.execute(insert(ticket_table), chunk_t)
                conn.execute(insert(event_table), chunk_e)
                chunk_t, chunk_e = [], []
                if (i + 1) % 25_000 < 5000 or i == bulk - 1:
                    print(f"  {i + 1} bulk tickets", flush=True)
    # The newest tickets through the real write path, every command at its own clock time.
    domain_base = base + timedelta(seconds=bulk * STEP_S + LAST_EVENT_S + 60)
    plan: list[tuple[datetime, int, str]] = []
    for j in range(recipe.domain):
        i = bulk + j
        created = domain_base + timedelta(seconds=j * STEP_S)
        for kind in steps_for(recipe.status(i), assigned=i % 6 == 0):
            offset_s, jitter_s, _ = SCHEDULE[kind]
            when = created + timedelta(seconds=offset_s + rnd.randrange(jitter_s + 1))
            plan.append((when, i, kind))
    refs: dict[int, str] = {}
    for when, i, kind in sorted(plan):
        clock.set(when)
        if kind == "created":
            refs[i] = desk.create(make_draft(i, rnd)).ref
        elif kind == "responded":
            desk.respond(refs[i], step_payload(kind, rnd)["message"])
        elif kind == "assigned":
            desk.assign(refs[i], step_payload(kind, rnd)["assignee"])
        elif kind == "paused":
            desk.pause(refs[i], step_payload(kind, rnd)["reason"])
        elif kind == "resolved":
            desk.resolve(refs[i], step_payload(kind, rnd)["summary"])
        elif kind == "verified":
            desk.verify(refs[i], step_payload(kind, rnd)["note"])
    checks = check_database(ctx, recipe, rnd)
    ctx.close()
    conn2 = sqlite3.connect(tmp)
    conn2.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn2.close()
    for p in (Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    tmp.rename(path)
    meta = {
        "recipe": recipe.__dict__ | {"version": RECIPE_VERSION},
        "built_utc": now.isoformat(),
        "build_seconds": round(time.perf_counter() - started, 1),
        "size_mib": round(path.stat().st_size / 2**20, 1),
        **checks,
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"built {path.name} in {meta['build_seconds']} s ({meta['size_mib']} MiB)")
    return path, meta


def check_database(ctx: Any, recipe: Recipe, rnd: random.Random) -> dict[str, Any]:
    """Counts as asked, and sampled rows equal to the fold of their stored events."""
    from sqlmodel import func, select

    from classroom_support.models import Ticket, TicketEvent
    from classroom_support.tickets import fold

    with ctx.db.read() as s:
        total = s.exec(select(func.count()).select_from(Ticket)).one()
        events = s.exec(select(func.count()).select_from(TicketEvent)).one()
        by_status = dict(s.exec(select(Ticket.status, func.count()).group_by(Ticket.status)).all())
        halls = s.exec(select(func.count(func.distinct(Ticket.hall_code)))).one()
        ids = list(s.exec(select(Ticket.id)).all())
    open_now = ctx.desk.count_open(HALL)
    if total != recipe.tickets or open_now != recipe.open or halls != 1:
        raise RuntimeError(f"bad database: {total} tickets, {open_now} open, {halls} halls")
    for ticket_id in rnd.sample(ids, min(200, len(ids))):
        row = ctx.desk.get(ticket_id)
        if row_of(fold(ctx.desk.history(ticket_id))) != row_of(row):
            raise RuntimeError(f"ticket {ticket_id} differs from the fold of its events")
    return {"tickets": total, "events": events, "open_in_hall": open_now, "by_status": by_status}


SYNCED_URL = "https://central.example.org"  # never contacted: the children run no sync
SYNCED_TOKEN = "bench-token-0123456789abcdef"


def synced_database(base: Path, meta: dict[str, Any]) -> Path:
    """A copy of the cached database on a desk with sync set up, as `classroom-support connect`
    and a first sync leave it: the central URL and the scope in `sync_state`, the last run
    online, the 0600 token file beside it. Its events stay unacknowledged, so the header counts
    the outbox up to its cap ("10000+ to send"): the most the sync state costs the first frame.
    Rebuilt with the base database, or when a run wrote to it."""
    from classroom_support.db_plain import TOKEN_SUFFIX

    path = base.with_name(base.stem + "-synced.sqlite3")
    meta_path = path.with_suffix(".json")
    token = path.with_name(path.name + TOKEN_SUFFIX)
    wanted = {"base_built_utc": meta["built_utc"], "events": meta["events"]}
    if (
        path.exists()
        and token.exists()
        and meta_path.exists()
        and json.loads(meta_path.read_text()) == wanted
        and unchanged(path, wanted)
    ):
        return path
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), token, meta_path):
        p.unlink(missing_ok=True)
    source = sqlite3.connect(f"{base.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(path)
    try:
        source.backup(target)
        when = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        with target:
            target.execute(
                "INSERT OR REPLACE INTO sync_state (id, central_url, cursor, device_bound, "
                "device_name, halls, role, all_halls, last_attempt_at, last_success_at, "
                "last_result, last_error, skew_ms, failures, next_attempt_at) "
                "VALUES (1, ?, 0, 1, ?, ?, 'hall', 0, ?, ?, 'ok', '', 40, 0, NULL)",
                (SYNCED_URL, f"hall laptop {HALL}", HALL, when, when),
            )
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        source.close()
        target.close()
    for p in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    token.write_text(SYNCED_TOKEN + "\n", encoding="ascii")
    token.chmod(0o600)
    meta_path.write_text(json.dumps(wanted, indent=2) + "\n")
    return path


def demo_database() -> Path:
    """A small database: the 36 demo tickets of `classroom-support --demo`."""
    ensure_data_dir()
    path = DATA / "demo-36.sqlite3"
    if path.exists():
        return path
    from classroom_support.context import open_context
    from classroom_support.demo import fill_demo

    tmp = path.with_name("demo-36.building.sqlite3")
    tmp.unlink(missing_ok=True)
    ctx = open_context(NO_CONFIG, tmp)
    fill_demo(ctx)
    ctx.close()
    tmp.rename(path)
    return path


# --------------------------------------------------------------------------- start-up


CHILD = BENCH_DIR / "startup_child.py"


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    for key in ("CLASSROOM_SUPPORT_CONFIG", "CLASSROOM_SUPPORT_DB", "PYTHONPROFILEIMPORTTIME"):
        env.pop(key, None)
    # Every variant starts from cached bytecode, as an installed program does (pip compiles
    # it): the warm-up writes it, here rather than beside the sources. With
    # PYTHONDONTWRITEBYTECODE inherited, the app's own modules were compiled from source on
    # every run while Textual's came from site-packages' .pyc files.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
    return env


def spawn(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    env = dict(env)
    t_spawn = time.perf_counter()
    env["BENCH_SPAWN_T"] = repr(t_spawn)
    proc = subprocess.run(
        [sys.executable, str(CHILD), *argv],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    t_reaped = time.perf_counter()
    line = next((x for x in proc.stdout.splitlines() if x.startswith("BENCH-RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(
            f"child {argv} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}"
        )
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH-RESULT "))
    marks = result["marks"]
    result["to_paint_s"] = marks["painted"] - t_spawn
    result["script_to_paint_s"] = marks["painted"] - marks["top"]
    result["interpreter_s"] = marks["top"] - t_spawn
    result["wall_until_reaped_s"] = t_reaped - t_spawn
    return result


def measure_startup(
    variants: dict[str, list[str]], runs: int, warmup: int = 1
) -> dict[str, list[dict[str, Any]]]:
    if time.get_clock_info("perf_counter").implementation != "clock_gettime(CLOCK_MONOTONIC)":
        raise SystemExit("perf_counter is not CLOCK_MONOTONIC here; parent/child times differ")
    env = child_env()
    names = list(variants)
    for _ in range(warmup):  # page cache, .pyc files
        for name in names:
            spawn(variants[name], env)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for r in range(runs):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
        for name in order:
            results[name].append(spawn(variants[name], env))
            res = results[name][-1]
            print(
                f"  run {r + 1}/{runs} {name:<9} {res['to_paint_s'] * 1000:7.1f} ms  "
                f"{res['peak_rss_kib'] / 1024:6.1f} MiB",
                flush=True,
            )
    return results


def import_profile(argv: list[str]) -> dict[str, Any]:
    """One extra child under `-X importtime`: import self-time summed per top-level package.

    importtime's own overhead inflates the numbers; read them as shares, not as start-up time.
    """
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(CHILD), *argv],
        env=child_env(),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    per_root: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        head, _cumulative, name = line.split("|", 2)
        root = name.strip().split(".")[0]
        per_root[root] = per_root.get(root, 0) + int(head.split(":")[1])
    total = sum(per_root.values())
    top = sorted(per_root.items(), key=lambda kv: -kv[1])[:12]
    return {
        "argv": argv,
        "total_ms": round(total / 1000, 1),
        "top_packages_ms": {k: round(v / 1000, 1) for k, v in top},
    }


def startup_summary(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, runs in results.items():
        phases: dict[str, float] = {}
        marks = [r["marks"] for r in runs]
        if "ready" in marks[0]:
            spans = {
                "interpreter (spawn → script top)": ("spawn", "top"),
                "import classroom_support.tui": ("top", "imported"),
                "make_app (Textual, settings, first frame or context)": ("imported", "constructed"),
                "App.run → queue painted": ("constructed", "painted"),
                "painted → real context in (not on the path)": ("painted", "ready"),
            }
        else:
            spans = {
                "interpreter (spawn → script top)": ("spawn", "top"),
                "import textual.app + widgets": ("top", "imported"),
                "App() → painted": ("imported", "painted"),
            }
        for label, (a, b) in spans.items():
            vals = [
                (r["marks"][b] - (r["spawn"] if a == "spawn" else r["marks"][a])) * 1000
                for r in runs
            ]
            phases[label] = round(statistics.median(vals), 1)
        to_paint = [r["to_paint_s"] * 1000 for r in runs]
        cpu = [r["marks"].get("painted_cpu", float("nan")) * 1000 for r in runs]
        rss = [r["peak_rss_kib"] / 1024 for r in runs]
        out[name] = {
            "to_paint_ms": {k: round(v, 1) for k, v in summary(to_paint).items()},
            "cpu_to_paint_ms_median": round(statistics.median(cpu), 1),
            "script_to_paint_ms_median": round(
                statistics.median(r["script_to_paint_s"] * 1000 for r in runs), 1
            ),
            "peak_rss_mib": {
                "median": round(statistics.median(rss), 1),
                "max": round(max(rss), 1),
            },
            "phases_ms_median": phases,
            "modules": runs[0]["modules"],
            "first_frame_path": runs[0].get("first_frame"),
            "heavy_imported_at_paint": runs[0].get("heavy_at_paint"),
            "peak_rss_at_paint_mib_max": round(
                max(r.get("peak_rss_kib_at_paint", 0) for r in runs) / 1024, 1
            ),
            "frames_to_paint": [int(r["marks"]["frames"]) for r in runs],
            "queue_total": runs[0].get("queue_total"),
            "raw_to_paint_ms": [round(x, 1) for x in to_paint],
        }
    if "app" in results and "bare" in results:
        app, bare = results["app"], results["bare"]
        pairs = [a["to_paint_s"] / b["to_paint_s"] for a, b in zip(app, bare, strict=True)]
        ratio = out["app"]["to_paint_ms"]["median"] / out["bare"]["to_paint_ms"]["median"]
        out["ratio_app_over_bare"] = round(ratio, 2)
        out["ratio_app_over_bare_pairwise_median"] = round(statistics.median(pairs), 2)
        out["cpu_ratio_app_over_bare"] = round(
            out["app"]["cpu_to_paint_ms_median"] / out["bare"]["cpu_to_paint_ms_median"], 2
        )
        out["goal_ratio"] = GOAL_RATIO
        out["goal_ratio_verdict"] = verdict(ratio, GOAL_RATIO)
        out["goal_rss_mib"] = GOAL_RSS_MIB
        out["goal_rss_verdict"] = verdict(out["app"]["peak_rss_mib"]["max"], GOAL_RSS_MIB)
        if "app-orm-first" in results:
            before = results["app-orm-first"]
            out["ratio_orm_first_over_bare"] = round(
                out["app-orm-first"]["to_paint_ms"]["median"]
                / out["bare"]["to_paint_ms"]["median"],
                2,
            )
            out["ratio_orm_first_over_bare_pairwise_median"] = round(
                statistics.median(
                    a["to_paint_s"] / b["to_paint_s"] for a, b in zip(before, bare, strict=True)
                ),
                2,
            )
    if "app-synced" in results and "bare" in results:
        synced, bare = results["app-synced"], results["bare"]
        ratio = out["app-synced"]["to_paint_ms"]["median"] / out["bare"]["to_paint_ms"]["median"]
        out["app-synced"]["ratio_over_bare"] = round(ratio, 2)
        out["app-synced"]["ratio_over_bare_pairwise_median"] = round(
            statistics.median(
                a["to_paint_s"] / b["to_paint_s"] for a, b in zip(synced, bare, strict=True)
            ),
            2,
        )
        out["app-synced"]["goal_ratio_verdict"] = verdict(ratio, GOAL_RATIO)
        out["app-synced"]["cpu_ratio_over_bare"] = round(
            out["app-synced"]["cpu_to_paint_ms_median"] / out["bare"]["cpu_to_paint_ms_median"], 2
        )
        if "app" in results:
            out["app-synced"]["ratio_over_app"] = round(
                out["app-synced"]["to_paint_ms"]["median"] / out["app"]["to_paint_ms"]["median"],
                2,
            )
        out["app-synced"]["header_sync_at_paint"] = synced[0].get("header_sync_at_paint")
    return out


# --------------------------------------------------------------------------- queue


def queue_cases(recipe: Recipe, rare_ref: str) -> dict[str, dict[str, Any]]:
    far = max(0, recipe.open - 100)
    return {
        "age, page 1": {"sort": "age"},
        f"age, offset {far}": {"sort": "age", "offset": far},
        "priority, page 1": {"sort": "priority"},
        f"priority, offset {far}": {"sort": "priority", "offset": far},
        "search 'projector', page 1": {"search": "projector"},
        f"search '{rare_ref}' (1 hit)": {"search": rare_ref},
    }


def open_raw(path: Path) -> sqlite3.Connection:
    """A bare sqlite3 connection with the app's pragmas (classroom_support.db._on_connect)."""
    from classroom_support.db import BUSY_TIMEOUT_MS

    raw = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
    ):
        raw.execute(f"PRAGMA {pragma}")
    return raw


@dataclass
class QueueCases:
    queries: dict[str, Any]  # name -> QueueQuery
    sql: dict[str, list[tuple[str, Any]]]  # name -> the SELECTs desk.queue ran, with params
    totals: dict[str, int]
    search_terms: dict[str, str]


class _Recording:
    """A sqlite3 connection that keeps the SELECTs run through it, with their parameters."""

    def __init__(self, conn: sqlite3.Connection, into: list[tuple[str, Any]]) -> None:
        self.conn, self.into = conn, into

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self.into.append((sql, tuple(params)))
        return self.conn.execute(sql, params)


def capture_queue_sql(desk: Any, recipe: Recipe) -> QueueCases:
    """Run every case once, recording the exact SQL `desk.queue` runs (queue_sql.read_page)."""
    from classroom_support.queue_sql import read_page
    from classroom_support.ticket_rows import TICKET_COLUMNS
    from classroom_support.tickets import QueueQuery

    newest = desk.queue(QueueQuery(hall_code=HALL, sort="ref", descending=True, limit=1))
    rare_ref = newest.rows[0].ref if newest.rows else "ZZZZ-0"
    cases = queue_cases(recipe, rare_ref)
    queries = {name: QueueQuery(hall_code=HALL, limit=100, **kw) for name, kw in cases.items()}
    sql: dict[str, list[tuple[str, Any]]] = {}
    totals: dict[str, int] = {}
    raw = open_raw(desk.db.path)
    try:
        for name, query in queries.items():
            page = desk.queue(query)
            sql[name] = []
            read_page(_Recording(raw, sql[name]), query, TICKET_COLUMNS)
            totals[name] = page.total
            if not page.rows:
                raise RuntimeError(f"queue case {name!r} returned no rows")
    finally:
        raw.close()
    terms = {name: kw["search"] for name, kw in cases.items() if "search" in kw}
    return QueueCases(queries, sql, totals, terms)


def query_plan(raw: sqlite3.Connection, statement: str, params: Any) -> str:
    return " | ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", params))


def measure_queue(path: Path, recipe: Recipe, repeats: int) -> dict[str, Any]:
    from classroom_support.context import open_context

    ctx = open_context(NO_CONFIG, path)
    desk = ctx.desk
    found = capture_queue_sql(desk, recipe)
    queries, sql, totals = found.queries, found.sql, found.totals
    raw = open_raw(path)
    # A word search's statements fill the connection's temporary hits tables (queue_search):
    # they must exist for EXPLAIN to plan them before the replay runs their CREATE.
    from classroom_support.queue_search import create_hits_tables

    create_hits_tables(raw)
    plans = {
        name: [query_plan(raw, stmt, params) for stmt, params in statements]
        for name, statements in sql.items()
    }

    def replay(statements: list[tuple[str, Any]]) -> None:
        raw.execute("BEGIN")
        for stmt, params in statements:
            raw.execute(stmt, params).fetchall()
        raw.execute("COMMIT")

    def baseline() -> None:
        raw.execute("BEGIN")
        raw.execute("SELECT * FROM ticket ORDER BY rowid LIMIT 100").fetchall()
        raw.execute("COMMIT")

    timings: dict[str, list[float]] = {"baseline": []}
    for name in queries:
        timings[name] = []
        timings[name + " [sql]"] = []
    jobs: list[tuple[str, Any]] = [("baseline", baseline)]
    for name, query in queries.items():
        jobs.append((name, lambda q=query: desk.queue(q)))
        jobs.append((name + " [sql]", lambda st=sql[name]: replay(st)))
    for fn in (j for _, j in jobs):  # warm-up: caches, statement compilation
        fn()
    for r in range(repeats):
        order = jobs[r % len(jobs) :] + jobs[: r % len(jobs)]
        for name, fn in order:
            t0 = time.perf_counter()
            fn()
            timings[name].append((time.perf_counter() - t0) * 1000)
    raw.close()
    ctx.close()
    base = statistics.median(timings["baseline"])
    rows = {}
    for name in queries:
        med = statistics.median(timings[name])
        rows[name] = {
            "total": totals[name],
            "median_ms": round(med, 2),
            "min_ms": round(min(timings[name]), 2),
            "max_ms": round(max(timings[name]), 2),
            "sql_only_median_ms": round(statistics.median(timings[name + " [sql]"]), 2),
            "ratio_to_baseline": round(med / base, 1),
            "plan": plans[name],
        }
    return {"repeats": repeats, "baseline_median_ms": round(base, 3), "cases": rows}


# --------------------------------------------------------------------------- report


def print_report(result: dict[str, Any]) -> None:
    print()
    print_machine(result["machine"])
    print(f"# command: {result['command']}")
    meta = result["database"]
    print(
        f"# database: {meta['tickets']} tickets ({meta['open_in_hall']} open in {HALL}), "
        f"{meta['events']} events, {meta['size_mib']} MiB"
    )
    st = result.get("startup")
    if st:
        print(f"\nStart-up to first painted frame, {result['runs']} runs each (ms, from spawn):")
        for name, s in st.items():
            if not isinstance(s, dict):
                continue
            t = s["to_paint_ms"]
            print(
                f"  {name:<9} median {t['median']:7.1f}  min {t['min']:7.1f}  max {t['max']:7.1f}"
                f"   peak RSS {s['peak_rss_mib']['median']:6.1f} MiB (max "
                f"{s['peak_rss_mib']['max']:.1f})   {s['modules']} modules"
            )
            for label, ms in s["phases_ms_median"].items():
                print(f"      {label:<48} {ms:7.1f}")
            cpu_label = "CPU time, process start → painted"
            print(f"      {cpu_label:<48} {s['cpu_to_paint_ms_median']:7.1f}")
            if "importtime" in s:
                imp = s["importtime"]
                tops = ", ".join(
                    f"{k} {v:.0f}" for k, v in list(imp["top_packages_ms"].items())[:8]
                )
                print(f"      -X importtime (inflated): {imp['total_ms']:.0f} ms total; {tops}")
        synced = st.get("app-synced", {})
        if "ratio_over_bare" in synced:
            print(
                f"  app-synced / bare = {synced['ratio_over_bare']:.2f}x (pairwise median "
                f"{synced['ratio_over_bare_pairwise_median']:.2f}x; / app "
                f"{synced.get('ratio_over_app', float('nan')):.2f}x); goal <= {GOAL_RATIO}x: "
                f"{synced['goal_ratio_verdict']}; CPU time / bare "
                f"{synced['cpu_ratio_over_bare']:.2f}x; first frame from sqlite3: "
                f"{synced['first_frame_path']}; header at paint: "
                f"{synced['header_sync_at_paint']!r}"
            )
        if "ratio_app_over_bare" in st:
            print(
                f"  app / bare = {st['ratio_app_over_bare']:.2f}x "
                f"(pairwise median {st['ratio_app_over_bare_pairwise_median']:.2f}x); "
                f"goal <= {GOAL_RATIO}x: {st['goal_ratio_verdict']}"
            )
            print(
                f"  CPU time to the paint, app / bare = {st['cpu_ratio_app_over_bare']:.2f}x "
                "(less sensitive to the other processes of a shared machine)"
            )
            print(
                f"  app peak RSS max {st['app']['peak_rss_mib']['max']:.1f} MiB; "
                f"goal <= {GOAL_RSS_MIB:.0f} MiB: {st['goal_rss_verdict']}"
            )
    q = result.get("queue")
    if q:
        print(
            f"\nTicketDesk.queue, limit 100, median of {q['repeats']} "
            f"(baseline: bare sqlite3 100 rows by rowid = {q['baseline_median_ms']:.3f} ms):"
        )
        for name, c in q["cases"].items():
            print(
                f"  {name:<30} {c['total']:>6} hits {c['median_ms']:7.2f} ms"
                f"  (x{c['ratio_to_baseline']:>6} baseline;"
                f" SQL only {c['sql_only_median_ms']:6.2f} ms)"
            )
            for plan in c["plan"]:
                print(f"      plan: {plan}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="start-up runs per variant")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=20_000, help="open tickets among them")
    parser.add_argument("--queue-repeats", type=int, default=15)
    parser.add_argument(
        "--variants",
        default="app,bare,app-orm-first,app-demo,app-synced",
        help="comma list of app (big DB), bare, app-orm-first (the context opened before the "
        "first frame, as before issue 13), app-demo (36 demo tickets), app-synced (the big DB "
        "on a desk with sync set up), app-synced-orm-first (that desk's start before: the "
        "context first)",
    )
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-queue", action="store_true")
    parser.add_argument(
        "--no-importtime", action="store_true", help="skip the extra -X importtime child"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not 0 < args.open <= args.tickets:
        parser.error("need 0 < --open <= --tickets")

    result: dict[str, Any] = {
        "benchmark": "startup",
        "command": command_line(),
        "machine": machine_info(),
        "runs": args.runs,
    }
    recipe = Recipe(args.tickets, args.open, min(DOMAIN_TICKETS, args.tickets))
    path, meta = build_database(recipe, rebuild=args.rebuild)
    result["database"] = meta | {"path": str(path.relative_to(REPO))}
    if not args.skip_startup:
        available = {
            "app": ["app", str(path), str(NO_CONFIG)],
            "bare": ["bare"],
            "app-demo": ["app", str(demo_database()), str(NO_CONFIG)],
            "app-orm-first": ["app-orm-first", str(path), str(NO_CONFIG)],
            "app-synced": ["app", str(synced_database(path, meta)), str(NO_CONFIG)],
            "app-synced-orm-first": [
                "app-orm-first",
                str(synced_database(path, meta)),
                str(NO_CONFIG),
            ],
        }
        wanted = [v.strip() for v in args.variants.split(",") if v.strip()]
        unknown = set(wanted) - available.keys()
        if unknown:
            parser.error(f"unknown variants {sorted(unknown)}")
        print(f"start-up: {args.runs} runs of {', '.join(wanted)} ...", flush=True)
        raw = measure_startup({v: available[v] for v in wanted}, args.runs)
        result["startup"] = startup_summary(raw)
        if not args.no_importtime:
            for variant in ("app", "bare"):
                if variant in wanted:
                    result["startup"][variant]["importtime"] = import_profile(available[variant])
    if not args.skip_queue:
        print(f"queue: {args.queue_repeats} repeats ...", flush=True)
        result["queue"] = measure_queue(path, recipe, args.queue_repeats)
    print_report(result)
    saved = write_results("startup", result, args.json)
    print(f"\nresults: {saved.relative_to(REPO) if saved.is_relative_to(REPO) else saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
