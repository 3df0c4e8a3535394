"""The central server under a morning's load: many hall laptops syncing and trainees posting the
web form at once, against `central serve` with 1 and 4 workers on SQLite and on PostgreSQL.

    .venv/bin/python bench/central_load.py                          # 60 s per case, 4 cases
    .venv/bin/python bench/central_load.py --seconds 15 --engines sqlite --workers 4

Each case: a fresh central database (a SQLite file with synchronous=FULL, or a database on a
PostgreSQL cluster that this script starts in a temp dir with fsync on, via
tests/postgres_support.py), a config with --halls halls, one device per laptop registered with
the store (what `central add-device` runs), then `classroom-support central serve --workers W`
as a subprocess on 127.0.0.1 (tests/central_process.py). Driven from other processes:

- laptops (--laptops, split over --laptop-procs processes, a thread each): a real laptop
  database (`open_context`, SQLite) and the real `SyncClient`, every --sync-every seconds
  (phases spread evenly): file a ticket, answer or annotate an earlier one, then sync (hello
  once, push, pull). Each laptop connects from its own loopback address (127.0.2.N), as hall
  laptops come from their own machines. Every request is timed by a recording transport (the
  whole answer read), and every event id in every pull answer is counted.
- trainees: --form-rate posts per second, paced (open loop), each a fresh browser (new
  connection and cookie) from one of 60 addresses (127.0.3.N): GET /form, then POST with its
  token, expecting 303. At 20/s over 60 s that is 20 posts per address, under the default
  limit of 30 per address per minute.

After the load window every laptop syncs until nothing moves, the server is queried and the
case is checked: every laptop event is stored (durable), every event of a laptop's hall came to
that laptop exactly once (none missing, none twice), every 303 is one web-form ticket, no
request failed, no 5xx (SQLite may answer 503 + Retry-After when busy; counted apart), and the
server log holds no traceback. Results: bench/.data/results/central_load-latest.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import re
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
from benchlib import (
    REPO,
    command_line,
    ensure_data_dir,
    machine_info,
    print_machine,
    summary,
    write_results,
)

sys.path.insert(0, str(REPO / "tests"))  # the server process and PostgreSQL helpers

TOKEN_RE = re.compile(r'name="csrf" value="([^"]+)"')
FORM_ADDRESSES = 60
PHASE_TIMEOUT_S = 300.0


# --------------------------------------------------------------------------- configuration


def hall_codes(n: int) -> list[str]:
    return [f"H{i:02d}" for i in range(1, n + 1)]


def config_text(halls: list[str], hall: str) -> str:
    lines = ["[ui]", 'language = "en"', "[device]", f'hall = "{hall}"', 'technician = "bench"']
    for code in halls:
        lines += ["[[halls]]", f'code = "{code}"', f'name = "Hall {code}"']
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- recording


class Recorder:
    """Latencies and statuses per endpoint, for one process; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.phase = "setup"
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter[str]] = defaultdict(Counter)
        self.errors: list[str] = []

    def add(self, endpoint: str, status: str, ms: float, detail: str = "") -> None:
        with self.lock:
            self.status[f"{self.phase} {endpoint}"][status] += 1
            if self.phase == "load":
                self.ms[endpoint].append(ms)
            if detail and len(self.errors) < 50:
                self.errors.append(f"{self.phase} {endpoint} {status}: {detail}"[:300])

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "ms": dict(self.ms),
                "status": {k: dict(v) for k, v in self.status.items()},
                "errors": list(self.errors),
            }


