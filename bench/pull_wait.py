"""Waiting pulls (`GET /sync/pull?wait=S`): what 100 idle desks cost the server, how fast a
change reaches them, and how fast a web-form ticket reaches a real desk's database.

    .venv/bin/python bench/pull_wait.py          # both engines, 100 desks, 20 changes, 50 forms
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
- Form to desk: one more desk, the app's own client (`SyncClient.wait_for_changes`, a laptop
  database of its own, synced once first) keeping its waiting pull open as the TUI does.
  --tickets trainee web-form posts (GET /form, then POST with its CSRF token, as a phone does),
  one at a time, each once every desk is parked; per ticket the time from sending the POST to
  the desk's wait returning with the ticket's row committed in its database. Twice: with that
  desk alone (before the 100 start), and with the 100 desks waiting too (each ticket then wakes
  all 101). The POST's own duration is the baseline (`post_ms`): the desk latency is read as
  a multiple of it.

Results: bench/.data/results/pull_wait-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
    percentile,
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


class LiveDesk(threading.Thread):
    """The app's live path: a laptop database and `SyncClient.wait_for_changes`, again and
    again (the TUI's worker, without the TUI), recording when each ticket's row committed."""

    def __init__(self, url: str, token: str, folder: Path) -> None:
        super().__init__(daemon=True)
        from classroom_support.context import open_context
        from classroom_support.sync import SyncClient

        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "desk.toml"
        config.write_text('[device]\nhall = "A101"\ntechnician = "bench"\n', encoding="utf-8")
        self.ctx = open_context(config, folder / "desk.sqlite3")
        self.client = SyncClient(self.ctx.db, self.ctx.config, self.ctx.clock)
        self.client.configure(url, token)
        report = self.client.sync()
        if not report.online:
            raise SystemExit(f"the desk could not sync: {report.outcome} {report.message}")
        self.got: dict[str, float] = {}  # ticket id -> monotonic time its row was committed
        self.outcomes: dict[str, int] = {}
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()  # type: ignore[assignment]
        self._started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._waits()

    def stop(self) -> None:
        """Cancel the open wait (as quitting the TUI does) and wait for the thread."""
        self._started.wait(10)
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self.join(timeout=30)
        self.ctx.close()

    async def _waits(self) -> None:
        while True:
            result = await self.client.wait_for_changes(WAIT_S)
            now = time.monotonic()
            self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1
            for ticket_id in result.changed_tickets:
                self.got.setdefault(ticket_id, now)
            if not result.ok:
                await asyncio.sleep(0.5)


def form_to_desk(
    url: str, token: str, folder: Path, desks: int, args: argparse.Namespace
) -> dict[str, Any]:
    from web_form_client import file_by_web_form

    desk = LiveDesk(url, token, folder)
    desk.start()
    latencies: list[float] = []
    posts: list[float] = []
    try:
        with httpx.Client(base_url=url, timeout=30) as form:
            for n in range(1, args.tickets + 1):
                until_parked(url, desks + 1)
                at = time.monotonic()
                ticket_id = file_by_web_form(form, f"bench form ticket {n}", seat=str(n))
                posts.append((time.monotonic() - at) * 1000)
                deadline = time.monotonic() + 30
                while ticket_id not in desk.got:
                    if time.monotonic() > deadline:
                        raise SystemExit("the desk never got the form's ticket")
                    time.sleep(0.005)
                latencies.append((desk.got[ticket_id] - at) * 1000)
        with desk.ctx.db.read() as s:
            from sqlmodel import func, select

            from classroom_support.models import Ticket

            rows = int(s.exec(select(func.count()).select_from(Ticket)).one())
    finally:
        desk.stop()
    return {
        "tickets": args.tickets,
        "rows_in_desk_db": rows,
        "desk_ms": {k: round(v, 1) for k, v in summary(latencies).items()}
        | {"p95": round(percentile(latencies, 95), 1)},
        "post_ms": {k: round(v, 1) for k, v in summary(posts).items()}
        | {"p95": round(percentile(posts, 95), 1)},
        "desk_over_post_p50": round(percentile(latencies, 50) / percentile(posts, 50), 2),
        "desk_over_post_p95": round(percentile(latencies, 95) / percentile(posts, 95), 2),
        "wait_outcomes": desk.outcomes,
    }


def run_case(engine: str, db: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    from central_process import CentralProcess

    from classroom_support.central.store import CentralStore
    from classroom_support.config import load_config

    store = CentralStore.open(db, load_config(None))
    tokens = [store.add_device(f"desk {i}", ["A101"])[1] for i in range(args.desks)]
    writer = store.add_device("writer", ["A101"])[1]
    live_tokens = [store.add_device(f"live desk {i}", ["A101"])[1] for i in range(2)]
    # 50 posts from one address in a minute: above the form's default per-address limit
    server = CentralProcess(db, folder / "serve.log", extra=["--form-rate", "10000"])
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
        form_alone = form_to_desk(server.url, live_tokens[0], folder / "desk-alone", 0, args)
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
        form = form_to_desk(server.url, live_tokens[1], folder / "desk", args.desks, args)
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
            "form_to_desk_alone": form_alone,
            "form_to_desk": form,
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
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--tickets", type=int, default=50, help="web-form tickets to one desk")
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
                for label, key in (
                    ("alone", "form_to_desk_alone"),
                    (f"+{args.desks}", "form_to_desk"),
                ):
                    form = case[key]
                    print(
                        f"{engine}: web form → desk database ({label}) ms p50 "
                        f"{form['desk_ms']['p50']} p95 {form['desk_ms']['p95']} max "
                        f"{form['desk_ms']['max']} ({form['desk_over_post_p50']}× / "
                        f"{form['desk_over_post_p95']}× the POST's own p50 "
                        f"{form['post_ms']['p50']} / p95 {form['post_ms']['p95']} ms)"
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
