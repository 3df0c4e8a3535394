"""`classroom-support central serve` as a real subprocess on 127.0.0.1, for the tests that need
several worker processes (the in-thread server of sync_support.py is one process) and for
bench/central_load.py.

It gets a free loopback port, is waited for until `/api/v1/health` answers, and is stopped
with SIGTERM (uvicorn's supervisor then stops its workers) and waited for; its process group
is killed afterwards whatever happened, so no worker outlives it. Its log goes to a file, so a
test or the bench can look for tracebacks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

START_TIMEOUT_S = 120.0  # a wait-until: seconds on an idle machine, a minute or more on a busy one
STOP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (exited, waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return False
    return state != "Z"


class CentralProcess:
    """One `central serve --workers N` on a database (a SQLite path or a PostgreSQL URL)."""

    def __init__(
        self,
        db: str,
        log: Path,
        *,
        workers: int = 1,
        config: Path | None = None,
        extra: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.log = log
        self.workers = workers
        self.config = config
        self.extra = list(extra)
        self.env = dict(env) if env is not None else None  # e.g. libfaketime's variables
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.survivors: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CentralProcess:
        self.port = free_port()
        argv = [sys.executable, "-m", "classroom_support.cli", "central", "serve"]
        argv += ["--db", self.db, "--port", str(self.port), "--workers", str(self.workers)]
        argv += ["--sla-interval", "0", "--log-level", "warning"]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        argv += self.extra
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # its own process group: nothing of it outlives stop()
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"central serve exited ({self.proc.returncode}): {self.tail()}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"central serve did not answer in time: {self.tail()}")
            time.sleep(0.1)
        if self.workers > 1:  # the port answers once one worker is up: wait for all of them
            self._wait_for_workers(deadline)
        return self

    def _wait_for_workers(self, deadline: float) -> None:
        assert self.proc is not None
        while time.monotonic() < deadline:
            if len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.1)

    def children(self) -> list[int]:
        """Process ids of the supervisor's children: the workers and multiprocessing's helper."""
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def worker_pids(self) -> list[int]:
        """The children that serve requests (not multiprocessing's resource tracker)."""
        found = []
        for pid in self.children():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                found.append(pid)
        return found

    def stop(self) -> int | None:
        """SIGTERM, wait; then SIGKILL whatever is left of its process group. The exit code.
        Workers still running when the supervisor had exited are kept in `survivors`."""
        if self.proc is None:
            return None
        workers = self.worker_pids()
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)
        self.survivors = [pid for pid in workers if _running(pid)]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        return proc.returncode

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def server_errors(self) -> list[str]:
        """Log lines that tell of a failure in the server: tracebacks, 500s, errors."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [
            line
            for line in lines
            if "Traceback" in line or " 500 " in line or " ERROR " in line or "Exception" in line
        ]

    def __enter__(self) -> CentralProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
