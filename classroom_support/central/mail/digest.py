"""The managers' daily digest: open breaches, root-cause analyses pending, tickets due today.

Queued once a day per person at `[mail] digest_time` (local, default 09:30) or at the first
run after it; the cause `digest/<date>/<person>` makes a second worker or a restart queue
nothing new. A person opts out with `central edit-person ID --no-digest`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from classroom_support.central.mail.render import one_line
from classroom_support.models import Ticket
from classroom_support.sla_policy import TicketClocks


@dataclass(frozen=True)
class DigestLine:
    ref: str
    hall: str
    title: str
    due: str  # local time


def due_now(now_local: datetime, digest_minute: int) -> bool:
    return now_local.hour * 60 + now_local.minute >= digest_minute


def digest_cause(day: date, who: str) -> str:
    return f"digest/{day.isoformat()}/{who}"


def digest_lists(
    tickets: Iterable[Ticket],
    clocks_of: Callable[[Ticket], TicketClocks],
    day: date,
    zone: Any,
    shown: Callable[[datetime | None], str],
) -> dict[str, list[DigestLine]]:
    """breaches: open and past a deadline; rca_pending: breached, no RCA yet (open or not);
    due_today: open, not breached, the clock shown on the queue due on `day` (local)."""
    out: dict[str, list[DigestLine]] = {"breaches": [], "rca_pending": [], "due_today": []}
    for t in sorted(tickets, key=lambda t: (t.created_at, t.ref)):
        clocks = clocks_of(t) if t.is_open else None
        headline = clocks.headline if clocks else None
        due = shown(headline.due if headline else None)
        line = DigestLine(t.ref, t.hall_code, one_line(t.title, 200), due)
        if t.is_open and t.breached:
            out["breaches"].append(line)
        if t.breached and t.rca_at is None:
            out["rca_pending"].append(line)
        if (
            t.is_open
            and not t.breached
            and headline is not None
            and headline.due is not None
            and headline.due.astimezone(zone).date() == day
        ):
            out["due_today"].append(line)
    return out