class RecordingTransport(httpx.BaseTransport):
    """The laptop's HTTP transport from its own address: times each request to the end of its
    answer and counts the event ids of each pull. A fresh connection pool per sync (SyncClient
    closes its client after each run), as a laptop syncing every few seconds would have."""

    def __init__(self, address: str, recorder: Recorder) -> None:
        self.address = address
        self.recorder = recorder
        # Made once (an httpx transport builds a TLS context: costly CPU for the driver); a
        # connection idle for 2 s is not reused, so each sync opens its own and never meets
        # one the server closed (uvicorn keeps idle ones 5 s).
        self.inner = httpx.HTTPTransport(
            local_address=address, limits=httpx.Limits(keepalive_expiry=2.0)
        )
        self.pulled: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = "sync " + request.url.path.rsplit("/", 1)[-1]
        started = time.perf_counter()
        try:
            response = self.inner.handle_request(request)
            response.read()
        except httpx.TransportError as exc:
            ms = (time.perf_counter() - started) * 1000
            self.recorder.add(endpoint, "error", ms, f"{type(exc).__name__}: {exc}")
            raise
        ms = (time.perf_counter() - started) * 1000
        detail = response.text[:200] if response.status_code >= 400 else ""
        if response.status_code == 503:
            detail += f" retry-after={response.headers.get('retry-after')}"
        self.recorder.add(endpoint, str(response.status_code), ms, detail)
        if endpoint == "sync pull" and response.status_code == 200:
            for event in json.loads(response.content)["events"]:
                self.pulled[event["id"]] += 1
        return response

    def close(self) -> None:
        """SyncClient closes its client after each run: keep the transport (see __init__)."""

    def shut(self) -> None:
        self.inner.close()


