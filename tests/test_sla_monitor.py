"""SLA clocks, warnings, escalation and RCA through the real store, with a stepped clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import set_role

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.sessions import ClosureDraft, SessionDraft
from classroom_support.sla_policy import sla_event_id
from classroom_support.tickets import InvalidTransition, TicketDraft, fold

RIYADH = ZoneInfo("Asia/Riyadh")
H = timedelta(hours=1)


def at(clock: FixedClock, y: int, mo: int, d: int, h: int, mi: int = 0) -> None:
    clock.set(datetime(y, mo, d, h, mi, tzinfo=RIYADH))


def kinds(ctx: AppContext, ref: str) -> list[str]:
    return [e.kind for e in ctx.desk.history(ctx.desk.get(ref).id)]


def test_ticket_at_three_with_an_evening_course_climbs_the_ladder(
    ctx: AppContext, clock: FixedClock
) -> None:
    set_role(ctx, "level2")  # records the RCA and verifies
    # Saturday 28 Nov: an evening course 17:00–21:00 adds working time.
    ctx.sessions.add(SessionDraft("Python 101", "Omar", "2026-11-28", "17:00", "21:00"))
    at(clock, 2026, 11, 28, 15)
    t = ctx.desk.create(TicketDraft(title="Projector dead", category="av"))
    clocks = ctx.sla.clocks(ctx.desk.get(t.ref))
    fr = clocks.first_response
    # 15–16 (1h) + 17–21 (4h) = 5h on day one, then 6h a day from Sunday: 43h more = 7 days
    # and 1h → Sunday 6 Dec 11:00.
    assert fr.due == datetime(2026, 12, 6, 11, tzinfo=RIYADH)
    assert fr.state == "on_track"

    at(clock, 2026, 11, 28, 16, 30)  # between the hours and the course: the clock stands still
    assert ctx.sla.clocks(ctx.desk.get(t.ref)).first_response.elapsed == 1 * H
    assert not ctx.sla.calendar().is_open(clock.now())
    assert ctx.sla.calendar().next_opening(clock.now()) == datetime(2026, 11, 28, 17, tzinfo=RIYADH)

    # 75 % of 48h = 36h elapsed → warning: 5h + 5 days (30h) = 35h by Thu 3 Dec 16:00,
    # so Fri 4 Dec 11:00 is 36h.
    at(clock, 2026, 12, 4, 10, 59)
    assert ctx.sla.run().alerts == []
    at(clock, 2026, 12, 4, 11, 0)
    [alert] = ctx.sla.run().alerts
    assert (alert.ref, alert.kind, alert.clock) == (t.ref, "sla_warning", "first_response")
    assert ctx.sla.run().alerts == []  # once

    at(clock, 2026, 12, 6, 11, 0)  # the deadline itself
    alerts = ctx.sla.run().alerts
    assert [(a.kind, a.level) for a in alerts] == [("sla_breached", 0), ("escalated", 1)]
    row = ctx.desk.get(t.ref)
    assert (row.escalation_level, row.tier, row.breached) == (1, "L2", "first_response")

    at(clock, 2026, 12, 7, 13, 0)  # L2 had 8 working hours: Sun 11–16 (5h) + Mon 10–13 (3h)
    [alert] = ctx.sla.run().alerts
    assert (alert.kind, alert.level) == ("escalated", 2)
    at(clock, 2026, 12, 9, 12, 0)  # managers' 8h are over too → general manager (top)
    [alert] = ctx.sla.run().alerts
    assert alert.level == 3
    at(clock, 2026, 12, 20, 12, 0)
    assert [a.kind for a in ctx.sla.run().alerts] == ["sla_breached"]  # resolution, no rung 4
    assert ctx.desk.get(t.ref).escalation_level == 3

    # Each step recorded once, with deterministic ids.
    events = ctx.desk.history(t.id)
    escalations = [e for e in events if e.kind == "escalated"]
    assert [e.id for e in escalations] == [
        sla_event_id(t.id, f"L{n}", "escalated") for n in (1, 2, 3)
    ]
    assert fold(events).escalation_level == 3

    # The breach demands a root-cause analysis before Level 2 can verify.
    ctx.desk.respond(t.ref, "on it")
    ctx.desk.resolve(t.ref, "bulb replaced")
    with pytest.raises(InvalidTransition, match="root-cause analysis"):
        ctx.desk.verify(t.ref)
    ctx.desk.record_rca(
        t.ref, "staffing", "no technician on Friday", "add a weekend rota", "Training-body manager"
    )
    assert ctx.desk.verify(t.ref).status == "verified"
    row = ctx.desk.get(t.ref)
    assert fold(ctx.desk.history(t.id)).model_dump() == row.model_dump()


def test_first_response_in_time_is_met_and_stops_the_ladder(
    ctx: AppContext, clock: FixedClock
) -> None:
    at(clock, 2026, 11, 28, 10)
    t = ctx.desk.create(TicketDraft(title="x"))
    at(clock, 2026, 11, 28, 12)
    ctx.desk.respond(t.ref, "hello")
    at(clock, 2026, 12, 30, 12)
    row = ctx.desk.get(t.ref)
    clocks = ctx.sla.clocks(row)
    assert clocks.first_response.state == "met"
    assert clocks.resolution.state == "breached"
    alerts = ctx.sla.run().alerts
    assert [a.kind for a in alerts] == ["sla_breached"]  # resolution only, no escalation
    assert ctx.desk.get(t.ref).escalation_level == 0


def test_waiting_for_the_trainee_pauses_resolution_but_not_first_response(
    ctx: AppContext, clock: FixedClock
) -> None:
    at(clock, 2026, 11, 28, 10)
    t = ctx.desk.create(TicketDraft(title="x"))
    ctx.desk.pause(t.ref, "trainee away")  # before any response
    at(clock, 2026, 11, 29, 10)
    clocks = ctx.sla.clocks(ctx.desk.get(t.ref))
    assert clocks.resolution.state == "paused" and clocks.resolution.elapsed == timedelta(0)
    assert clocks.first_response.elapsed == 6 * H and clocks.first_response.state == "on_track"
    ctx.desk.resume(t.ref)
    at(clock, 2026, 11, 29, 12)
    clocks = ctx.sla.clocks(ctx.desk.get(t.ref))
    assert clocks.resolution.elapsed == 2 * H
    assert clocks.resolution.due == datetime(2026, 11, 29, 10, tzinfo=RIYADH) + timedelta(
        days=15, hours=6
    )  # 96h = 16 days of 6h from Sun 10:00 → 14 Dec 16:00


def test_priority_target_override(make_ctx: object, clock: FixedClock) -> None:
    ctx = make_ctx(
        config='[sla]\ntargets = [{ priority = "critical", first_response_hours = 2 }]\n'
    )  # type: ignore[operator]
    at(clock, 2026, 11, 28, 15)
    critical = ctx.desk.create(TicketDraft(title="x", priority="critical"))
    normal = ctx.desk.create(TicketDraft(title="y"))
    assert ctx.sla.clocks(ctx.desk.get(critical.ref)).first_response.due == datetime(
        2026, 11, 29, 11, tzinfo=RIYADH
    )
    assert ctx.sla.clocks(ctx.desk.get(normal.ref)).first_response.target == 48 * H


def test_calendar_edits_recompute_and_flag_earlier_deadlines(
    ctx: AppContext, clock: FixedClock
) -> None:
    at(clock, 2026, 11, 28, 15)
    t = ctx.desk.create(TicketDraft(title="x"))
    ctx.sla.run()
    due_before = ctx.sla.clocks(ctx.desk.get(t.ref)).first_response.due
    seen: list[list[str]] = []
    ctx.sla.listeners.append(lambda r: seen.append(r.moved_earlier))
    ctx.sessions.add(SessionDraft("Evening", "", "2026-11-29", "17:00", "22:00"))
    due_after = ctx.sla.clocks(ctx.desk.get(t.ref)).first_response.due
    assert due_after is not None and due_before is not None and due_after < due_before
    assert seen[-1] == [t.ref]
    assert t.ref in ctx.sla.moved_earlier
    # A closure pushes it back out again (not flagged: later is not a surprise).
    ctx.closures.add(ClosureDraft("Institute day off", "2026-11-30", "2026-11-30"))
    assert seen[-1] == []


def test_default_holidays_are_seeded_once_and_count_as_closed(
    ctx: AppContext, clock: FixedClock
) -> None:
    from datetime import date

    rows = ctx.closures.upcoming(date(2026, 1, 1))
    names = {r.name for r in rows}
    assert {"Founding Day", "National Day", "Eid al-Fitr", "Eid al-Adha"} <= names
    assert all(r.estimated for r in rows if r.name.startswith("Eid"))
    assert not any(r.estimated for r in rows if r.name in ("Founding Day", "National Day"))
    ctx.sla.seed_closures()
    assert len(ctx.closures.upcoming(date(2026, 1, 1))) == len(rows)
    cal = ctx.sla.calendar()
    assert cal.between(
        datetime(2026, 9, 23, tzinfo=RIYADH), datetime(2026, 9, 24, tzinfo=RIYADH)
    ) == timedelta(0)


def test_rca_is_refused_for_a_ticket_that_met_its_sla(ctx: AppContext) -> None:
    set_role(ctx, "level2")
    t = ctx.desk.create(TicketDraft(title="x"))
    with pytest.raises(InvalidTransition, match="Only a ticket whose SLA was breached"):
        ctx.desk.record_rca(t.ref, "staffing", "a", "b", "c")


def test_monitor_sleeps_until_a_ticket_can_change(ctx: AppContext, clock: FixedClock) -> None:
    at(clock, 2026, 11, 28, 10)
    a = ctx.desk.create(TicketDraft(title="a"))
    ctx.desk.create(TicketDraft(title="b"))
    assert ctx.sla.run().checked == 2
    assert ctx.sla.run().checked == 0  # nothing can have changed
    ctx.desk.add_note(a.ref, "touched")
    assert ctx.sla.run().checked == 1  # only the changed one
    at(clock, 2026, 12, 3, 15, 59)  # just before the warning threshold (36 working hours)
    assert ctx.sla.run().checked == 0
    at(clock, 2026, 12, 3, 16, 0)  # 36h after 10:00 on the 28th = Thu 3 Dec 16:00
    result = ctx.sla.run()
    assert result.checked == 2 and [x.kind for x in result.alerts] == ["sla_warning"] * 2


def test_an_edit_wakes_the_tickets_it_can_bring_forward(ctx: AppContext, clock: FixedClock) -> None:
    """The monitor sleeps a ticket until its next change (here the warning on Thu 3 Dec at
    16:00). An evening course before then adds working hours, so the warning comes earlier: the
    edit marks such wake-up times stale, and the next run looks at the ticket again."""
    at(clock, 2026, 11, 28, 10)
    ctx.desk.create(TicketDraft(title="a"))
    assert ctx.sla.run().checked == 1
    assert ctx.sla.run().checked == 0  # asleep until Thu 3 Dec 16:00
    at(clock, 2026, 11, 29, 12)
    ctx.sessions.add(SessionDraft("Evening", "", "2026-11-30", "16:00", "22:00"))
    at(clock, 2026, 12, 3, 12)  # 36 working hours with the course's 6: Thu 3 Dec 10:00
    result = ctx.sla.run()
    assert [x.kind for x in result.alerts] == ["sla_warning"]
    ctx.sla.run()  # recording the warning changed the row: looked at once more
    assert ctx.sla.run().checked == 0  # asleep again


def test_calendar_edit_recomputes_only_deadlines_it_can_move(
    ctx: AppContext, clock: FixedClock
) -> None:
    at(clock, 2026, 11, 1, 10)
    old = ctx.desk.create(TicketDraft(title="due long ago"))
    at(clock, 2026, 11, 28, 10)
    new = ctx.desk.create(TicketDraft(title="due next week"))
    ctx.sla.run()
    result = ctx.sla.calendar_changed(since=datetime(2026, 11, 30, 17, tzinfo=RIYADH))
    assert result.checked == 1  # the old ticket's deadline (early November) cannot move
    assert old.ref not in result.moved_earlier
    result = ctx.sla.calendar_changed()  # no hint: everything
    assert result.checked == 2
    assert new.ref
