"""Business calendar and SLA clocks (pure, no I/O). Grows with the SLA capability.

For now: whether an instant falls in the configured weekly opening hours, which the header and
reports can already use. Course sessions and closures join the calendar with the SLA clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from classroom_support.config import Config


def in_weekly_hours(config: Config, instant: datetime) -> bool:
    """True when `instant` lies inside one of the weekly windows (local time of the institute)."""
    local = instant.astimezone(config.zone)
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    yesterday = (weekday - 1) % 7
    for window in config.weekly_windows:
        if window.start_minute < window.end_minute:
            if weekday in window.days and window.start_minute <= minute < window.end_minute:
                return True
        else:  # crosses midnight: the evening part today, the morning part belongs to yesterday
            if weekday in window.days and minute >= window.start_minute:
                return True
            if yesterday in window.days and minute < window.end_minute:
                return True
    return False


def first_response_target(config: Config) -> timedelta:
    """The policy's first-response target, as working time."""
    return timedelta(hours=config.first_response_hours)
