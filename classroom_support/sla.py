"""The business calendar and SLA clocks. Pure: no I/O, no clock of its own, no Textual.

Working time = weekly windows (default every day 10:00–16:00 local) ∪ course sessions, minus
closures (holidays) — but a course in session on a closed day still counts.

The calendar keeps its open time as sorted, disjoint intervals in integer microseconds since the
epoch, with a running total of open time before each interval. "Working time between a and b" is
then C(b) − C(a), and "a plus d of working time" is one binary search for C(a) + d: both
O(log n), exact (integers), and consistent with each other by construction.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from classroom_support.config import Config, WeeklyWindow
from classroom_support.records import field, record

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
INITIAL_DAYS_BEFORE = 21
INITIAL_DAYS_AFTER = 120
MAX_SPAN_DAYS = 366 * 30  # a target that needs more than this never comes due


def to_us(t: datetime) -> int:
    if t.tzinfo is None:
        raise ValueError("the calendar needs aware datetimes")
    return (t - EPOCH) // US


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class Closure(NamedTuple):
    """Local dates (inclusive) on which the weekly windows do not apply."""

    start: date
    end: date
    name: str = ""
    estimated: bool = False


class SessionWindow(NamedTuple):
    start: datetime
    end: datetime
    label: str = ""
    hall: str = ""


class Span(NamedTuple):
    """A stretch of counted working time, for explanations."""

    start: datetime
    end: datetime
    source: str  # "hours" or "session"
    label: str = ""

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def _merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _subtract(base: list[tuple[int, int]], cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`base` minus `cuts` (both merged and sorted)."""
    out: list[tuple[int, int]] = []
    j = 0
    for start, end in base:
        cur = start
        while j < len(cuts) and cuts[j][1] <= cur:
            j += 1
        k = j
        while k < len(cuts) and cuts[k][0] < end:
            if cuts[k][0] > cur:
                out.append((cur, cuts[k][0]))
            cur = max(cur, cuts[k][1])
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


