"""The change feed: how a waiting pull (`GET /sync/pull?wait=N`) learns that the sequence head
moved, whichever worker process committed the change.

One feed per worker process, started and stopped with the app's lifespan. Waiting requests
share it: each awaits the feed's one `asyncio.Event` (replaced every time the head moves), so
100 waiting desks cost 100 parked coroutines, no thread, no database connection and no polling
of their own.

- PostgreSQL: every transaction that moves the head sends `NOTIFY central_head, '<head>'` in
  the same transaction (`StoreCore._set_head`), so it is delivered only on commit. The feed
  keeps ONE listening connection (psycopg 3, async) and wakes the waiters on each
  notification. If that connection drops it reconnects, re-reads the head and wakes everyone
  (a notification sent while it was away is lost; waiters then re-read and re-wait).
- SQLite: no notifications exist, so the feed reads the head (one indexed row) every
  `poll_s` seconds — only while at least one request is waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING

from prometheus_client import Gauge

from classroom_support.central.store.core import HEAD_CHANNEL as CHANNEL

if TYPE_CHECKING:
    from classroom_support.central.store import CentralStore

log = logging.getLogger("classroom_support.central")

POLL_S = 0.25  # SQLite: how often a worker re-reads the head while requests wait
RECONNECT_S = 1.0  # PostgreSQL: pause before listening again after the connection dropped

WAITING = Gauge(
    "central_pull_waiting",
    "Pulls waiting for a change right now (GET /sync/pull?wait=N), all workers together",
    multiprocess_mode="livesum",
)


class ChangeFeed:
    """The highest sequence head this worker knows of, and a way to wait for a higher one."""

    def __init__(self) -> None:
        self.head = -1  # unknown until the first read or notification
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.waiting = 0  # requests parked in wait_for right now
        self._stopped = False
        self._signal_handlers: dict[int, tuple[object, object]] = {}  # sig: (before, ours)

    # ------------------------------------------------------------------ for the routes

    async def wait_for(self, head_after: int, timeout: float) -> int:
        """Until a head above `head_after` is known or `timeout` seconds pass; the head
        known then (which may still be `<= head_after` on a timeout). A feed that is not
        running (an app served without its lifespan) answers at once: no wait without a
        source to end it."""
        if self._task is None:
            return self.head
        deadline = time.monotonic() + max(0.0, timeout)
        self.waiting += 1
        WAITING.inc()
        self._woke_poller()
        try:
            while self.head <= head_after and not self._stopped:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                changed = self._event()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
        finally:
            self.waiting -= 1
            WAITING.dec()
        return self.head

    # ------------------------------------------------------------------ for the sources

    def publish(self, head: int) -> None:
        """A head seen by the source: wake every waiter if it is news."""
        if head <= self.head:
            return
        self.head = head
        changed, self._changed = self._changed, asyncio.Event()
        if changed is not None:
            changed.set()

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _woke_poller(self) -> None:
        """A hook for sources that only work while someone waits."""

    # ------------------------------------------------------------------ lifecycle

    async def _run(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    async def start(self) -> None:
        self._stopped = False
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=type(self).__name__)
        self._release_on_signals()

    def release(self) -> None:
        """Answer every waiting pull now (with its empty page) and wait no more: the server
        is shutting down, and it would otherwise wait up to `wait` s for them to end."""
        self._stopped = True
        if self._changed is not None:
            self._changed.set()

    def _release_on_signals(self) -> None:
        """Release the waits on SIGTERM/SIGINT, then let the server's own handler run: the
        server stops taking requests and waits for open ones before the lifespan ends, so
        `stop()` would come too late. Only in the main thread (where signals arrive)."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)

            def handler(signum: int, frame: FrameType | None, previous: object = previous) -> None:
                # The server's loop may be gone already (a signal after it stopped, in a
                # process that runs servers in turn): nothing waits on it then.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self.release)
                if callable(previous):
                    previous(signum, frame)
                elif previous == signal.SIG_DFL:  # what would have happened without us
                    signal.signal(signum, signal.SIG_DFL)
                    signal.raise_signal(signum)

            signal.signal(sig, handler)
            self._signal_handlers[sig] = (previous, handler)

    def _restore_signals(self) -> None:
        """Put back the handlers that were there before `start`. A process that runs servers
        in turn (the tests) chained one more handler per server otherwise, the first of them
        reaching the SIGINT handler of an asyncio runner long finished."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, (previous, ours) in self._signal_handlers.items():
            if previous is not None and signal.getsignal(sig) is ours:
                signal.signal(sig, previous)  # type: ignore[arg-type]
        self._signal_handlers = {}

    async def stop(self) -> None:
        self._restore_signals()
        self.release()  # nobody sleeps past shutdown
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class PollingFeed(ChangeFeed):
    """SQLite: one cheap read of the head every `poll_s` seconds while requests wait."""

    def __init__(self, store: CentralStore, poll_s: float = POLL_S) -> None:
        super().__init__()
        self.store = store
        self.poll_s = poll_s
        self.polls = 0  # reads made, for tests and the bench
        self._someone_waits: asyncio.Event | None = None

    def _woke_poller(self) -> None:
        if self._someone_waits is None:
            self._someone_waits = asyncio.Event()
        self._someone_waits.set()

    async def _run(self) -> None:
        if self._someone_waits is None:
            self._someone_waits = asyncio.Event()
        while True:
            if self.waiting == 0:
                self._someone_waits.clear()
                await self._someone_waits.wait()
            try:
                head = await asyncio.to_thread(self.store.head)
                self.polls += 1
                self.publish(head)
            except Exception as exc:  # a busy or vanished database: waiters time out
                log.warning("change feed: reading the head failed: %s", str(exc)[:200])
            await asyncio.sleep(self.poll_s)


class ListeningFeed(ChangeFeed):
    """PostgreSQL: one `LISTEN central_head` connection per worker process."""

    def __init__(self, store: CentralStore, reconnect_s: float = RECONNECT_S) -> None:
        super().__init__()
        self.store = store
        self.reconnect_s = reconnect_s
        url = store.engine.url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)

    async def _run(self) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    # anything committed before LISTEN took effect is seen by this read
                    self.publish(await asyncio.to_thread(self.store.head))
                    async for note in conn.notifies():
                        with contextlib.suppress(ValueError):
                            self.publish(int(note.payload))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarted or the link dropped
                log.warning("change feed: listening connection lost: %s", str(exc)[:200])
            await asyncio.sleep(self.reconnect_s)


def feed_for(store: CentralStore) -> ChangeFeed:
    """The feed that fits the store's engine."""
    if store.is_sqlite:
        return PollingFeed(store)
    return ListeningFeed(store)
