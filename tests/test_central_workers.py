"""`central serve --workers 4` as a real subprocess, on SQLite and on PostgreSQL: what must hold
when several server processes write at once.

- The pull cursor never skips a change that commits late: writers push concurrently through
  separate connections (so through different worker processes) while a reader follows its
  cursor; at the end the reader has every stored event exactly once and its cursor never went
  back. (Checked by hand that this fails when the sequence is handed out outside the counter
  lock: the reader then misses events that committed after it had pulled past them.)
- The two-laptops-through-a-faulty-link scenario (tests/test_sync_faults.py) converges with
  nothing lost or doubled against the multi-process server.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from central_process import CentralProcess
from fault_proxy import FaultyProxy
from postgres_support import ENGINES
from sync_support import Central
from test_sync_faults import two_laptops_through_a_faulty_link

from classroom_support.central.store import CentralStore
from classroom_support.clock import FixedClock
from classroom_support.config import load_config
from classroom_support.context import AppContext

WORKERS = 4
WRITERS = 4
EVENTS_PER_WRITER = 200
MAX_PULLS = 20_000  # the reader's loop is bounded whatever happens


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served(central_db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Central]:
    """`classroom-support central serve --workers 4` on a free loopback port, and a store on
    the same database in this process (devices, central edits, checks). Stopped afterwards,
    workers included."""
    store = CentralStore.open(central_db_url, load_config(None), clock)
    server = CentralProcess(central_db_url, tmp_path / "serve.log", workers=WORKERS)
    try:
        server.start()
        assert len(server.worker_pids()) == WORKERS, server.tail()
        yield Central(store=store, url=server.url, app=None)
        assert server.server_errors() == [], server.tail()
    finally:
        server.stop()
        store.close()
    assert server.survivors == [], "workers outlived the server"


def _client(url: str, token: str) -> httpx.Client:
    """A new connection per request, so the kernel spreads them over the workers."""
    return httpx.Client(
        base_url=url + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def _hello(http: httpx.Client, device_id: str) -> str:
    answer = http.post(
        "/sync/hello", json={"device_id": device_id, "ref_prefix": "NEW", "issued": 0}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["ref_prefix"])


def _created(device_id: str, ref: str, n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "ticket_id": str(uuid.uuid4()),
        "kind": "created",
        "payload": {"ref": ref, "device_seq": n, "hall_code": "A101", "title": f"problem {n}"},
        "device_id": device_id,
        "actor": "tester",
        "occurred_at": "2026-11-28T07:30:00+00:00",
        "hlc": f"1764315000000-{n:05d}",
    }


def test_the_cursor_never_skips_a_late_commit_with_four_workers(served: Central) -> None:
    tokens = [served.add_device("A101", name=f"writer {i}") for i in range(WRITERS)]
    reader_token = served.add_device("A101", name="reader")
    errors: list[str] = []
    pushed: list[str] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        rng = random.Random(i)
        device = f"00000000-0000-4000-8000-00000000aa{i:02d}"
        try:
            with _client(served.url, tokens[i]) as http:
                prefix = _hello(http, device)
                n = 0
                while n < EVENTS_PER_WRITER:
                    size = min(rng.randint(1, 5), EVENTS_PER_WRITER - n)
                    batch = [
                        _created(device, f"{prefix}-{n + k + 1}", n + k + 1) for k in range(size)
                    ]
                    n += size
                    answer = http.post("/sync/push", json={"events": batch})
                    if answer.status_code != 200:
                        errors.append(f"writer {i}: {answer.status_code} {answer.text[:200]}")
                        return
                    statuses = {r["status"] for r in answer.json()["results"]}
                    if statuses != {"applied"}:
                        errors.append(f"writer {i}: {answer.json()['results']}")
                        return
                    with lock:
                        pushed.extend(e["id"] for e in batch)
        except httpx.HTTPError as exc:
            errors.append(f"writer {i}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=write, args=(i,), daemon=True) for i in range(WRITERS)]
    seen: list[str] = []
    cursors: list[int] = []
    with _client(served.url, reader_token) as http:
        _hello(http, "00000000-0000-4000-8000-0000000000bb")
        for thread in threads:
            thread.start()
        for _ in range(MAX_PULLS):
            writing = any(t.is_alive() for t in threads)  # read before the pull, not after
            answer = http.get(
                "/sync/pull", params={"since": cursors[-1] if cursors else 0, "limit": 7}
            )
            assert answer.status_code == 200, answer.text
            page = answer.json()
            seen += [e["id"] for e in page["events"]]
            cursors.append(int(page["cursor"]))
            if not writing and not page["has_more"]:
                break
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[:5]
    assert len(pushed) == WRITERS * EVENTS_PER_WRITER
    assert cursors == sorted(cursors), "the cursor went back"
    twice = [eid for eid, n in Counter(seen).items() if n > 1]
    assert not twice, f"{len(twice)} event(s) pulled twice"
    stored = {e["id"] for e in served.store.events()}
    assert stored == set(pushed)
    missed = stored - set(seen)
    assert not missed, f"the reader's cursor skipped {len(missed)} of {len(stored)} events"
    assert cursors[-1] == served.store.head()


def test_two_laptops_through_a_faulty_link_against_four_workers(
    make_ctx: Callable[..., AppContext], served: Central, clock: FixedClock
) -> None:
    port = int(served.url.rsplit(":", 1)[1])
    with FaultyProxy(port) as proxy:
        two_laptops_through_a_faulty_link(make_ctx, served, proxy, clock)


def test_no_worker_is_left_behind(central_db_url: str, tmp_path: Path) -> None:
    """Stopping `central serve --workers 4` stops its workers too (and the fixture checks it
    after every test above)."""
    server = CentralProcess(central_db_url, tmp_path / "serve.log", workers=WORKERS).start()
    try:
        workers = server.worker_pids()
        assert len(workers) == WORKERS
    finally:
        code = server.stop()
    assert code == 0, server.tail()
    assert server.survivors == [], "workers outlived the server"


def test_sqlite_writers_queue_in_process_and_a_long_wait_is_a_503(
    central: Central, central_engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite the writers of one process queue for one writer slot (so SQLite's polling
    wait has one contender per process); a wait past the bound answers 503 + Retry-After,
    never a 500, and stores nothing."""
    if central_engine != "sqlite":
        pytest.skip("PostgreSQL writers queue on the counter row lock")
    from classroom_support.central.store import core

    monkeypatch.setattr(core, "BUSY_TIMEOUT_MS", 200)
    token = central.add_device("A101")
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with central.store.write():
            held.set()
            release.wait(30)

    with _client(central.url, token) as http:
        prefix = _hello(http, "dev-q")
        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        assert held.wait(30)
        try:
            answer = http.post("/sync/push", json={"events": [_created("dev-q", f"{prefix}-1", 1)]})
        finally:
            release.set()
            holder.join(30)
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "2"
        assert central.store.events() == []
        again = http.post("/sync/push", json={"events": [_created("dev-q", f"{prefix}-1", 1)]})
        assert again.status_code == 200 and again.json()["results"][0]["status"] == "applied"
