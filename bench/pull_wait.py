"""Waiting pulls (`GET /sync/pull?wait=S`): what 100 idle desks cost the server, and how fast a
change reaches them.

    .venv/bin/python bench/pull_wait.py                      # both engines, 100 desks, 20 changes
    .venv/bin/python bench/pull_wait.py --engines sqlite --desks 50 --idle-seconds 10

Each engine: a fresh central database (SQLite file, or a database on a PostgreSQL cluster this
script starts in a temp dir, via tests/postgres_support.py), 100 desks of hall A101 and one
writer registered with the store, then `classroom-support central serve --workers 1` as a
subprocess on 127.0.0.1 (tests/central_process.py). Every desk is a thread, connecting from its
own loopback address (127.0.2.N, as desks are separate machines: the server caps connections
per address), that keeps one `pull?since=<cursor>&wait=25` open and asks again as soon as it
is answered.

- Idle: the server process's CPU time (utime + stime from /proc/PID/stat) over --idle-seconds,
  first with no desk waiting, then with all desks waiting (the server's `central_pull_waiting`
  gauge says they are parked), and its resident memory (VmRSS) in both states.
- Wake: --changes pushes of one event each by the writer, one at a time, each once every desk
  is parked again; per desk the time from sending the push to having the page with that event
  (so it includes the push itself). Every desk must get every event exactly once.

Results: bench/.data/results/pull_wait-latest.json.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
import uuid
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

WAIT_S = 25
PARK_TIMEOUT_S = 60.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def waiting(url: str) -> int:
    text = httpx.get(url + "/metrics", timeout=5.0).text
    found = re.search(r"^central_pull_waiting(?:\{[^}]*\})? ([0-9.e+-]+)$", text, re.M)
    return int(float(found.group(1))) if found else 0


def until_parked(url: str, n: int) -> float:
    started = time.monotonic()
    while waiting(url) < n:
        if time.monotonic() - started > PARK_TIMEOUT_S:
            raise SystemExit(f"only {waiting(url)} of {n} pulls are waiting")
        time.sleep(0.05)
    return time.monotonic() - started


class Desk(threading.Thread):
    """One desk: a waiting pull, again and again, until told to stop."""

    def __init__(
        self, url: str, token: str, since: int, stop: threading.Event, address: str
    ) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.cursor, self.stop = url, token, since, stop
        self.address = address  # its own loopback address, as desks are separate machines
        self.got: dict[str, float] = {}  # event id -> monotonic time received
        self.errors: list[str] = []
        self.pulls = 0

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        transport = httpx.HTTPTransport(local_address=self.address)
        with httpx.Client(
            base_url=self.url + "/api/v1", headers=headers, timeout=60, transport=transport
        ) as http:
            while not self.stop.is_set():
                try:
                    answer = http.get("/sync/pull", params={"since": self.cursor, "wait": WAIT_S})
                except httpx.HTTPError as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    time.sleep(0.5)
                    continue
                now = time.monotonic()
                self.pulls += 1
                if answer.status_code != 200:
                    self.errors.append(f"{answer.status_code} {answer.text[:100]}")
                    time.sleep(0.5)
                    continue
                page = answer.json()
                for event in page["events"]:
                    if event["id"] in self.got:
                        self.errors.append(f"event {event['id']} twice")
                    self.got[event["id"]] = now
                self.cursor = int(page["cursor"])


def created(device_id: str, prefix: str, n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "ticket_id": str(uuid.uuid4()),
        "kind": "created",
        "payload": {"ref": f"{prefix}-{n}", "device_seq": n, "hall_code": "A101", "title": "x"},
        "device_id": device_id,
        "actor": "bench",
        "occurred_at": "2026-11-28T07:30:00+00:00",
        "hlc": f"1764315000000-{n:05d}",
    }


def run_case(engine: str, db: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    from central_process import CentralProcess

    from classroom_support.central.store import CentralStore
    from classroom_support.config import load_config

    store = CentralStore.open(db, load_config(None))
    tokens = [store.add_device(f"desk {i}", ["A101"])[1] for i in range(args.desks)]
    writer = store.add_device("writer", ["A101"])[1]
    server = CentralProcess(db, folder / "serve.log")
    stop = threading.Event()
    desks: list[Desk] = []
    try:
        server.start()
        assert server.proc is not None
        pid = server.proc.pid
        for token in tokens:
            answer = httpx.post(
                server.url + "/api/v1/sync/hello",
                json={"device_id": str(uuid.uuid4()), "ref_prefix": "D", "issued": 0},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            answer.raise_for_status()
        head = store.head()
        time.sleep(1.0)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(args.idle_seconds)
        idle_alone = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        rss_alone = rss_mib(pid)
        desks = [
            Desk(server.url, token, head, stop, f"127.0.2.{i + 1}")
            for i, token in enumerate(tokens)
        ]
        for desk in desks:
            desk.start()
        parked_in = until_parked(server.url, args.desks)
        time.sleep(1.0)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(args.idle_seconds)
        idle_waiting = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        rss_waiting = rss_mib(pid)
        latencies: list[float] = []
        sent: list[tuple[str, float]] = []
        with httpx.Client(
            base_url=server.url + "/api/v1",
            headers={"Authorization": f"Bearer {writer}"},
            timeout=30,
        ) as http:
            device_id = str(uuid.uuid4())
            hello = http.post(
                "/sync/hello", json={"device_id": device_id, "ref_prefix": "W", "issued": 0}
            )
            hello.raise_for_status()
            prefix = str(hello.json()["ref_prefix"])
            for n in range(1, args.changes + 1):
                until_parked(server.url, args.desks)
                event = created(device_id, prefix, n)
                at = time.monotonic()
                answer = http.post("/sync/push", json={"events": [event]})
                if answer.status_code != 200 or answer.json()["results"][0]["status"] != "applied":
                    raise SystemExit(f"push failed: {answer.status_code} {answer.text[:300]}")
                sent.append((event["id"], at))
                deadline = time.monotonic() + 30
                while any(event["id"] not in d.got for d in desks):
                    if time.monotonic() > deadline:
                        raise SystemExit("a desk never got the change")
                    time.sleep(0.01)
        for event_id, at in sent:
            latencies += [(d.got[event_id] - at) * 1000 for d in desks]
        errors = [e for d in desks for e in d.errors]
        return {
            "engine": engine,
            "desks": args.desks,
            "changes": args.changes,
            "idle_seconds": args.idle_seconds,
            "server_cpu_share_no_waiters": round(idle_alone, 4),
            "server_cpu_share_desks_waiting": round(idle_waiting, 4),
            "server_rss_mib_no_waiters": round(rss_alone, 1),
            "server_rss_mib_desks_waiting": round(rss_waiting, 1),
            "all_parked_after_s": round(parked_in, 2),
            "wake_ms": {k: round(v, 1) for k, v in summary(latencies).items()},
            "pulls_answered": sum(d.pulls for d in desks),
            "errors": errors[:10],
            "server_errors": server.server_errors()[:10],
        }
    finally:
        stop.set()
        server.stop()  # open waits end with the connection; the desk threads then stop
        for desk in desks:
            desk.join(timeout=10)
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--desks", type=int, default=100)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    ensure_data_dir()
    info = machine_info()
    print_machine(info)
    cases = []
    pg = None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pull-wait-") as tmp:
            for engine in args.engines.split(","):
                folder = Path(tmp) / engine
                folder.mkdir()
                if engine == "postgresql":
                    from postgres_support import PostgresServer, find_bindir

                    bindir = find_bindir()
                    if bindir is None:
                        raise SystemExit("PostgreSQL server binaries not found")
                    pg = PostgresServer(bindir, durable=True)
                    pg.start()
                    db = pg.url(pg.create_database())
                else:
                    db = str(folder / "central.sqlite3")
                case = run_case(engine, db, folder, args)
                print(
                    f"{engine}: CPU {case['server_cpu_share_no_waiters']:.2%} idle → "
                    f"{case['server_cpu_share_desks_waiting']:.2%} with {args.desks} waiting; "
                    f"RSS {case['server_rss_mib_no_waiters']} → "
                    f"{case['server_rss_mib_desks_waiting']} MiB; wake ms p50 "
                    f"{case['wake_ms']['p50']} p90 {case['wake_ms']['p90']} p99 "
                    f"{case['wake_ms']['p99']} max {case['wake_ms']['max']}; "
                    f"errors {len(case['errors'])} server errors {len(case['server_errors'])}"
                )
                cases.append(case)
    finally:
        if pg is not None:
            pg.stop()
    path = write_results("pull_wait", {"command": command_line(), "machine": info, "cases": cases})
    print(f"# results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
