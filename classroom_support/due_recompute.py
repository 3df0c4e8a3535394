"""A calendar edit's recompute of open tickets' headline deadlines, in small steps.

A course session or closure saved at the desk can only move deadlines at or after the earliest
instant it touched (`since`): working time before it is unchanged. `SlaService.begin_recompute`
picks those tickets from the deadlines it knows; `DueRecompute.step` evaluates them a chunk at a
time on the new calendar, into the job's own table; `SlaService.finish_recompute` applies the
table and names the tickets whose deadline moved earlier.

Why steps: the TUI runs the job on its event loop between frames (`app_calendar.py`). A worker
thread computing at the same time as the UI thread made both wait for the GIL, and on a busy
machine a frame waited hundreds of milliseconds for a recompute of a few hundred tickets. One
step is bounded by a time budget (at least one chunk), so frames keep coming while the result
is being worked out. The CLI and the sync command run the same job in one go
(`SlaService.calendar_changed`).

Headless: no Textual. Reads only what a ticket's headline clock needs, with plain SQL (the
ORM's row handling costs more than the clocks).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from classroom_support.plain_read import stored_datetime
from classroom_support.sla_policy import headline_due, pause_spans_from_json

if TYPE_CHECKING:
    from classroom_support.monitor import SlaService

# `+is_open` keeps SQLite on the ref index: with a plain `is_open = 1` it walks every open
# ticket through the is_open index and tests each against the list (7 ms a chunk at 20,000 open).
HEADLINE_SQL = (
    "SELECT ref, hall_code, created_at, priority, channel, first_response_at, resolved_at, "
    "pauses FROM ticket WHERE +is_open = 1 AND ref IN ({marks})"
)
CHUNK = 40  # tickets read and evaluated at a time: about 2 ms of work
SCAN = 1000  # known deadlines compared with `since` at a time: well under a millisecond


@dataclass
class DueRecompute:
    """One edit's recompute. It starts from a copy of the deadlines the service knew; a step
    first picks those at or after `since` out of it (`refs`, and `before`: what they were),
    a slice at a time, then evaluates the picked tickets a chunk at a time into `dues`;
    tickets closed since go to `closed` (no deadline to show)."""

    sla: SlaService
    since: datetime
    version: int  # the service's calendar version when the job began
    known: list[tuple[str, datetime]]  # (ref, deadline) as the service knew them
    now: datetime
    refs: list[str] = field(default_factory=list)
    before: dict[str, datetime] = field(default_factory=dict)
    dues: dict[str, datetime] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)
    scanned: int = 0  # known[:scanned] are picked from
    done: int = 0  # refs[:done] are evaluated
    checked: int = 0  # of those, still open

    @property
    def finished(self) -> bool:
        return self.scanned >= len(self.known) and self.done >= len(self.refs)

    def step(self, budget_s: float = 0.005, timer: Callable[[], float] = time.perf_counter) -> bool:
        """Work until `budget_s` is spent (at least one slice or chunk); True when finished."""
        started = timer()
        while not self.finished:
            self._work()
            if timer() - started >= budget_s:
                break
        return self.finished

    def run(self) -> None:
        """All of it at once (the CLI, the sync command, tests)."""
        while not self.finished:
            self._work()

    def _work(self) -> None:
        if self.scanned < len(self.known):
            self._pick(self.known[self.scanned : self.scanned + SCAN])
        else:
            self._chunk(self.refs[self.done : self.done + CHUNK])

    def _pick(self, known: list[tuple[str, datetime]]) -> None:
        since = self.since
        # Only these can move: the rest is neither evaluated nor compared.
        picked = [(ref, due) for ref, due in known if due >= since]
        self.before.update(picked)
        self.refs.extend(ref for ref, _due in picked)
        self.scanned += len(known)

    def _chunk(self, chunk: list[str]) -> None:
        sla = self.sla
        marks = ", ".join("?" for _ in chunk)
        with sla.db.read() as s:
            rows = s.connection().exec_driver_sql(HEADLINE_SQL.format(marks=marks), tuple(chunk))
            rows = rows.all()
        found: set[str] = set()
        for ref, hall, created, priority, channel, first, resolved, pauses in rows:
            found.add(ref)
            due = headline_due(
                sla.calendar(hall),
                sla.policy,
                created_at=stored_datetime(created),
                priority=priority,
                channel=channel,
                first_response_at=stored_datetime(first),
                resolved_at=stored_datetime(resolved),
                pauses=lambda text=pauses: pause_spans_from_json(text),
                now=self.now,
            )
            if due is not None:
                self.dues[ref] = due
        self.closed.extend(ref for ref in chunk if ref not in found)
        self.checked += len(found)
        self.done += len(chunk)