DAY_US = 86_400 * 1_000_000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class LocalInstants:
    """`minute` minutes of local wall-clock time after midnight of `day`, in UTC microseconds
    (0 ≤ minute ≤ 1440): `to_us(datetime.combine(day, time(0), zone) + timedelta(minutes=
    minute))`, for many days at once.

    A calendar build asks this for two or three instants of each of some 500 days. Working
    out each one through an aware datetime took most of the build (~6 ms). Here the zone is
    asked once per day, for its offset at local midnight; when the next midnight has the same
    offset, none changes in between (no zone has two changes within a day), and every instant
    of the day is its wall-clock time minus that offset. A day with a change (daylight
    saving) is worked out exactly. Non-existent and repeated wall times resolve as the aware
    datetime does (`fold=0`)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[int, int] = {}  # day ordinal -> offset at local midnight, µs

    def _offset(self, ordinal: int) -> int:
        offset = self._offsets.get(ordinal)
        if offset is None:
            midnight = datetime.fromordinal(ordinal)  # naive: local wall-clock time
            offset = self._offsets[ordinal] = self.zone.utcoffset(midnight) // US  # type: ignore[operator]
        return offset

    def __call__(self, day: date, minute: int) -> int:
        ordinal = day.toordinal()
        offset = self._offset(ordinal)
        if offset != self._offset(ordinal + 1):
            return to_us(datetime.combine(day, time(0), self.zone) + timedelta(minutes=minute))
        return (ordinal - EPOCH_ORDINAL) * DAY_US + minute * 60_000_000 - offset


@record
class BusinessCalendar:
    zone: ZoneInfo
    weekly: Sequence[WeeklyWindow]
    sessions: Sequence[SessionWindow] = ()
    closures: Sequence[Closure] = ()
    _lo: int = field(default=0, init=False, repr=False)
    _hi: int = field(default=0, init=False, repr=False)
    _starts: list[int] = field(default_factory=list, init=False, repr=False)
    _ends: list[int] = field(default_factory=list, init=False, repr=False)
    _cum: list[int] = field(default_factory=list, init=False, repr=False)  # before interval i
    _cum_end: list[int] = field(default_factory=list, init=False, repr=False)  # through i

    @classmethod
    def from_config(
        cls,
        config: Config,
        sessions: Sequence[SessionWindow] = (),
        closures: Sequence[Closure] = (),
    ) -> BusinessCalendar:
        return cls(config.zone, config.weekly_windows, sessions, closures)

    # ------------------------------------------------------------------ building

    def _build(self, lo_day: date, hi_day: date) -> None:
        """Open intervals covering local days [lo_day, hi_day]."""
        local_us = LocalInstants(self.zone)
        lo = local_us(lo_day, 0)
        hi = local_us(hi_day + timedelta(days=1), 0)
        weekly: list[tuple[int, int]] = []
        day = lo_day - timedelta(days=1)  # yesterday's window may run past midnight
        while day <= hi_day:
            weekday = day.weekday()
            for w in self.weekly:
                if weekday not in w.days:
                    continue
                start = local_us(day, w.start_minute)
                if w.end_minute > w.start_minute:
                    end = local_us(day, w.end_minute)
                else:
                    end = local_us(day + timedelta(days=1), w.end_minute)
                weekly.append((start, end))
            day += timedelta(days=1)
        closed = _merge(
            (local_us(c.start, 0), local_us(c.end + timedelta(days=1), 0)) for c in self.closures
        )
        open_weekly = _subtract(_merge(weekly), closed)
        sessions = [(to_us(s.start), to_us(s.end)) for s in self.sessions]
        merged = _merge(open_weekly + sessions)
        clipped = [(max(s, lo), min(e, hi)) for s, e in merged if e > lo and s < hi]
        self._lo, self._hi = lo, hi
        self._starts = [s for s, _ in clipped]
        self._ends = [e for _, e in clipped]
        self._cum = []
        self._cum_end = []
        total = 0
        for s, e in clipped:
            self._cum.append(total)
            total += e - s
            self._cum_end.append(total)

    def _ensure(self, lo_us: int, hi_us: int) -> None:
        if self._starts or self._hi > self._lo:
            if lo_us >= self._lo and hi_us <= self._hi:
                return
            lo_us = min(lo_us, self._lo)
            hi_us = max(hi_us, self._hi)
        lo_day = from_us(lo_us).astimezone(self.zone).date() - timedelta(days=INITIAL_DAYS_BEFORE)
        hi_day = from_us(hi_us).astimezone(self.zone).date() + timedelta(days=INITIAL_DAYS_AFTER)
        self._build(lo_day, hi_day)

    def _grow_forward(self) -> bool:
        span_days = (self._hi - self._lo) // (86_400 * 1_000_000)
        if span_days > MAX_SPAN_DAYS:
            return False
        lo_day = from_us(self._lo).astimezone(self.zone).date()
        hi_day = from_us(self._hi).astimezone(self.zone).date() + timedelta(days=max(span_days, 60))
        self._build(lo_day, hi_day)
        return True

    # ------------------------------------------------------------------ queries

    def _open_before(self, us: int) -> int:
        """Working microseconds in [lo, us)."""
        i = bisect.bisect_right(self._starts, us) - 1
        if i < 0:
            return 0
        return self._cum[i] + min(us, self._ends[i]) - self._starts[i]

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in [a, b); negative if b is before a."""
        au, bu = to_us(a), to_us(b)
        self._ensure(min(au, bu), max(au, bu))
        return timedelta(microseconds=self._open_before(bu) - self._open_before(au))

    def add(self, t: datetime, work: timedelta) -> datetime:
        """The instant at which `work` of working time has passed since `t`.

        A target that is used up exactly at a window's end is that instant (16:00), not the
        next opening. `add(t, 0)` is `t`.
        """
        if work < timedelta(0):
            raise ValueError("working time to add must not be negative")
        tu = to_us(t)
        need = work // US
        if need == 0:
            return t
        self._ensure(tu, tu)
        while True:
            target = self._open_before(tu) + need
            i = bisect.bisect_left(self._cum_end, target)
            if i < len(self._cum_end):
                return from_us(self._starts[i] + (target - self._cum[i]))
            if not self._grow_forward():
                raise ValueError("the calendar has no working time that far ahead")

    def is_open(self, t: datetime) -> bool:
        tu = to_us(t)
        self._ensure(tu, tu)
        i = bisect.bisect_right(self._starts, tu) - 1
        return i >= 0 and tu < self._ends[i]

    def next_opening(self, t: datetime) -> datetime | None:
        """`t` itself when open, else the start of the next open stretch (None if none)."""
        tu = to_us(t)
        self._ensure(tu, tu)
        while True:
            i = bisect.bisect_right(self._starts, tu) - 1
            if i >= 0 and tu < self._ends[i]:
                return t
            if i + 1 < len(self._starts):
                return from_us(self._starts[i + 1])
            if not self._grow_forward():
                return None

    def intervals(self, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
        """The open stretches inside [a, b)."""
        au, bu = to_us(a), to_us(b)
        self._ensure(au, bu)
        out = []
        i = max(0, bisect.bisect_right(self._starts, au) - 1)
        while i < len(self._starts) and self._starts[i] < bu:
            s, e = max(self._starts[i], au), min(self._ends[i], bu)
            if s < e:
                out.append((from_us(s), from_us(e)))
            i += 1
        return out

    def explain(self, a: datetime, b: datetime) -> list[Span]:
        """Which windows the span [a, b) consumed: weekly hours or a named course session."""
        spans: list[Span] = []
        sessions = sorted(
            ((to_us(s.start), to_us(s.end), s.label) for s in self.sessions), key=lambda x: x[0]
        )
        for start, end in self.intervals(a, b):
            su, eu = to_us(start), to_us(end)
            cur = su
            for s_start, s_end, label in sessions:
                if s_end <= cur or s_start >= eu:
                    continue
                if s_start > cur:
                    spans.append(Span(from_us(cur), from_us(s_start), "hours"))
                piece_end = min(s_end, eu)
                if piece_end > max(cur, s_start):
                    spans.append(
                        Span(from_us(max(cur, s_start)), from_us(piece_end), "session", label)
                    )
                cur = max(cur, piece_end)
            if cur < eu:
                spans.append(Span(from_us(cur), from_us(eu), "hours"))
        return spans
