"""Crash durability: a process logging tickets is SIGKILLed at random moments, many times over.

Whatever the child reported as saved (it prints a line only after `create()` / the action
returned) must be in the database when it is reopened: same ticket, same title to the byte,
same events; the file passes `PRAGMA integrity_check`; every ticket row is still the fold of
its events. Every round reopens the database the previous round was killed in the middle of.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import select

from classroom_support.context import open_context
from classroom_support.models import Ticket, TicketEvent
from classroom_support.tickets import fold

CHILD = Path(__file__).with_name("crash_child.py")
ROUNDS = 25
SEED = 20261128
KILL_AFTER = (0.05, 0.6)  # seconds after the child said READY
START_TIMEOUT = 60.0  # import + open + migrate: ~0.5 s, far more on a loaded machine
EXIT_TIMEOUT = 5.0

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


@dataclass
class Reported:
    """What the children promised: ref -> (ticket id, title), and (ref, kind, text) events."""

    tickets: dict[str, tuple[str, str]] = field(default_factory=dict)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    per_round: list[int] = field(default_factory=list)


class _LineReader(threading.Thread):
    """Collects the child's complete stdout lines; `ready` is set at the first one."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.lines: list[str] = []
        self.ready = threading.Event()

    def run(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if not raw.endswith(b"\n"):
                break  # cut off by the kill mid-write: not a promise
            self.lines.append(raw.decode("ascii").rstrip("\n"))
            self.ready.set()
        self.ready.set()  # EOF: wake the waiter even if nothing came


def _run_round(round_no: int, delay: float, config: Path, db: Path, log: Path) -> list[str]:
    """Start the child, let it write for `delay` seconds after READY, SIGKILL it, return lines."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(config), str(db), str(round_no)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=db.parent,
        )
        reader = _LineReader(proc)
        try:
            reader.start()
            started = reader.ready.wait(START_TIMEOUT)
            alive = proc.poll() is None
            if started and alive:
                time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(EXIT_TIMEOUT)
            reader.join(EXIT_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(EXIT_TIMEOUT)
            if proc.stdout is not None:
                proc.stdout.close()
    detail = f"round {round_no}: stderr:\n{log.read_text(errors='replace')}"
    assert started, f"child wrote nothing within {START_TIMEOUT} s; {detail}"
    assert proc.returncode == -signal.SIGKILL, (
        f"child exited by itself ({proc.returncode}); {detail}"
    )
    assert not reader.is_alive(), f"round {round_no}: stdout never reached EOF"
    assert reader.lines and reader.lines[0].startswith("READY "), detail
    return reader.lines


def _fields(ticket: Ticket) -> dict[str, object]:
    """Every column's value. Not bare `model_dump()`: on a Ticket built in memory (as `fold`
    does) it leaves out nullable datetime columns never assigned (`utc_column()` gives them no
    default), while a row loaded from SQLite has them all, so equal tickets would differ."""
    return {name: getattr(ticket, name) for name in Ticket.model_fields}


def _record(lines: list[str], reported: Reported) -> None:
    count = 0
    for line in lines[1:]:
        tag, rest = line.split(" ", 1)
        if tag == "TKT":
            ref, ticket_id, title = rest.split(" ", 2)
            reused = ref in reported.tickets
            assert not reused, f"ref {ref} handed out twice (was a saved ticket lost?): {line!r}"
            reported.tickets[ref] = (ticket_id, json.loads(title))
            count += 1
        elif tag == "EVT":
            ref, kind, text = rest.split(" ", 2)
            reported.events.append((ref, kind, json.loads(text)))
        else:
            raise AssertionError(f"unexpected line from the child: {line!r}")
    reported.per_round.append(count)


def test_reported_tickets_survive_sigkill(tmp_path: Path) -> None:
    config = tmp_path / "no-such-config.toml"  # missing file: all defaults
    db = tmp_path / "data" / "desk.sqlite3"
    db.parent.mkdir()
    rng = random.Random(SEED)
    reported = Reported()
    began = time.monotonic()
    for round_no in range(ROUNDS):
        delay = rng.uniform(*KILL_AFTER)
        lines = _run_round(round_no, delay, config, db, tmp_path / f"child-{round_no}.err")
        _record(lines, reported)
    elapsed = time.monotonic() - began

    assert len(reported.tickets) >= ROUNDS, (
        f"only {len(reported.tickets)} tickets reported in {ROUNDS} rounds "
        f"({reported.per_round}); the child barely wrote, the test proves little"
    )
    assert reported.events, "no events reported: the action path was never exercised"

    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        raw.close()

    ctx = open_context(config, db)
    try:
        with ctx.db.read() as s:
            rows = list(s.exec(select(Ticket)).all())
            events = list(s.exec(select(TicketEvent)).all())
        by_ref = {t.ref: t for t in rows}
        assert len(by_ref) == len(rows), "duplicate refs in the ticket table"
        assert len({t.id for t in rows}) == len(rows)

        missing = sorted(set(reported.tickets) - set(by_ref))
        assert not missing, f"reported as saved but gone after SIGKILL: {missing}"
        for ref, (ticket_id, title) in reported.tickets.items():
            row = by_ref[ref]
            assert row.id == ticket_id, ref
            assert row.title == title, f"{ref}: title changed: {row.title!r} != {title!r}"
        # A round can at most have committed one ticket it had no time to report.
        unreported = set(by_ref) - set(reported.tickets)
        assert len(unreported) <= ROUNDS, sorted(unreported)

        stored = {(e.ticket_id, e.kind, e.payload) for e in events}
        for ref, kind, text in reported.events:
            key = "message" if kind == "responded" else "text"
            payload = json.dumps({key: text}, ensure_ascii=False)
            assert (by_ref[ref].id, kind, payload) in stored, f"event lost: {ref} {kind} {text!r}"

        for row in rows:
            history = ctx.desk.history(row.id)
            assert _fields(fold(history)) == _fields(row), row.ref
        assert sum(t.event_count for t in rows) == len(events)
    finally:
        ctx.close()

    print(
        f"\n{ROUNDS} rounds in {elapsed:.1f} s: {len(reported.tickets)} tickets and "
        f"{len(reported.events)} events reported, {len(rows)} tickets and {len(events)} events "
        f"stored; per round {reported.per_round}"
    )
