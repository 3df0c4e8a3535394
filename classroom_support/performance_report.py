"""The managers' figures: first responses within target, breaches and the median first response,
per week, per hall and per priority. Headless: the CLI `report` and the charts screen share it.

Every ticket's first-response clock is evaluated exactly as the SLA clocks do it (same calendar
per hall, same targets per priority and channel, `sla_policy.evaluate_clock`), and the ticket is
counted in the week (Asia/Riyadh by default, Sunday to Saturday) in which its outcome became
known:

- answered within target: the week of the first response;
- breached: the week the deadline passed unanswered, whether it was answered later or not yet;
- not answered and not yet due: in no week yet ("awaiting", shown as a total).

So a ticket counts once, breaches are counted when they happened, and the current week is not
empty just because its tickets are young. The median first response is taken over the first
responses made in the week (late ones included), in working hours. Pausing a ticket does not
stop its first-response clock, so paused tickets count like any other.

The split by "tier" is by **priority**: the rung a ticket reached is a consequence of missing
its first response (every ticket above Level 1 is a breach), so a share within target per rung
says nothing; per priority it answers whether urgent work is answered in time.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import col

from classroom_support.i18n import tr
from classroom_support.models import Ticket
from classroom_support.sla_policy import evaluate_clock
from classroom_support.tickets import PRIORITIES

WEEK_STARTS_ON = 6  # Sunday (Python weekday numbers): the Saudi working week starts on Sunday
MAX_WEEKS = 104
DIMENSIONS = ("all", "hall", "priority")
HOUR = timedelta(hours=1)

_COLUMNS = (
    Ticket.hall_code,
    Ticket.created_at,
    Ticket.priority,
    Ticket.channel,
    Ticket.first_response_at,
)


@dataclass(frozen=True)
class Week:
    start: date  # local, the first day
    end: date  # local, the last day (inclusive)
    partial: bool  # the current week: counted up to now


@dataclass
class WeekFigures:
    within_target: int = 0
    breaches: int = 0
    response_times: list[timedelta] = field(default_factory=list)  # working time, per response

    @property
    def settled(self) -> int:
        """First-response clocks whose outcome became known: the share's denominator."""
        return self.within_target + self.breaches

    @property
    def share_within_target(self) -> float | None:
        return self.within_target / self.settled if self.settled else None

    @property
    def first_responses(self) -> int:
        return len(self.response_times)

    @property
    def median_first_response(self) -> timedelta | None:
        return statistics.median(self.response_times) if self.response_times else None

    @property
    def median_hours(self) -> float | None:
        median = self.median_first_response
        return None if median is None else median / HOUR

    def as_dict(self) -> dict[str, Any]:
        share = self.share_within_target
        hours = self.median_hours
        return {
            "within_target": self.within_target,
            "breaches": self.breaches,
            "settled": self.settled,
            "share_within_target": None if share is None else round(share, 4),
            "first_responses": self.first_responses,
            "median_first_response_hours": None if hours is None else round(hours, 2),
        }


def _combined(parts: Iterable[WeekFigures]) -> WeekFigures:
    total = WeekFigures()
    for p in parts:
        total.within_target += p.within_target
        total.breaches += p.breaches
        total.response_times.extend(p.response_times)
    return total


@dataclass
class GroupFigures:
    dimension: str  # all | hall | priority
    value: str  # "" for all
    weeks: list[WeekFigures]
    awaiting: int = 0  # unanswered and not yet due, now

    @property
    def total(self) -> WeekFigures:
        """The whole period (the median over every response, not a median of medians)."""
        return _combined(self.weeks)

    @property
    def has_data(self) -> bool:
        return any(w.settled or w.first_responses for w in self.weeks) or self.awaiting > 0


@dataclass
class PerformanceReport:
    generated_at: datetime
    zone: ZoneInfo
    weeks: list[Week]
    groups: list[GroupFigures]
    hall: str | None = None

    def group(self, dimension: str, value: str = "") -> GroupFigures | None:
        return next((g for g in self.groups if g.dimension == dimension and g.value == value), None)

    @property
    def overall(self) -> GroupFigures:
        found = self.group("all")
        assert found is not None
        return found

    @property
    def halls(self) -> list[str]:
        return [g.value for g in self.groups if g.dimension == "hall"]

    @property
    def has_data(self) -> bool:
        return self.overall.has_data

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.astimezone(self.zone).isoformat(),
            "timezone": self.zone.key,
            "hall": self.hall,
            "weeks": [
                {"start": w.start.isoformat(), "end": w.end.isoformat(), "partial": w.partial}
                for w in self.weeks
            ],
            "groups": [
                {
                    "dimension": g.dimension,
                    "value": g.value,
                    "weeks": [
                        {"start": w.start.isoformat(), **f.as_dict()}
                        for w, f in zip(self.weeks, g.weeks, strict=True)
                    ],
                    "total": g.total.as_dict(),
                    "awaiting_first_response": g.awaiting,
                }
                for g in self.groups
            ],
        }


CSV_COLUMNS = (
    "dimension",
    "value",
    "week_start",
    "week_end",
    "partial",
    "within_target",
    "breaches",
    "settled",
    "share_within_target",
    "first_responses",
    "median_first_response_hours",
)


def csv_rows(report: PerformanceReport) -> list[list[str]]:
    """One row per group and week (for spreadsheets and scripts), header first."""
    rows = [list(CSV_COLUMNS)]
    for g in report.groups:
        for w, f in zip(report.weeks, g.weeks, strict=True):
            d = f.as_dict()
            rows.append(
                [
                    g.dimension,
                    g.value,
                    w.start.isoformat(),
                    w.end.isoformat(),
                    "yes" if w.partial else "no",
                    *(
                        "" if d[c] is None else str(d[c])
                        for c in CSV_COLUMNS[5:]  # the figures
                    ),
                ]
            )
    return rows