class SharedTransport(httpx.BaseTransport):
    """One address's transport shared by many short-lived browsers: no connection is kept,
    so each browser opens its own; closing a browser does not close this."""

    def __init__(self, address: str) -> None:
        self.inner = httpx.HTTPTransport(
            local_address=address, limits=httpx.Limits(max_keepalive_connections=0)
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- laptops


def laptop_process(spec: dict[str, Any], queue: Any, go: Any, drain: Any) -> None:
    """One driver process: its laptops set up, then a thread each for the load window, then a
    final sync of each until quiet; results back through `queue`."""
    from sqlmodel import select

    from classroom_support.context import open_context
    from classroom_support.models import DeviceIdentity, TicketEvent
    from classroom_support.sync import SyncClient
    from classroom_support.tickets import InvalidTransition, TicketDraft

    recorder = Recorder()
    laptops: list[dict[str, Any]] = []
    try:
        # One laptop database made the slow way (schema, seed data), copied for each laptop,
        # which then gets its own identity: a new device id, the prefix comes with hello.
        template = Path(spec["laptops"][0]["folder"]).parent / f"template{spec['index']}.sqlite3"
        template_config = template.with_suffix(".toml")
        template_config.write_text(config_text(spec["halls"], spec["halls"][0]), "utf-8")
        open_context(template_config, template).close()
        for lap in spec["laptops"]:
            folder = Path(lap["folder"])
            folder.mkdir(parents=True, exist_ok=True)
            config = folder / "laptop.toml"
            config.write_text(config_text(spec["halls"], lap["hall"]), encoding="utf-8")
            with (
                sqlite3.connect(template) as source,
                sqlite3.connect(folder / "laptop.sqlite3") as copy,
            ):
                source.backup(copy)
            ctx = open_context(config, folder / "laptop.sqlite3")
            with ctx.db.write() as s:
                s.merge(
                    DeviceIdentity(
                        id=1,
                        device_id=str(uuid.uuid4()),
                        ref_prefix="NEW",
                        created_at=ctx.clock.now(),
                    )
                )
            ctx.desk._device = None
            ctx.desk.before_change = None  # no SLA catch-up: the load is on the server
            transport = RecordingTransport(lap["address"], recorder)

            def forget(ctx: Any = ctx) -> None:
                ctx.desk._device = None

            client = SyncClient(
                ctx.db,
                ctx.config,
                ctx.clock,
                transport=transport,
                timeout=httpx.Timeout(30.0, connect=10.0),
                on_device_change=forget,
            )
            client.configure(spec["url"], lap["token"])
            report = client.sync()  # hello: binds the laptop and takes the server's prefix
            if report.outcome != "ok":
                raise RuntimeError(
                    f"first sync of {lap['name']}: {report.outcome} {report.message}"
                )
            laptops.append({**lap, "ctx": ctx, "client": client, "transport": transport})
    except Exception as exc:  # reported to the parent, which stops the case
        queue.put(("failed", spec["index"], f"{type(exc).__name__}: {exc}"))
        return
    queue.put(("ready", spec["index"], None))
    go.wait(PHASE_TIMEOUT_S)
    recorder.phase = "load"
    started = time.monotonic()
    stop_at = started + spec["seconds"]
    outcomes: Counter[str] = Counter()
    made = Counter()
    lock = threading.Lock()

    def run(i: int, lap: dict[str, Any]) -> None:
        rng = random.Random(f"{spec['index']}-{i}")
        ctx, client = lap["ctx"], lap["client"]
        refs: list[str] = []
        tick = started + spec["sync_every"] * lap["phase"]
        n = 0
        while tick < stop_at:
            time.sleep(max(0.0, tick - time.monotonic()))
            tick += spec["sync_every"]
            n += 1
            ticket = ctx.desk.create(TicketDraft(title=f"{lap['name']}: problem {n}", seat=str(n)))
            refs.append(ticket.ref)
            with lock:
                made["tickets"] += 1
            ref = rng.choice(refs)
            try:
                if rng.random() < 0.5:
                    ctx.desk.respond(ref, "on my way")
                else:
                    ctx.desk.add_note(ref, f"note {n}: cable reseated")
                with lock:
                    made["other events"] += 1
            except InvalidTransition:
                pass
            outcome = client.sync().outcome
            with lock:
                outcomes[outcome] += 1

    threads = [
        threading.Thread(target=run, args=(i, lap), daemon=True) for i, lap in enumerate(laptops)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(spec["seconds"] + PHASE_TIMEOUT_S)
    elapsed = time.monotonic() - started
    recorder.phase = "drain"
    queue.put(("loaded", spec["index"], None))
    drain.wait(PHASE_TIMEOUT_S)
    results = []
    for lap in laptops:
        client, ctx = lap["client"], lap["ctx"]
        final: list[str] = []
        for _round in range(5):
            report = client.sync()
            final.append(report.outcome)
            if report.outcome == "ok" and report.pushed == report.pulled == 0:
                break
        with ctx.db.read() as s:
            events = s.exec(select(TicketEvent.id, TicketEvent.server_seq)).all()
        results.append(
            {
                "name": lap["name"],
                "hall": lap["hall"],
                "final": final,
                "local_events": [e[0] for e in events],
                "unacked": sum(1 for e in events if e[1] is None),
                "pulled": dict(lap["transport"].pulled),
            }
        )
        lap["transport"].shut()
        ctx.close()
    queue.put(
        (
            "result",
            spec["index"],
            {
                "recorder": recorder.dump(),
                "outcomes": dict(outcomes),
                "made": dict(made),
                "load_s": elapsed,
                "laptops": results,
            },
        )
    )


# --------------------------------------------------------------------------- trainees


def form_process(spec: dict[str, Any], queue: Any, go: Any, drain: Any) -> None:
    """Web-form posts at a fixed rate from fresh browsers; GET /form then POST."""
    recorder = Recorder()
    transports = [SharedTransport(f"127.0.3.{1 + i}") for i in range(FORM_ADDRESSES)]
    queue.put(("ready", spec["index"], None))
    go.wait(PHASE_TIMEOUT_S)
    recorder.phase = "load"
    started = time.monotonic()
    total = int(spec["seconds"] * spec["rate"])
    filed = Counter()
    lock = threading.Lock()
    workers = spec["threads"]

    def post(n: int) -> None:
        rng = random.Random(n)
        hall = rng.choice(spec["halls"])
        transport = transports[n % FORM_ADDRESSES]
        with httpx.Client(base_url=spec["url"], timeout=30.0, transport=transport) as browser:
            t0 = time.perf_counter()
            try:
                page = browser.get(f"/form?hall={hall}&seat={n % 40}")
            except httpx.TransportError as exc:
                recorder.add("GET /form", "error", 0.0, f"{type(exc).__name__}: {exc}")
                return
            t1 = time.perf_counter()
            found = TOKEN_RE.search(page.text)
            recorder.add("GET /form", str(page.status_code), (t1 - t0) * 1000)
            if page.status_code != 200 or found is None:
                return
            data = {
                "csrf": found.group(1),
                "hall": hall,
                "hall_from_link": "1",
                "seat": str(n % 40),
                "title": f"جهاز العرض لا يعمل — طلب رقم {n}",
                "name": "متدرب",
                "contact": "0551234567",
                "category": "av",
            }
            try:
                answer = browser.post("/form", data=data)
            except httpx.TransportError as exc:
                recorder.add("POST /form", "error", 0.0, f"{type(exc).__name__}: {exc}")
                return
            t2 = time.perf_counter()
            detail = answer.text[:200] if answer.status_code >= 400 else ""
            recorder.add("POST /form", str(answer.status_code), (t2 - t1) * 1000, detail)
            if answer.status_code == 303:
                with lock:
                    filed["303"] += 1

    def worker(k: int) -> None:
        for n in range(k, total, workers):
            due = started + n / spec["rate"]
            time.sleep(max(0.0, due - time.monotonic()))
            post(n)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(spec["seconds"] + PHASE_TIMEOUT_S)
    elapsed = time.monotonic() - started
    recorder.phase = "drain"
    queue.put(("loaded", spec["index"], None))
    drain.wait(PHASE_TIMEOUT_S)
    queue.put(
        (
            "result",
            spec["index"],
            {"recorder": recorder.dump(), "filed": filed["303"], "posts": total, "load_s": elapsed},
        )
    )


# --------------------------------------------------------------------------- one case


def run_case(
    engine: str, workers: int, db: str, folder: Path, args: argparse.Namespace
) -> dict[str, Any]:
    from central_process import CentralProcess
    from sqlalchemy import func, select

    from classroom_support.central import models as m
    from classroom_support.central.store import CentralStore
    from classroom_support.config import load_config

    halls = hall_codes(args.halls)
    config_file = folder / "central.toml"
    config_file.write_text(config_text(halls, halls[0]), encoding="utf-8")
    config = load_config(config_file)
    store = CentralStore.open(db, config)
    laptops = []
    for i in range(args.laptops):
        hall = halls[i % len(halls)]
        name = f"laptop {i + 1:02d}"
        _device, token = store.add_device(name, [hall])
        laptops.append(
            {
                "name": name,
                "hall": hall,
                "token": token,
                "address": f"127.0.2.{i + 1}",
                "folder": str(folder / f"laptop{i + 1:02d}"),
                "phase": i / args.laptops,
            }
        )
    store.close()
    server = CentralProcess(db, folder / "server.log", workers=workers, config=config_file)
    server.start()
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    go, drain = ctx.Event(), ctx.Event()
    procs = []
    per = -(-len(laptops) // args.laptop_procs)
    specs = []
    for k in range(args.laptop_procs):
        chunk = laptops[k * per : (k + 1) * per]
        if chunk:
            specs.append(
                (
                    laptop_process,
                    {
                        "index": len(specs),
                        "url": server.url,
                        "halls": halls,
                        "laptops": chunk,
                        "seconds": args.seconds,
                        "sync_every": args.sync_every,
                    },
                )
            )
    if args.form_rate > 0:
        specs.append(
            (
                form_process,
                {
                    "index": len(specs),
                    "url": server.url,
                    "halls": halls,
                    "seconds": args.seconds,
                    "rate": args.form_rate,
                    "threads": args.form_threads,
                },
            )
        )
    results: dict[int, dict[str, Any]] = {}
    failures: list[str] = []
    try:
        for target, spec in specs:
            proc = ctx.Process(target=target, args=(spec, queue, go, drain), daemon=True)
            proc.start()
            procs.append(proc)

        def wait_for(kind: str) -> None:
            seen = 0
            while seen < len(specs):
                message = queue.get(timeout=PHASE_TIMEOUT_S + args.seconds)
                if message[0] == "failed":
                    failures.append(str(message[2]))
                    seen += 1
                elif message[0] == kind:
                    seen += 1
                    if kind == "result":
                        results[message[1]] = message[2]

        t_setup = time.monotonic()
        wait_for("ready")
        if failures:
            raise RuntimeError(f"set-up failed: {failures}")
        setup_s = time.monotonic() - t_setup
        print(f"  [{engine}, {workers} worker(s)] set up in {setup_s:.0f} s; load...", flush=True)
        go.set()
        wait_for("loaded")
        drain.set()
        wait_for("result")
        for proc in procs:
            proc.join(PHASE_TIMEOUT_S)
        if failures:
            raise RuntimeError(f"a driver failed: {failures}")
        store = CentralStore.open(db, config)
        try:
            with store.read() as conn:
                server_events = [
                    (r.id, r.hall_code)
                    for r in conn.execute(select(m.events.c.id, m.events.c.hall_code))
                ]
                web_tickets = int(
                    conn.execute(
                        select(func.count())
                        .select_from(m.tickets)
                        .where(m.tickets.c.channel == "web_form")
                    ).scalar_one()
                )
        finally:
            store.close()
    finally:
        go.set()
        drain.set()
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        exit_code = server.stop()
    return summarise(engine, workers, args, results, server_events, web_tickets, server, exit_code)


def summarise(
    engine: str,
    workers: int,
    args: argparse.Namespace,
    results: dict[int, dict[str, Any]],
    server_events: list[tuple[str, str]],
    web_tickets: int,
    server: Any,
    exit_code: int | None,
) -> dict[str, Any]:
    ms: dict[str, list[float]] = defaultdict(list)
    status: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[str] = []
    outcomes: Counter[str] = Counter()
    made: Counter[str] = Counter()
    laptops: list[dict[str, Any]] = []
    filed = posts = 0
    load_s = 0.0
    for res in results.values():
        rec = res["recorder"]
        for endpoint, values in rec["ms"].items():
            ms[endpoint].extend(values)
        for key, counts in rec["status"].items():
            status[key].update(counts)
        errors.extend(rec["errors"])
        outcomes.update(res.get("outcomes", {}))
        made.update(res.get("made", {}))
        laptops.extend(res.get("laptops", []))
        filed += res.get("filed", 0)
        posts += res.get("posts", 0)
        load_s = max(load_s, res["load_s"])
    by_hall: dict[str, set[str]] = defaultdict(set)
    stored = {eid for eid, _hall in server_events}
    for eid, hall in server_events:
        by_hall[hall].add(eid)
    lost = missing = doubled = unacked = 0
    for lap in laptops:
        lost += len(set(lap["local_events"]) - stored)
        unacked += lap["unacked"]
        pulled = Counter(lap["pulled"])
        missing += len(by_hall[lap["hall"]] - set(pulled))
        doubled += sum(1 for n in pulled.values() if n > 1)
        extra = set(pulled) - by_hall[lap["hall"]]
        missing += len(extra)  # an event from another hall would be a leak: count it too
    endpoints = {}
    for endpoint, values in sorted(ms.items()):
        s = summary(values)
        endpoints[endpoint] = {
            "n": s["n"],
            "per_s": round(s["n"] / load_s, 1),
            "p50_ms": round(s["p50"], 1),
            "p99_ms": round(s["p99"], 1),
            "max_ms": round(s["max"], 1),
        }
    all_status: Counter[str] = Counter()
    for counts in status.values():
        all_status.update(counts)
    load_requests = sum(len(v) for v in ms.values())
    fivexx = sum(v for k, v in all_status.items() if k.startswith("5"))
    five_hundred = sum(v for k, v in all_status.items() if k == "500")
    transport_errors = all_status.get("error", 0)
    other_4xx = sum(v for k, v in all_status.items() if k.startswith("4"))
    log_errors = server.server_errors()
    checks = {
        "requests_failed (transport errors)": transport_errors,
        "5xx answers": fivexx,
        "of which 500": five_hundred,
        "of which 503 (busy, with Retry-After)": all_status.get("503", 0),
        "4xx answers": other_4xx,
        "laptop events not stored": lost,
        "laptop events never acknowledged": unacked,
        "hall events a laptop never pulled (or pulled from another hall)": missing,
        "events a laptop pulled more than once": doubled,
        "web-form 303s": filed,
        "web-form tickets stored": web_tickets,
        "server log lines with a traceback/500/ERROR": len(log_errors),
        "server exit code": exit_code,
        "sync outcomes not ok": sum(v for k, v in outcomes.items() if k != "ok"),
    }
    ok = (
        transport_errors == 0
        and fivexx == 0
        and other_4xx == 0
        and lost == 0
        and unacked == 0
        and missing == 0
        and doubled == 0
        and filed == web_tickets == posts
        and not log_errors
        and checks["sync outcomes not ok"] == 0
    )
    graceful = five_hundred == 0 and transport_errors == 0 and lost == missing == doubled == 0
    return {
        "engine": engine,
        "workers": workers,
        "seconds": args.seconds,
        "load_s": round(load_s, 1),
        "laptops": args.laptops,
        "halls": args.halls,
        "sync_every_s": args.sync_every,
        "form_posts_per_s_offered": args.form_rate,
        "made_on_laptops": dict(made),
        "events_stored": len(stored),
        "sync_outcomes": dict(outcomes),
        "requests_in_window": load_requests,
        "requests_per_s": round(load_requests / load_s, 1) if load_s else 0.0,
        "endpoints": endpoints,
        "statuses": {k: dict(v) for k, v in sorted(status.items())},
        "checks": checks,
        "verdict": "MET" if ok else "NOT MET",
        "graceful": graceful,
        "errors_sample": errors[:20],
        "server_log_sample": log_errors[:20],
    }


def print_case(case: dict[str, Any]) -> None:
    print(
        f"\n{case['engine']}, {case['workers']} worker(s): {case['requests_per_s']} req/s over "
        f"{case['load_s']} s; events stored {case['events_stored']}; verdict {case['verdict']}"
    )
    for endpoint, e in case["endpoints"].items():
        print(
            f"  {endpoint:<12} n={e['n']:<6} {e['per_s']:>6}/s  p50 {e['p50_ms']:>8.1f} ms  "
            f"p99 {e['p99_ms']:>8.1f} ms  max {e['max_ms']:>8.1f} ms"
        )
    for name, value in case["checks"].items():
        print(f"  {name}: {value}")
    print(f"  sync outcomes: {case['sync_outcomes']}; statuses: {case['statuses']}")
    for line in case["errors_sample"][:5] + case["server_log_sample"][:5]:
        print(f"    ! {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--laptops", type=int, default=60)
    parser.add_argument("--halls", type=int, default=20)
    parser.add_argument("--sync-every", type=float, default=5.0)
    parser.add_argument("--form-rate", type=float, default=20.0, help="web-form posts per s")
    parser.add_argument("--form-threads", type=int, default=32)
    parser.add_argument("--laptop-procs", type=int, default=2)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,4", help="worker counts, e.g. 1,4")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.laptops > 250:
        parser.error("--laptops: at most 250 (one loopback address each)")
    ensure_data_dir()
    info = machine_info()
    print(f"# {command_line()}")
    print_machine(info)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    worker_counts = [int(w) for w in args.workers.split(",")]
    cases: list[dict[str, Any]] = []
    pg: Any = None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-central-load-") as tmp:
            for engine in engines:
                for workers in worker_counts:
                    folder = Path(tmp) / f"{engine}-{workers}"
                    folder.mkdir()
                    if engine == "postgresql":
                        if pg is None:
                            from postgres_support import PostgresServer, find_bindir

                            bindir = find_bindir()
                            if bindir is None:
                                raise SystemExit("PostgreSQL server binaries not found")
                            pg = PostgresServer(bindir, durable=True)
                            pg.start()
                        db = pg.url(pg.create_database())
                    else:
                        db = str(folder / "central.sqlite3")
                    case = run_case(engine, workers, db, folder, args)
                    print_case(case)
                    cases.append(case)
    finally:
        if pg is not None:
            pg.stop()
    scaling = {}
    for engine in engines:
        by_workers = {c["workers"]: c for c in cases if c["engine"] == engine}
        if 1 in by_workers and len(by_workers) > 1:
            base = by_workers[1]
            for w, c in by_workers.items():
                if w == 1:
                    continue
                scaling[f"{engine} {w} vs 1"] = {
                    endpoint: {
                        "p50_ratio": round(e["p50_ms"] / base["endpoints"][endpoint]["p50_ms"], 2),
                        "p99_ratio": round(e["p99_ms"] / base["endpoints"][endpoint]["p99_ms"], 2),
                    }
                    for endpoint, e in c["endpoints"].items()
                    if endpoint in base["endpoints"]
                }
    if scaling:
        print("\nlatency at 4 (or N) workers / at 1 worker, same offered load:")
        for name, endpoints in scaling.items():
            shown = ", ".join(
                f"{k} p50 x{v['p50_ratio']} p99 x{v['p99_ratio']}" for k, v in endpoints.items()
            )
            print(f"  {name}: {shown}")
    out = write_results(
        "central_load",
        {"machine": info, "command": command_line(), "cases": cases, "scaling": scaling},
        args.json,
    )
    print(f"results: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
