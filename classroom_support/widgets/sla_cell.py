"""How an SLA clock reads in a table cell: a live working-time countdown, coloured by state."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from textual.content import Content

from classroom_support.i18n import display, tr
from classroom_support.sla import BusinessCalendar
from classroom_support.sla_policy import ClockStatus

# Plain colours (not theme variables): the cell is rendered inside a DataTable.
STATE_STYLES = {
    "on_track": "green",
    "warning": "bold yellow",
    "breached": "bold red",
    "paused": "dim",
    "met": "dim",
}


def countdown(delta: timedelta) -> str:
    """Working time left, as precise as it is urgent: '47h 59m', or '59m 12s' in the last hour.

    Minutes change once a minute, so a queue full of tickets repaints rarely; the last hour
    ticks every second.
    """
    seconds = int(abs(delta).total_seconds())
    sign = "-" if delta < timedelta(0) else ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    # The units are the interface language's, as the Age column's are ("47س 59د" in Arabic).
    if hours:
        return sign + tr("countdown.hours", h=hours, m=f"{minutes:02d}")
    return sign + tr("countdown.minutes", m=minutes, s=f"{secs:02d}")


def hms(delta: timedelta) -> str:
    """Working time as H:MM:SS (hours may exceed 24: they are working hours)."""
    seconds = int(abs(delta).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if delta < timedelta(0) else ""
    return f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}"


def resume_text(at: datetime, now: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return local.strftime("%H:%M")
    return f"{tr('weekday.' + str(local.weekday()))} {local.strftime('%H:%M')}"


def clock_text(
    clock: ClockStatus,
    cal: BusinessCalendar,
    now: datetime,
    zone: ZoneInfo,
    *,
    moved_earlier: bool = False,
    level: int = 0,
) -> tuple[str, str]:
    """(text, state) for the queue's due column."""
    # ▲n: escalated n rungs; ⚠: a calendar edit pulled the deadline in.
    flag = (f"▲{level} " if level else "") + ("⚠" if moved_earlier else "")
    if clock.state == "met":
        return f"{flag}✓ {tr('sla.state.met')}", "met"
    if clock.state == "paused":
        return f"{flag}⏸ {tr('sla.state.paused')}", "paused"
    remaining = countdown(clock.remaining)
    if not cal.is_open(now):
        resume = cal.next_opening(now)
        when = resume_text(resume, now, zone) if resume else "—"
        # Outside working hours the clock stands still: say so, and when it moves again.
        return f"{flag}⏸{remaining} {tr('countdown.resumes', when=when)}", clock.state
    return f"{flag}{remaining}", clock.state


def clock_cell(
    clock: ClockStatus,
    cal: BusinessCalendar,
    now: datetime,
    zone: ZoneInfo,
    *,
    moved_earlier: bool = False,
    level: int = 0,
) -> Content:
    text, state = clock_text(clock, cal, now, zone, moved_earlier=moved_earlier, level=level)
    return Content.styled(display(text), STATE_STYLES.get(state, ""))