# --------------------------------------------------------------------------- the weeks


def week_start(day: date) -> date:
    return day - timedelta(days=(day.weekday() - WEEK_STARTS_ON) % 7)


def last_weeks(now: datetime, zone: ZoneInfo, count: int) -> list[Week]:
    """The current week (up to now) and the `count - 1` before it, oldest first."""
    current = week_start(now.astimezone(zone).date())
    starts = [current - timedelta(weeks=k) for k in range(count - 1, -1, -1)]
    return [Week(s, s + timedelta(days=6), s == current) for s in starts]


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


# --------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class FirstResponseOutcome:
    """When a ticket's first-response outcome became known, and what it was."""

    kind: str  # within | breached | awaiting
    settled_at: datetime | None  # the response (within) or the missed deadline (breached)
    responded_at: datetime | None
    response_time: timedelta | None  # working time from creation to the first response


def first_response_outcome(cal: Any, policy: Any, row: Any, now: datetime) -> FirstResponseOutcome:
    """The first-response clock of one ticket row, evaluated as the SLA clocks do it."""
    target = policy.target("first_response", row.priority, row.channel)
    clock = evaluate_clock(
        cal, policy, "first_response", row.created_at, target, now, row.first_response_at
    )
    responded = row.first_response_at
    work = clock.elapsed if responded is not None else None
    if clock.state == "breached":
        return FirstResponseOutcome("breached", clock.due, responded, work)
    if responded is not None:
        return FirstResponseOutcome("within", responded, responded, work)
    return FirstResponseOutcome("awaiting", None, None, None)


def halls_in_data(db: Any) -> list[str]:
    """The halls that have tickets in this database (a desk may serve halls beyond config)."""
    with db.read() as s:
        return sorted(s.execute(sa_select(Ticket.hall_code).distinct()).scalars())


def build_report(ctx: Any, weeks: int = 4, hall: str | None = None) -> PerformanceReport:
    """The figures for the last `weeks` weeks (this one included), from every ticket in the
    database (this desk's scope), or one hall's."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be between 1 and {MAX_WEEKS}")
    zone = ctx.config.zone
    now = ctx.clock.now()
    span = last_weeks(now, zone, weeks)
    window_start = _local_midnight(span[0].start, zone)
    # A ticket answered before the window settled before it (in time, or late after a
    # deadline that is earlier still); everything else may settle or respond inside it.
    query = sa_select(*_COLUMNS).where(
        or_(
            col(Ticket.first_response_at).is_(None),
            col(Ticket.first_response_at) >= window_start,
        )
    )
    if hall is not None:
        query = query.where(col(Ticket.hall_code) == hall)
    with ctx.db.read() as s:
        rows = list(s.execute(query))
    return tally(rows, span, now, zone, ctx.sla.calendar, ctx.sla.policy, hall)


def tally(
    rows: Sequence[Any],
    span: list[Week],
    now: datetime,
    zone: ZoneInfo,
    calendar_for: Any,
    policy: Any,
    hall: str | None = None,
) -> PerformanceReport:
    first_day = span[0].start

    def week_index(t: datetime) -> int | None:
        index = (week_start(t.astimezone(zone).date()) - first_day).days // 7
        return index if 0 <= index < len(span) else None

    groups: dict[tuple[str, str], GroupFigures] = {}

    def figures(dimension: str, value: str) -> GroupFigures:
        key = (dimension, value)
        if key not in groups:
            groups[key] = GroupFigures(dimension, value, [WeekFigures() for _ in span])
        return groups[key]

    figures("all", "")
    for row in rows:
        outcome = first_response_outcome(calendar_for(row.hall_code), policy, row, now)
        targets = (
            figures("all", ""),
            figures("hall", row.hall_code),
            figures("priority", row.priority),
        )
        if outcome.kind == "awaiting":
            for g in targets:
                g.awaiting += 1
            continue
        settled = week_index(outcome.settled_at) if outcome.settled_at else None
        answered = week_index(outcome.responded_at) if outcome.responded_at else None
        for g in targets:
            if settled is not None:
                week = g.weeks[settled]
                if outcome.kind == "within":
                    week.within_target += 1
                else:
                    week.breaches += 1
            if answered is not None and outcome.response_time is not None:
                g.weeks[answered].response_times.append(outcome.response_time)
    # Groups without anything in the period (an old unanswered ticket's hall) are left out.
    kept = [g for g in groups.values() if g.dimension == "all" or g.has_data]
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    rank = {p: i for i, p in enumerate(reversed(PRIORITIES))}  # critical first
    kept.sort(
        key=lambda g: (
            order[g.dimension],
            rank.get(g.value, len(rank)) if g.dimension == "priority" else 0,
            g.value,
        )
    )
    return PerformanceReport(now, zone, span, kept, hall)


# --------------------------------------------------------------------------- as text


def duration_text(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    return tr("age.hours", h=minutes // 60, m=minutes % 60)


def share_text(figures: Any) -> str:
    share = figures.share_within_target
    if share is None:
        return "—"
    return f"{figures.within_target}/{figures.settled}  {share * 100:.0f}%"


def group_title(group: Any, hall: str | None = None) -> str:
    if group.dimension == "all":
        return tr("report.group.hall", hall=hall) if hall else tr("report.group.all")
    if group.dimension == "hall":
        return tr("report.group.hall", hall=group.value)
    return tr("report.group.priority", priority=tr(f"priority.{group.value}"))
