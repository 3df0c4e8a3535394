"""Sync throughput: pushing 10,000 events batched vs one request per event, through a 50 ms
link, and pulling 10,000 changes. Against the real central server in its own process.

    .venv/bin/python bench/sync.py                    # 10,000 events (2,000 tickets x 5)
    .venv/bin/python bench/sync.py --events 2000      # quicker

Setup: one laptop database with N events is generated once (TicketDesk: 1 created + 4 more
events per ticket) and copied (SQLite backup API) for each run. Each push run gets a fresh
central server (`classroom-support central serve`, SQLite with synchronous=FULL, so every
acknowledged push is durable) started as a subprocess on 127.0.0.1, and a device token.

- batched: `SyncClient` with batch_size=500 (the default client sends 200; 500 is the
  bench's choice, the server accepts up to 1,000 per request).
- per-event: the same client with batch_size=1 — one request (and one server transaction,
  one local acknowledgement) per event. The baseline.
- latency: batched, through tests/fault_proxy.py adding 50 ms to every request.
- pull: a second, empty laptop for the same hall pulls everything from the batched server.

Only the push phase (`SyncClient._push_events`) or the pull phase (`_pull`) is timed.
Goals: batched >= 20x faster than per-event; batched through 50 ms <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import (
    DATA,
    REPO,
    command_line,
    ensure_data_dir,
    machine_info,
    print_machine,
    write_results,
)

sys.path.insert(0, str(REPO / "tests"))  # the fault-injecting proxy lives with the tests

GOAL_RATIO = 20.0
GOAL_LATENCY_S = 5.0
EVENTS_PER_TICKET = 5
START = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)


class SteppingClock:
    """Every reading 1 ms later: realistic, distinct timestamps without waiting."""

    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        self.at += timedelta(milliseconds=1)
        return self.at


def make_laptop(folder: Path, events: int) -> tuple[Path, Path]:
    from classroom_support.context import open_context
    from classroom_support.models import DeviceIdentity
    from classroom_support.tickets import TicketDraft

    config = folder / "laptop.toml"
    config.write_text('[device]\nhall = "A101"\ntechnician = "bench"\n', encoding="utf-8")
    db = folder / "laptop.sqlite3"
    ctx = open_context(config, db, clock=SteppingClock())  # type: ignore[arg-type]
    ctx.desk.before_change = None  # no SLA catch-up: we time sync, not the monitor
    with ctx.db.write() as s:
        s.add(
            DeviceIdentity(
                id=1,
                device_id="00000000-0000-4000-8000-00000000be01",
                ref_prefix="BNCH",
                created_at=START,
            )
        )
    ctx.desk._device = None
    tickets = events // EVENTS_PER_TICKET
    started = time.perf_counter()
    for i in range(tickets):
        t = ctx.desk.create(TicketDraft(title=f"Projector in row {i % 9} flickers", seat=str(i)))
        ctx.desk.respond(t.ref, "On my way")
        ctx.desk.add_note(t.ref, "Cable reseated; watching it")
        ctx.desk.assign(t.ref, "Sami")
        ctx.desk.add_note(t.ref, "ملاحظة: تم التحقق")
    print(f"  generated {tickets * EVENTS_PER_TICKET} events in "
          f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    ctx.close()
    return config, db


def copy_db(src: Path, dest: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`classroom-support central serve` in a subprocess, on its own SQLite file."""

    def __init__(self, folder: Path) -> None:
        from classroom_support.central.store import CentralStore

        self.db = folder / "central.sqlite3"
        store = CentralStore.open(self.db)
        _device, self.token = store.add_device("bench laptop", ["A101"])
        _device2, self.token2 = store.add_device("bench laptop 2", ["A101"])
        store.close()
        self.port = free_port()
        argv = ["central", "serve", "--db", str(self.db), "--port", str(self.port)]
        argv += ["--sla-interval", "0"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "classroom_support.cli", *argv, "--log-level", "warning"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/api/v1/health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("central server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def timed_sync(config: Path, db: Path, url: str, token: str, batch: int) -> dict[str, Any]:
    import httpx

    from classroom_support.context import open_context
    from classroom_support.sync import SyncClient

    ctx = open_context(config, db)
    timings: dict[str, float] = {}
    try:
        client = SyncClient(
            ctx.db, ctx.config, ctx.clock, batch_size=batch, page_size=1000,
            timeout=httpx.Timeout(60.0),
        )  # fmt: skip
        client.configure(url, token)

        def timing(name: str, method: Callable[..., None]) -> Callable[..., None]:
            def run(*args: Any, **kwargs: Any) -> None:
                started = time.perf_counter()
                method(*args, **kwargs)
                timings[name] = time.perf_counter() - started

            return run

        client._push_events = timing("push", client._push_events)  # type: ignore[method-assign]
        client._pull = timing("pull", client._pull)  # type: ignore[method-assign]
        report = client.sync()
        assert report.outcome == "ok", report.message
        return {
            "push_s": timings.get("push", 0.0),
            "pull_s": timings.get("pull", 0.0),
            "pushed": report.pushed,
            "pulled": report.pulled,
            "requests": report.requests,
            "pending_after": report.pending,
        }
    finally:
        ctx.close()


def server_count(server: Server) -> int:
    with sqlite3.connect(server.db) as conn:
        return int(conn.execute("SELECT count(*) FROM central_event").fetchone()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    ensure_data_dir()
    info = machine_info()
    print_machine(info)
    work = Path(tempfile.mkdtemp(prefix="sync-", dir=DATA))
    from fault_proxy import FaultyProxy

    results: dict[str, Any] = {"command": command_line(), "machine": info, "events": args.events}
    try:
        print(f"generating the laptop database ({args.events} events) ...", flush=True)
        config, source = make_laptop(work, args.events)
        runs: dict[str, dict[str, Any]] = {}
        for name, batch, latency in (
            ("batched", args.batch, 0.0),
            ("per_event", 1, 0.0),
            ("batched_latency", args.batch, args.latency_ms / 1000),
        ):
            folder = work / name
            folder.mkdir()
            db = copy_db(source, folder / "laptop.sqlite3")
            server = Server(folder)
            proxy = None
            try:
                url = server.url
                if latency:
                    proxy = FaultyProxy(server.port)
                    proxy.latency = latency
                    url = proxy.url
                print(f"push {name} (batch {batch}, +{latency * 1000:.0f} ms) ...", flush=True)
                run = timed_sync(config, db, url, server.token, batch)
                run["server_events"] = server_count(server)
                assert run["server_events"] == args.events, run
                if name == "batched":
                    print("pull everything into a second laptop ...", flush=True)
                    empty = folder / "empty"
                    empty.mkdir()
                    cfg2 = empty / "laptop.toml"
                    cfg2.write_text('[device]\nhall = "A101"\n', encoding="utf-8")
                    pulled = timed_sync(cfg2, empty / "laptop.sqlite3", server.url,
                                        server.token2, batch)  # fmt: skip
                    runs["pull"] = pulled
                runs[name] = run
                print(f"  {run}", flush=True)
            finally:
                if proxy is not None:
                    proxy.close()
                server.stop()
        ratio = runs["per_event"]["push_s"] / runs["batched"]["push_s"]
        results.update(
            {
                "runs": runs,
                "ratio_per_event_over_batched": round(ratio, 1),
                "goal_ratio": GOAL_RATIO,
                "goal_ratio_verdict": "MET" if ratio >= GOAL_RATIO else "NOT MET",
                "goal_latency_s": GOAL_LATENCY_S,
                "goal_latency_verdict": (
                    "MET" if runs["batched_latency"]["push_s"] <= GOAL_LATENCY_S else "NOT MET"
                ),
            }
        )
        n = args.events
        print("\nRESULTS")
        for name in ("batched", "per_event", "batched_latency"):
            r = runs[name]
            print(
                f"  push {name:<16} {r['push_s']:7.2f} s  {n / r['push_s']:8.0f} events/s  "
                f"({r['requests']} requests)"
            )
        p = runs["pull"]
        print(f"  pull {p['pulled']} events {p['pull_s']:7.2f} s  "
              f"{p['pulled'] / p['pull_s']:8.0f} events/s")  # fmt: skip
        print(f"  batched vs per-event: {ratio:.1f}x (goal >= {GOAL_RATIO:g}x): "
              f"{results['goal_ratio_verdict']}")  # fmt: skip
        print(f"  batched through +{args.latency_ms:g} ms: {runs['batched_latency']['push_s']:.2f}"
              f" s (goal <= {GOAL_LATENCY_S:g} s): {results['goal_latency_verdict']}")  # fmt: skip
        path = write_results("sync", results, args.json)
        print(f"results: {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
