"""`GET /sync/pull?wait=N` against real `central serve` processes, on SQLite and PostgreSQL.

Two separate servers (one worker each) share one database, so a pull waiting on server A can
only be woken through the database: LISTEN/NOTIFY on PostgreSQL, the head poll on SQLite. A
push to server B must wake it, and the page must hold the pushed event. Each wait is made sure
to be parked before the change is made (server A's `central_pull_waiting` gauge), so the test
cannot pass by the pull simply starting after the push. A device of another hall is never
handed that event, and a wait with nothing happening answers an empty page with the same
cursor. Checked by hand that the cross-server test fails (the waits run to their limit) when
`_set_head` sends no NOTIFY, or when the SQLite poll is switched off. Stopping the server
answers the open waits instead of waiting them out.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from central_process import CentralProcess
from postgres_support import ENGINES
from test_web_stateless import TOKEN_RE

from classroom_support.central.store import CentralStore
from classroom_support.clock import FixedClock
from classroom_support.config import load_config

WAIT_S = 20
WOKEN_WITHIN_S = 15.0  # generous: the wake itself takes well under a second
READERS = 3
PARKED_TIMEOUT_S = 30.0


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def two_servers(
    central_db_url: str, tmp_path: Path, clock: FixedClock
) -> Iterator[tuple[CentralStore, CentralProcess, CentralProcess]]:
    """Two `central serve` processes on one database, and a store here for devices."""
    store = CentralStore.open(central_db_url, load_config(None), clock)
    a = CentralProcess(central_db_url, tmp_path / "a.log")
    b = CentralProcess(central_db_url, tmp_path / "b.log")
    try:
        a.start()
        b.start()
        yield store, a, b
        assert a.server_errors() == [], a.tail()
        assert b.server_errors() == [], b.tail()
    finally:
        a.stop()
        b.stop()
        store.close()


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=url + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=WAIT_S + 20.0,
    )


def _hello(http: httpx.Client) -> tuple[str, str]:
    """The device id and its reference prefix."""
    device = str(uuid.uuid4())
    answer = http.post("/sync/hello", json={"device_id": device, "ref_prefix": "W", "issued": 0})
    assert answer.status_code == 200, answer.text
    return device, str(answer.json()["ref_prefix"])


def _created(hello: tuple[str, str], hall: str, n: int) -> dict[str, Any]:
    device_id, prefix = hello
    return {
        "id": str(uuid.uuid4()),
        "ticket_id": str(uuid.uuid4()),
        "kind": "created",
        "payload": {
            "ref": f"{prefix}-{n}",
            "device_seq": n,
            "hall_code": hall,
            "title": f"problem {n}",
        },
        "device_id": device_id,
        "actor": "tester",
        "occurred_at": "2026-11-28T07:30:00+00:00",
        "hlc": f"1764315000000-{n:05d}",
    }


def _waiting(server: CentralProcess) -> int:
    text = httpx.get(server.url + "/metrics", timeout=5.0).text
    found = re.search(r"^central_pull_waiting(?:\{[^}]*\})? ([0-9.e+-]+)$", text, re.M)
    return int(float(found.group(1))) if found else 0


def _until_parked(server: CentralProcess, n: int) -> None:
    deadline = time.monotonic() + PARKED_TIMEOUT_S
    while _waiting(server) < n:
        assert time.monotonic() < deadline, f"{n} pulls never waited: {server.tail()}"
        time.sleep(0.05)


class Waiter(threading.Thread):
    """One desk's waiting pull, in a thread: its page and how long it took."""

    def __init__(self, url: str, token: str, since: int, wait: float) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.since, self.wait = url, token, since, wait
        self.page: dict[str, Any] = {}
        self.error = ""
        self.took = -1.0

    def run(self) -> None:
        try:
            with _client(self.url, self.token) as http:
                started = time.monotonic()
                answer = http.get("/sync/pull", params={"since": self.since, "wait": self.wait})
                self.took = time.monotonic() - started
                if answer.status_code != 200:
                    self.error = f"{answer.status_code} {answer.text[:200]}"
                else:
                    self.page = answer.json()
        except httpx.HTTPError as exc:
            self.error = f"{type(exc).__name__}: {exc}"


def test_a_pull_waiting_on_one_server_is_woken_by_a_push_to_another(
    two_servers: tuple[CentralStore, CentralProcess, CentralProcess],
) -> None:
    store, a, b = two_servers
    writer = store.add_device("writer", ["A101"])[1]
    readers = [store.add_device(f"desk {i}", ["A101"])[1] for i in range(READERS)]
    other = store.add_device("other hall", ["B201"])[1]
    for token in [*readers, other]:
        with _client(a.url, token) as http:
            _hello(http)
    head = store.head()
    waiters = [Waiter(a.url, token, head, WAIT_S) for token in readers]
    stranger = Waiter(a.url, other, head, 3)  # B201 must not get an A101 change
    for w in [*waiters, stranger]:
        w.start()
    _until_parked(a, READERS + 1)
    with _client(b.url, writer) as http:
        event = _created(_hello(http), "A101", 1)
        answer = http.post("/sync/push", json={"events": [event]})
        assert answer.status_code == 200, answer.text
        assert answer.json()["results"][0]["status"] == "applied", answer.text
    for w in [*waiters, stranger]:
        w.join(timeout=WAIT_S + 30)
        assert not w.is_alive() and not w.error, w.error
    for w in waiters:
        assert [e["id"] for e in w.page["events"]] == [event["id"]], (w.took, w.page, head)
        assert w.page["cursor"] == store.head()
        assert w.took < WOKEN_WITHIN_S, f"woken only after {w.took:.1f} s"
    assert stranger.page["events"] == []
    assert stranger.page["cursor"] == store.head()  # moved past the change it cannot see


