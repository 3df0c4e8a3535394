"""The managers' figures, against numbers worked out by hand (tests/report_fixture.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from report_fixture import NOW, RIYADH, WEEKS, fill_report_fixture, report_config

from classroom_support.context import AppContext
from classroom_support.performance_report import (
    GroupFigures,
    build_report,
    csv_rows,
    last_weeks,
)


@pytest.fixture
def report_ctx(make_ctx: Callable[..., AppContext]) -> AppContext:
    ctx = make_ctx(config=report_config())
    fill_report_fixture(ctx)
    return ctx


def figures(group: GroupFigures | None) -> list[tuple[int, int, float | None, float | None]]:
    """Per week: (within target, breaches, share within target, median hours)."""
    assert group is not None
    return [
        (w.within_target, w.breaches, w.share_within_target, w.median_hours) for w in group.weeks
    ]


def test_weeks_run_sunday_to_saturday_in_riyadh() -> None:
    weeks = last_weeks(NOW, RIYADH, 4)
    assert [w.start.isoformat() for w in weeks] == WEEKS
    assert weeks[-1].end.isoformat() == "2026-11-28"
    assert [w.partial for w in weeks] == [False, False, False, True]
    # 23:30 UTC on Saturday is already Sunday 02:30 in Riyadh: a new week.
    late = NOW.replace(hour=23, minute=30).astimezone(RIYADH) + timedelta(hours=3)
    assert last_weeks(late, RIYADH, 1)[0].start.isoformat() == "2026-11-29"


def test_all_tickets_per_week(report_ctx: AppContext) -> None:
    report = build_report(report_ctx, weeks=4)
    assert [w.start.isoformat() for w in report.weeks] == WEEKS
    assert figures(report.overall) == [
        (1, 0, 1.0, 5.0),  # T9
        (0, 0, None, None),  # nothing settled or answered
        (2, 1, 2 / 3, 2.25),  # T1, T2 within; T3 (paused, unanswered) breached
        (2, 2, 0.5, 2.0),  # T7, T10 within; T4 (answered late), T5 breached; T4 answered: 3 h
    ]
    total = report.overall.total
    assert (total.within_target, total.breaches, total.share_within_target) == (5, 3, 5 / 8)
    # Responses 5, 2.5, 2, 3, 0.5, 2 h: the median of all six, not a median of medians.
    assert total.median_hours == 2.25
    assert report.overall.awaiting == 1  # T6: not answered, not due yet


def test_per_hall(report_ctx: AppContext) -> None:
    report = build_report(report_ctx, weeks=4)
    assert report.halls == ["A101", "A102", "B201"]
    assert figures(report.group("hall", "A101")) == [
        (1, 0, 1.0, 5.0),
        (0, 0, None, None),
        (2, 0, 1.0, 2.25),
        (1, 1, 0.5, 2.0),
    ]
    assert figures(report.group("hall", "A102")) == [
        (0, 0, None, None),
        (0, 0, None, None),
        (0, 1, 0.0, None),
        (0, 1, 0.0, 3.0),
    ]
    assert figures(report.group("hall", "B201"))[-1] == (1, 0, 1.0, 0.5)
    assert report.group("hall", "A101").awaiting == 1  # type: ignore[union-attr]


def test_per_priority(report_ctx: AppContext) -> None:
    report = build_report(report_ctx, weeks=4)
    order = [g.value for g in report.groups if g.dimension == "priority"]
    assert order == ["critical", "high", "normal"]  # critical first; no low tickets
    assert figures(report.group("priority", "critical"))[-1] == (0, 1, 0.0, 3.0)
    # T10 counts the course session: 15:00-16:00 and 17:00-18:00 are two working hours.
    assert figures(report.group("priority", "high"))[2:] == [(0, 1, 0.0, None), (1, 0, 1.0, 2.0)]
    normal = report.group("priority", "normal")
    assert normal is not None
    assert (normal.total.within_target, normal.total.breaches) == (4, 1)


def test_one_hall(report_ctx: AppContext) -> None:
    report = build_report(report_ctx, weeks=4, hall="A102")
    assert report.halls == ["A102"]
    assert figures(report.overall) == figures(report.group("hall", "A102"))
    assert report.overall.awaiting == 0


def test_a_shorter_period_leaves_out_what_settled_before(report_ctx: AppContext) -> None:
    report = build_report(report_ctx, weeks=1)
    assert [w.start.isoformat() for w in report.weeks] == ["2026-11-22"]
    assert figures(report.overall) == [(2, 2, 0.5, 2.0)]
    assert figures(report.group("hall", "A102")) == [(0, 1, 0.0, 3.0)]  # T4 only; T3 was before


def test_no_tickets(make_ctx: Callable[..., AppContext]) -> None:
    report = build_report(make_ctx(), weeks=12)
    assert len(report.weeks) == 12
    assert not report.has_data
    assert [g.dimension for g in report.groups] == ["all"]
    assert figures(report.overall) == [(0, 0, None, None)] * 12


def test_weeks_out_of_range(make_ctx: Callable[..., AppContext]) -> None:
    ctx = make_ctx()
    for bad in (0, -1, 105):
        with pytest.raises(ValueError):
            build_report(ctx, weeks=bad)


def test_json_and_csv_shapes(report_ctx: AppContext) -> None:
    report = build_report(report_ctx, weeks=4)
    data = report.as_dict()
    assert data["timezone"] == "Asia/Riyadh"
    assert data["generated_at"] == "2026-11-28T10:30:00+03:00"
    overall = data["groups"][0]
    assert overall["dimension"] == "all"
    assert overall["weeks"][2] == {
        "start": "2026-11-15",
        "within_target": 2,
        "breaches": 1,
        "settled": 3,
        "share_within_target": 0.6667,
        "first_responses": 2,
        "median_first_response_hours": 2.25,
    }
    assert overall["total"]["share_within_target"] == 0.625
    assert overall["awaiting_first_response"] == 1
    rows = csv_rows(report)
    assert rows[0][:3] == ["dimension", "value", "week_start"]
    assert len(rows) == 1 + 4 * len(report.groups)
    assert rows[2] == ["all", "", "2026-11-08", "2026-11-14", "no", "0", "0", "0", "", "0", ""]


def test_a_night_response_just_inside_the_period_counts(
    make_ctx: Callable[..., AppContext],
) -> None:
    """Sunday 01:00 in Riyadh is Saturday 22:00 UTC: the period starts at Sunday 00:00 local,
    so the database filter must compare in UTC (stored naive) and keep this response."""
    from report_fixture import at

    from classroom_support.clock import FixedClock
    from classroom_support.tickets import TicketDraft

    ctx = make_ctx(config=report_config())
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    clock.set(at("2026-11-21 15:00"))
    ref = ctx.desk.create(TicketDraft(title="late-night answer")).ref
    clock.set(at("2026-11-22 01:00"))
    ctx.desk.respond(ref, "seen it")
    clock.set(NOW)
    report = build_report(ctx, weeks=1)
    # 15:00-16:00 on Saturday is the only working time before the answer: within 6 h.
    assert figures(report.overall) == [(1, 0, 1.0, 1.0)]
