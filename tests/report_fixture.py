"""Tickets with known first-response events, for the managers' figures (report, charts).

Config: first response 6 working hours (critical: 2), opening hours 10:00–16:00 every day, a
course session on Fri 2026-11-27 17:00–21:00. The fixed clock is Sat 2026-11-28 10:30 Riyadh;
weeks run Sunday to Saturday, so the last four start on 11-01, 11-08, 11-15 and 11-22.

| ticket | hall, priority | created → first response | outcome (week) | working h |
|---|---|---|---|---|
| T1  | A101 normal   | Sun 11-15 10:00 → 12:30           | within (11-15)      | 2.5 |
| T2  | A101 normal   | Mon 11-16 15:00 → Tue 11:00       | within (11-15)      | 2 |
| T3  | A102 high     | Tue 11-17 10:00, paused 11:00     | breached 16:00 (11-15) | — |
| T4  | A102 critical | Sat 11-21 15:00 → Sun 11-22 12:00 | breached Sun 11:00 (11-22) | 3 |
| T5  | A101 normal   | Wed 11-25 10:00, none             | breached 16:00 (11-22) | — |
| T6  | A101 normal   | Sat 11-28 10:00, none             | awaiting (due 16:00) | — |
| T7  | B201 normal   | Thu 11-26 14:00 → 14:30           | within (11-22)      | 0.5 |
| T8  | A101 normal   | Tue 10-20 10:00 → 11:00           | before the period   | — |
| T9  | A101 normal   | Tue 11-03 13:00 → Wed 12:00       | within (11-01)      | 5 |
| T10 | A101 high     | Fri 11-27 15:00 → 18:00           | within (11-22)      | 2 (1 + 1 course) |
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.sessions import SessionDraft
from classroom_support.tickets import TicketDraft

RIYADH = ZoneInfo("Asia/Riyadh")
NOW = datetime(2026, 11, 28, 10, 30, tzinfo=RIYADH)
WEEKS = ["2026-11-01", "2026-11-08", "2026-11-15", "2026-11-22"]

REPORT_CONFIG = """\
[ui]
language = "{language}"
[device]
technician = "Sami"
hall = "A101"
[sla]
first_response_hours = 6
targets = [{{ priority = "critical", first_response_hours = 2 }}]
"""


def report_config(language: str = "en") -> str:
    return REPORT_CONFIG.format(language=language)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=RIYADH)


def fill_report_fixture(ctx: AppContext) -> dict[str, str]:
    """Create T1..T10 (see the table above); returns their references by name."""
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    ctx.sessions.add(SessionDraft("Evening Python", "Omar", "2026-11-27", "17:00", "21:00"))
    refs: dict[str, str] = {}

    def create(name: str, when: str, hall: str, priority: str = "normal") -> None:
        clock.set(at(when))
        draft = TicketDraft(title=f"{name} problem", hall_code=hall, priority=priority)
        refs[name] = ctx.desk.create(draft).ref

    def respond(name: str, when: str) -> None:
        clock.set(at(when))
        ctx.desk.respond(refs[name], "on it")

    create("T8", "2026-10-20 10:00", "A101")
    respond("T8", "2026-10-20 11:00")
    create("T9", "2026-11-03 13:00", "A101")
    respond("T9", "2026-11-04 12:00")
    create("T1", "2026-11-15 10:00", "A101")
    respond("T1", "2026-11-15 12:30")
    create("T2", "2026-11-16 15:00", "A101")
    respond("T2", "2026-11-17 11:00")
    create("T3", "2026-11-17 10:00", "A102", "high")
    clock.set(at("2026-11-17 11:00"))
    ctx.desk.pause(refs["T3"], "waiting for the trainee")
    create("T4", "2026-11-21 15:00", "A102", "critical")
    respond("T4", "2026-11-22 12:00")
    create("T5", "2026-11-25 10:00", "A101")
    create("T7", "2026-11-26 14:00", "B201")
    respond("T7", "2026-11-26 14:30")
    create("T10", "2026-11-27 15:00", "A101", "high")
    respond("T10", "2026-11-27 18:00")
    create("T6", "2026-11-28 10:00", "A101")
    clock.set(NOW)
    ctx.sla.run()
    return refs
