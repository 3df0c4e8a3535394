"""The business calendar: properties (Hypothesis), an independent minute-stepping oracle, edges."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classroom_support.config import Config, WeeklyWindow
from classroom_support.sla import BusinessCalendar, Closure, LocalInstants, SessionWindow
from classroom_support.sla_policy import SlaPolicy, clocks_of, headline_of
from classroom_support.tickets import CHANNELS, PRIORITIES

RIYADH = ZoneInfo("Asia/Riyadh")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=RIYADH)


def policy_calendar(**kw: object) -> BusinessCalendar:
    return BusinessCalendar.from_config(Config(), **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- edge cases


def test_policy_day_is_ten_to_four() -> None:
    cal = policy_calendar()
    assert cal.add(local(2026, 11, 28, 10), 6 * H) == local(2026, 11, 28, 16)
    assert cal.between(local(2026, 11, 28), local(2026, 11, 29)) == 6 * H


def test_forty_eight_working_hours_is_eight_policy_days() -> None:
    cal = policy_calendar()
    assert cal.add(local(2026, 11, 28, 10), 48 * H) == local(2026, 12, 5, 16)


def test_deadline_at_a_window_end_is_that_instant_not_next_morning() -> None:
    cal = policy_calendar()
    assert cal.add(local(2026, 11, 28, 15), 1 * H) == local(2026, 11, 28, 16)
    assert cal.add(local(2026, 11, 28, 15), 1 * H + M) == local(2026, 11, 29, 10, 1)


def test_start_outside_a_window_waits_for_the_opening() -> None:
    cal = policy_calendar()
    assert cal.add(local(2026, 11, 28, 7), 1 * H) == local(2026, 11, 28, 11)
    assert cal.add(local(2026, 11, 28, 20), 1 * H) == local(2026, 11, 29, 11)
    assert not cal.is_open(local(2026, 11, 28, 20))
    assert cal.next_opening(local(2026, 11, 28, 20)) == local(2026, 11, 29, 10)
    assert cal.next_opening(local(2026, 11, 28, 12)) == local(2026, 11, 28, 12)


def test_ticket_at_three_with_an_evening_course() -> None:
    course = SessionWindow(local(2026, 11, 28, 17), local(2026, 11, 28, 21), "Python 101")
    cal = policy_calendar(sessions=[course])
    # 15:00–16:00 (1h) + 17:00–21:00 (4h) + next day 10:00–11:00 (1h) = 6h
    assert cal.add(local(2026, 11, 28, 15), 6 * H) == local(2026, 11, 29, 11)
    spans = cal.explain(local(2026, 11, 28, 15), local(2026, 11, 29, 11))
    assert [(s.start, s.end, s.source, s.label) for s in spans] == [
        (local(2026, 11, 28, 15), local(2026, 11, 28, 16), "hours", ""),
        (local(2026, 11, 28, 17), local(2026, 11, 28, 21), "session", "Python 101"),
        (local(2026, 11, 29, 10), local(2026, 11, 29, 11), "hours", ""),
    ]


def test_sessions_overlapping_windows_and_each_other_count_once() -> None:
    sessions = [
        SessionWindow(local(2026, 11, 28, 9), local(2026, 11, 28, 12), "A"),
        SessionWindow(local(2026, 11, 28, 11), local(2026, 11, 28, 17), "B"),
    ]
    cal = policy_calendar(sessions=sessions)
    assert cal.between(local(2026, 11, 28), local(2026, 11, 29)) == 8 * H  # 09:00–17:00


def test_session_crossing_midnight() -> None:
    night = SessionWindow(local(2026, 11, 28, 22), local(2026, 11, 29, 2), "Night")
    cal = policy_calendar(sessions=[night])
    assert cal.add(local(2026, 11, 28, 16), 3 * H) == local(2026, 11, 29, 1)


def test_closure_removes_hours_but_a_session_that_day_still_counts() -> None:
    national_day = Closure(date(2026, 9, 23), date(2026, 9, 23), "National Day")
    course = SessionWindow(local(2026, 9, 23, 18), local(2026, 9, 23, 20), "Evening course")
    closed = policy_calendar(closures=[national_day])
    assert closed.between(local(2026, 9, 23), local(2026, 9, 24)) == timedelta(0)
    both = policy_calendar(closures=[national_day], sessions=[course])
    assert both.between(local(2026, 9, 23), local(2026, 9, 24)) == 2 * H
    assert both.add(local(2026, 9, 23, 9), 2 * H) == local(2026, 9, 23, 20)


def test_window_crossing_midnight_is_allowed() -> None:
    night_shift = Config(weekly_windows=(WeeklyWindow((0, 1, 2, 3, 4, 5, 6), 22 * 60, 2 * 60),))
    cal = BusinessCalendar.from_config(night_shift)
    assert cal.add(local(2026, 11, 28, 23), 2 * H) == local(2026, 11, 29, 1)
    assert cal.add(local(2026, 11, 28, 23), 4 * H) == local(2026, 11, 29, 23)
    assert cal.between(local(2026, 11, 28), local(2026, 11, 29)) == 4 * H


def test_several_windows_a_day_and_days_off() -> None:
    split = Config(
        weekly_windows=(
            WeeklyWindow((6, 0, 1, 2, 3), 8 * 60, 12 * 60),
            WeeklyWindow((6, 0, 1, 2, 3), 13 * 60, 17 * 60),
        )
    )
    cal = BusinessCalendar.from_config(split)
    # Thursday 2026-11-26 16:00 + 2h: Friday and Saturday are off → Sunday 09:00.
    assert cal.add(local(2026, 11, 26, 16), 2 * H) == local(2026, 11, 29, 9)


def test_far_targets_grow_the_calendar() -> None:
    cal = policy_calendar()
    due = cal.add(local(2026, 11, 28, 10), 6 * 1000 * H)  # a thousand policy days
    assert due == local(2026, 11, 28, 16) + timedelta(days=999)
    assert cal.between(local(2026, 11, 28, 10), due) == 6 * 1000 * H


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        policy_calendar().add(datetime(2026, 1, 1), H)


# --------------------------------------------------------------------------- random calendars

BASE = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
ZONES = [RIYADH, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")]


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    zone = draw(st.sampled_from(ZONES))
    windows = []
    # Configuration always has at least one weekly window, so working time never runs out.
    for _ in range(draw(st.integers(1, 3))):
        days = tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=1))))
        start = draw(st.integers(0, 23 * 60 + 45)) // 15 * 15
        end = draw(st.integers(0, 24 * 60)) // 15 * 15
        if start == end:
            end = (start + 60) % (24 * 60)
        windows.append(WeeklyWindow(days, start, end))
    sessions = []
    for _ in range(draw(st.integers(0, 4))):
        start = BASE + timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
        sessions.append(
            SessionWindow(start, start + timedelta(minutes=draw(st.integers(1, 8 * 60))), "s")
        )
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        first = BASE.date() + timedelta(days=draw(st.integers(0, 14)))
        closures.append(Closure(first, first + timedelta(days=draw(st.integers(0, 2)))))
    return BusinessCalendar(zone, windows, sessions, closures)


instants = st.integers(0, 10 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))
durations = st.integers(0, 20 * 60).map(lambda m: timedelta(minutes=m))


def oracle_open(cal: BusinessCalendar, minute: datetime) -> bool:
    """Independent definition, minute by minute."""
    for s in cal.sessions:
        if s.start <= minute < s.end:
            return True
    loc = minute.astimezone(cal.zone)
    day = loc.date()
    if any(c.start <= day <= c.end for c in cal.closures):
        return False
    m = loc.hour * 60 + loc.minute
    wd = day.weekday()
    for w in cal.weekly:
        if w.start_minute < w.end_minute:
            if wd in w.days and w.start_minute <= m < w.end_minute:
                return True
        else:
            if wd in w.days and m >= w.start_minute:
                return True
            if (wd - 1) % 7 in w.days and m < w.end_minute:
                return True
    return False


def oracle_add(cal: BusinessCalendar, t: datetime, work: timedelta) -> datetime | None:
    need = int(work / M)
    if need == 0:
        return t
    cur = t
    for _ in range(60 * 24 * 40):
        if oracle_open(cal, cur):
            need -= 1
            if need == 0:
                return cur + M
        cur += M
    return None


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(calendars(), instants, durations)
def test_add_agrees_with_the_minute_oracle(
    cal: BusinessCalendar, t: datetime, work: timedelta
) -> None:
    expected = oracle_add(cal, t, work)
    if expected is not None:
        assert cal.add(t, work) == expected


@FAST
@given(calendars(), instants, st.integers(0, 3 * 24 * 60))
def test_between_agrees_with_the_minute_oracle(
    cal: BusinessCalendar, t: datetime, minutes: int
) -> None:
    end = t + timedelta(minutes=minutes)
    counted = sum(oracle_open(cal, t + timedelta(minutes=i)) for i in range(minutes))
    assert cal.between(t, end) == counted * M


PROPS = settings(max_examples=200, deadline=None)


@PROPS
@given(calendars(), instants, durations, durations)
def test_add_is_additive(cal: BusinessCalendar, t: datetime, a: timedelta, b: timedelta) -> None:
    assert cal.add(cal.add(t, a), b) == cal.add(t, a + b)


@PROPS
@given(calendars(), instants, durations)
def test_between_inverts_add(cal: BusinessCalendar, t: datetime, d: timedelta) -> None:
    assert cal.between(t, cal.add(t, d)) == d


@PROPS
@given(calendars(), instants, durations.filter(lambda d: d > timedelta(0)))
def test_a_deadline_never_lies_in_closed_time(
    cal: BusinessCalendar, t: datetime, d: timedelta
) -> None:
    due = cal.add(t, d)
    # The last microsecond counted before the deadline is open time.
    assert cal.is_open(due - timedelta(microseconds=1))


@PROPS
@given(calendars(), instants, instants, durations, durations)
def test_monotonic_in_start_and_duration(
    cal: BusinessCalendar, t1: datetime, t2: datetime, d1: timedelta, d2: timedelta
) -> None:
    t1, t2 = min(t1, t2), max(t1, t2)
    d1, d2 = min(d1, d2), max(d1, d2)
    assert cal.add(t1, d1) <= cal.add(t2, d1)
    assert cal.add(t1, d1) <= cal.add(t1, d2)


@PROPS
@given(
    calendars(),
    instants,
    durations,
    st.integers(0, 10 * 24 * 60),
    st.integers(1, 6 * 60),
    st.integers(0, 10),
)
def test_sessions_only_extend_and_closures_only_shrink(
    cal: BusinessCalendar, t: datetime, d: timedelta, s_off: int, s_len: int, c_off: int
) -> None:
    session = SessionWindow(
        BASE + timedelta(minutes=s_off), BASE + timedelta(minutes=s_off + s_len), "extra"
    )
    with_session = BusinessCalendar(cal.zone, cal.weekly, [*cal.sessions, session], cal.closures)
    assert with_session.add(t, d) <= cal.add(t, d)
    assert with_session.between(t, t + timedelta(days=5)) >= cal.between(t, t + timedelta(days=5))
    day = BASE.date() + timedelta(days=c_off)
    with_closure = BusinessCalendar(
        cal.zone, cal.weekly, cal.sessions, [*cal.closures, Closure(day, day)]
    )
    assert with_closure.add(t, d) >= cal.add(t, d)
    # ... unless a session covers the closed day: that time still counts.
    covered = SessionWindow(
        datetime.combine(day, datetime.min.time(), cal.zone),
        datetime.combine(day + timedelta(days=1), datetime.min.time(), cal.zone),
        "all day",
    )
    both = BusinessCalendar(
        cal.zone, cal.weekly, [*cal.sessions, covered], [*cal.closures, Closure(day, day)]
    )
    assert both.between(covered.start, covered.end) == covered.end - covered.start


# --------------------------------------------------------------------------- the queue's clock


@st.composite
def clocked_tickets(draw: st.DrawFn) -> SimpleNamespace:
    """A ticket row's clock inputs: filed, maybe answered, paused and resumed, resolved."""
    created = draw(instants)
    after = st.integers(1, 3 * 24 * 60).map(lambda m: timedelta(minutes=m))
    responded = created + draw(after) if draw(st.booleans()) else None
    pauses: list[list[str | None]] = []
    cursor = created
    for _ in range(draw(st.integers(0, 3))):
        start = cursor + draw(after)
        end = start + draw(after) if draw(st.booleans()) else None
        pauses.append([start.isoformat(), end.isoformat() if end else None])
        if end is None:
            break
        cursor = end
    resolved = cursor + draw(after) if responded is not None and draw(st.booleans()) else None
    return SimpleNamespace(
        created_at=created,
        priority=draw(st.sampled_from(PRIORITIES)),
        channel=draw(st.sampled_from(CHANNELS)),
        first_response_at=responded,
        resolved_at=resolved,
        pauses=json.dumps(pauses),
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(cal=calendars(), ticket=clocked_tickets(), later=durations)
def test_the_queues_clock_is_the_headline_of_both_clocks(
    cal: BusinessCalendar, ticket: SimpleNamespace, later: timedelta
) -> None:
    """The queue evaluates only the clock it shows (`headline_of`): the same as evaluating both
    and taking the headline, for every state a ticket can be in."""
    policy = SlaPolicy.from_config(Config())
    now = ticket.created_at + later
    assert headline_of(cal, policy, ticket, now) == clocks_of(cal, policy, ticket, now).headline


# Zones with daylight saving (30-minute shifts, southern hemisphere), one that skipped a whole
# day (Apia, 30 Dec 2011), one whose changes fall at midnight (Santiago), and the institute's.
CHANGING_ZONES = (
    "Asia/Riyadh",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Apia",
    "Asia/Tehran",
)


@settings(max_examples=400, deadline=None)
@given(
    zone=st.sampled_from(CHANGING_ZONES),
    day=st.dates(min_value=date(1995, 1, 1), max_value=date(2040, 12, 31)),
    minute=st.integers(min_value=0, max_value=1440),
)
def test_local_instants_are_the_aware_datetime_s(zone: str, day: date, minute: int) -> None:
    """The calendar build's per-day shortcut gives every wall-clock instant the aware
    datetime gives it, on days with a clock change too."""
    tz = ZoneInfo(zone)
    exact = datetime.combine(day, time(0), tz) + timedelta(minutes=minute)
    expected = (exact - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert LocalInstants(tz)(day, minute) == expected


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("America/New_York", date(2026, 3, 8)),  # spring forward at 02:00
        ("America/New_York", date(2026, 11, 1)),  # fall back at 02:00
        ("America/Santiago", date(2026, 4, 5)),  # at midnight
        ("America/Santiago", date(2026, 9, 6)),
        ("Pacific/Apia", date(2011, 12, 29)),  # the day before the skipped one
        ("Pacific/Apia", date(2011, 12, 31)),
    ],
)
def test_local_instants_on_clock_change_days(zone: str, day: date) -> None:
    tz = ZoneInfo(zone)
    local_us = LocalInstants(tz)
    for minute in range(0, 1441, 15):
        exact = datetime.combine(day, time(0), tz) + timedelta(minutes=minute)
        expected = (exact - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        assert local_us(day, minute) == expected, (zone, day, minute)