def test_a_web_form_ticket_wakes_a_waiting_desk(
    two_servers: tuple[CentralStore, CentralProcess, CentralProcess],
) -> None:
    """The realistic case: a trainee's form post on one server, the hall's desk waiting on
    the other."""
    store, a, b = two_servers
    desk = store.add_device("desk", ["A101"])[1]
    with _client(a.url, desk) as http:
        _hello(http)
    head = store.head()
    waiter = Waiter(a.url, desk, head, WAIT_S)
    waiter.start()
    _until_parked(a, 1)
    with httpx.Client(base_url=b.url, timeout=10.0) as browser:
        form = browser.get("/form", params={"hall": "A101"})
        assert form.status_code == 200, form.text[:300]
        token = TOKEN_RE.search(form.text)
        assert token is not None, form.text[:500]
        fields = {"hall": "A101", "hall_from_link": "1", "title": "projector is dark"}
        posted = browser.post("/form", data={**fields, "csrf": token.group(1)})
        assert posted.status_code == 303, posted.text[:300]
    waiter.join(timeout=WAIT_S + 30)
    assert not waiter.is_alive() and not waiter.error, waiter.error
    assert [e["kind"] for e in waiter.page["events"]] == ["created"]
    assert waiter.page["events"][0]["payload"]["title"] == "projector is dark"
    assert waiter.took < WOKEN_WITHIN_S, f"woken only after {waiter.took:.1f} s"


def test_a_wait_with_nothing_happening_answers_an_empty_page(
    two_servers: tuple[CentralStore, CentralProcess, CentralProcess],
) -> None:
    store, a, _b = two_servers
    desk = store.add_device("desk", ["A101"])[1]
    with _client(a.url, desk) as http:
        _hello(http)
        head = store.head()
        started = time.monotonic()
        answer = http.get("/sync/pull", params={"since": head, "wait": 1})
        took = time.monotonic() - started
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert page["cursor"] == head and not page["has_more"]
        assert not any(page[k] for k in ("events", "sessions", "closures", "roster", "kb"))
        assert took >= 0.9, "it did not wait"
        # out of range: a clear 422, not a hang
        for bad in ("31", "-1", "soon", "nan", "inf"):
            refused = http.get("/sync/pull", params={"since": head, "wait": bad})
            assert refused.status_code == 422, (bad, refused.text)


def test_stopping_the_server_answers_the_waiting_pulls(
    central_db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """SIGTERM must not wait out every open wait: the server answers them (an empty page with
    the same cursor) and exits. (Before, it held the stop for the whole wait.)"""
    store = CentralStore.open(central_db_url, load_config(None), clock)
    server = CentralProcess(central_db_url, tmp_path / "serve.log")
    try:
        server.start()
        desk = store.add_device("desk", ["A101"])[1]
        with _client(server.url, desk) as http:
            _hello(http)
        head = store.head()
        waiters = [Waiter(server.url, desk, head, 30) for _ in range(2)]
        for w in waiters:
            w.start()
        _until_parked(server, len(waiters))
        server.stop()
        for w in waiters:
            w.join(timeout=60)
            assert not w.is_alive() and not w.error, w.error
            assert w.page["events"] == [] and w.page["cursor"] == head
            assert w.took < WOKEN_WITHIN_S, f"answered only after {w.took:.1f} s"
    finally:
        server.stop()
        store.close()


def test_a_signal_after_the_server_stopped_still_reaches_the_previous_handler() -> None:
    """The feed's SIGTERM handler outlives the server's loop in a process that runs servers in
    turn (the tests): a signal then must not raise 'Event loop is closed', and the handler that
    was there before still runs."""
    import asyncio
    import signal

    from classroom_support.central.changes import ChangeFeed

    class Quiet(ChangeFeed):
        async def _run(self) -> None:
            await asyncio.sleep(0)

    seen: list[int] = []
    original = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:

        async def serve() -> None:
            await Quiet().start()
            await asyncio.sleep(0.01)

        asyncio.run(serve())  # the loop is closed when this returns
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        handler(signal.SIGTERM, None)  # no RuntimeError
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, original)


def test_a_stopped_feed_puts_the_signal_handlers_back() -> None:
    """A process that runs servers in turn (the tests) must not chain one more handler per
    server: once the feed stops, SIGTERM and SIGINT have the handlers they had before."""
    import asyncio
    import signal

    from classroom_support.central.changes import ChangeFeed

    class Quiet(ChangeFeed):
        async def _run(self) -> None:
            await asyncio.sleep(0)

    signals = (signal.SIGTERM, signal.SIGINT)
    before = [signal.getsignal(sig) for sig in signals]
    seen: dict[str, list[object]] = {}

    async def serve() -> None:
        seen["inside"] = [signal.getsignal(sig) for sig in signals]  # asyncio.run's SIGINT
        feed = Quiet()
        await feed.start()
        seen["running"] = [signal.getsignal(sig) for sig in signals]
        await feed.stop()
        seen["stopped"] = [signal.getsignal(sig) for sig in signals]

    asyncio.run(serve())
    assert all(a is not b for a, b in zip(seen["running"], seen["inside"], strict=True))
    assert seen["stopped"] == seen["inside"]
    assert [signal.getsignal(sig) for sig in signals] == before  # asyncio.run put its own back
