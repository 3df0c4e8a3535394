"""A calendar edit recomputes only what it can move, in steps between frames, with the same
result as recomputing every open ticket from scratch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import pin_device
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.widgets import DataTable

from classroom_support import due_recompute
from classroom_support.app import ClassroomSupportApp
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.due_recompute import DueRecompute
from classroom_support.monitor import RecomputeBusy, SlaService
from classroom_support.screens.queue import QueueScreen
from classroom_support.sessions import ClosureDraft, SessionDraft
from classroom_support.tickets import PRIORITIES, TicketDraft

RIYADH = ZoneInfo("Asia/Riyadh")
START = datetime(2026, 11, 20, 9, 0, tzinfo=RIYADH)
NAMES = count()

ticket_plans = st.lists(
    st.tuples(
        st.integers(0, 4 * 24 * 60),  # minutes after START when it is filed
        st.sampled_from(PRIORITIES),
        st.sampled_from(("none", "responded", "paused", "resumed", "resolved")),
        st.integers(1, 600),  # minutes until that step
    ),
    min_size=1,
    max_size=15,
)
edits = st.one_of(
    st.tuples(
        st.just("session"),
        st.integers(-3, 4),  # day, relative to "now"
        st.integers(0, 23 * 60),  # start minute
        st.integers(30, 8 * 60),  # length in minutes
    ),
    st.tuples(st.just("closure"), st.integers(-3, 4), st.just(0), st.integers(0, 2)),
)


def file_tickets(ctx: AppContext, clock: FixedClock, plans: list[Any]) -> None:
    for offset, priority, step, later in sorted(plans):
        clock.set(START + timedelta(minutes=offset))
        ref = ctx.desk.create(TicketDraft(title="x", priority=priority)).ref
        if step == "none":
            continue
        clock.advance(timedelta(minutes=later))
        if step == "resolved":
            ctx.desk.resolve(ref)
            continue
        ctx.desk.respond(ref, "on it")
        if step in ("paused", "resumed"):
            ctx.desk.pause(ref)
        if step == "resumed":
            clock.advance(timedelta(minutes=later))
            ctx.desk.resume(ref)


@contextmanager
def tables_held_by_a_monitor_run(sla: SlaService) -> Iterator[threading.Event]:
    """Another thread holds the service's deadline tables (as a monitor run does) until the
    yielded event is set, or the block ends."""
    holding, release = threading.Event(), threading.Event()

    def monitor_run() -> None:
        with sla._lock:
            holding.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=monitor_run)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        yield release
    finally:
        release.set()
        holder.join(timeout=30)


def headline_dues(sla: SlaService) -> dict[str, datetime]:
    return dict(sla._last_due)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=ticket_plans, edit=edits, later=st.integers(0, 3 * 24 * 60))
def test_an_edit_recomputes_the_same_deadlines_as_a_full_recompute(
    make_ctx: Callable[..., AppContext],
    clock: FixedClock,
    plans: list[Any],
    edit: tuple[str, int, int, int],
    later: int,
) -> None:
    ctx = make_ctx(name=f"ctx{next(NAMES)}")
    pin_device(ctx)
    file_tickets(ctx, clock, plans)
    now = clock.now() + timedelta(minutes=later)
    clock.set(now)
    ctx.sla.run(record=False, notify=False)
    before = headline_dues(ctx.sla)

    kind, day_offset, start, length = edit
    day = now.astimezone(RIYADH).date() + timedelta(days=day_offset)
    if kind == "session":
        begins = datetime.combine(day, datetime.min.time(), RIYADH) + timedelta(minutes=start)
        ends = begins + timedelta(minutes=length)
        ctx.sessions.add(
            SessionDraft("Evening", "", f"{day}", f"{begins:%H:%M}", f"{ends:%H:%M}")
        )  # the context wires the recompute straight to the edit (no UI here)
    else:
        ctx.closures.add(ClosureDraft("Closed", f"{day}", f"{day + timedelta(days=length)}"))
    edited = headline_dues(ctx.sla)
    moved = ctx.sla.moved_earlier

    # The straightforward recompute: a fresh service evaluates every open ticket.
    fresh = SlaService(ctx.db, ctx.clock, ctx.config, ctx.desk)
    fresh.run(record=False, notify=False)
    expected = headline_dues(fresh)
    assert {ref: edited[ref] for ref in expected} == expected
    assert moved == {ref for ref, due in expected.items() if ref in before and due < before[ref]}


async def test_the_screen_takes_keys_while_the_recompute_runs(
    make_app: Callable[..., ClassroomSupportApp], monkeypatch: Any
) -> None:
    """The edit's recompute runs in steps on the event loop (not in a thread beside it, where
    the two wait for the GIL): held between steps, the screen still takes keys, and the result
    comes when the steps are done."""
    app = make_app()
    ctx = app.ctx
    ctx.clock.set(datetime(2026, 11, 28, 15, tzinfo=RIYADH))  # type: ignore[attr-defined]
    ref = ctx.desk.create(TicketDraft(title="Projector dead")).ref
    ctx.sla.run(record=False, notify=False)
    released = threading.Event()
    seen: dict[str, Any] = {"held": 0, "threads": set()}
    step = DueRecompute.step

    def gated(job: DueRecompute, *args: Any, **kwargs: Any) -> bool:
        seen["threads"].add(threading.current_thread() is threading.main_thread())
        if not released.is_set():
            seen["held"] += 1
            time.sleep(0.001)  # a step that gets nowhere, without spinning the loop hot
            return False
        return step(job, *args, **kwargs)

    async with app.run_test(size=(80, 24)) as pilot:
        monkeypatch.setattr(DueRecompute, "step", gated)
        await pilot.press("c", "a", *"Evening course", "tab", "tab", *["backspace"] * 10)
        await pilot.press(*"2026-11-28", "tab", *"17:00", "tab", *"22:00", "enter")
        await pilot.pause()
        assert seen["held"] > 0  # the job began and is being held
        # The sessions screen lists the new course and takes keys.
        assert "Evening course" in str(app.screen.query_one("#sessions", DataTable).get_row_at(0))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert ref not in ctx.sla.moved_earlier  # not yet: the result comes when it is ready
        released.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert seen["threads"] == {True}  # every step on the event loop's thread
        assert ref in ctx.sla.moved_earlier
        cell = str(app.screen.query_one("#queue", DataTable).get_cell(ref, "due"))
        assert cell.startswith("⚠")  # the queue shows the earlier deadline


async def test_the_recompute_waits_for_a_monitor_run_without_blocking_the_screen(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    """A monitor run (a worker thread) holding the deadline tables does not stop the loop:
    the edit's recompute tries again later and its result still comes."""
    app = make_app()
    ctx = app.ctx
    ctx.clock.set(datetime(2026, 11, 28, 15, tzinfo=RIYADH))  # type: ignore[attr-defined]
    ref = ctx.desk.create(TicketDraft(title="Projector dead")).ref
    ctx.sla.run(record=False, notify=False)
    with tables_held_by_a_monitor_run(ctx.sla) as release:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("c", "a", *"Evening course", "tab", "tab", *["backspace"] * 10)
            await pilot.press(*"2026-11-28", "tab", *"17:00", "tab", *"22:00", "enter")
            await pilot.pause()
            await pilot.press("escape")  # keys are handled while the tables are held
            await pilot.pause()
            assert isinstance(app.screen, QueueScreen)
            assert ref not in ctx.sla.moved_earlier
            release.set()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert ref in ctx.sla.moved_earlier


async def test_edits_saved_together_are_recomputed_in_one_job_from_the_earliest(
    make_app: Callable[..., ClassroomSupportApp], monkeypatch: Any
) -> None:
    app = make_app()
    ctx = app.ctx
    ctx.clock.set(datetime(2026, 11, 28, 15, tzinfo=RIYADH))  # type: ignore[attr-defined]
    ctx.desk.create(TicketDraft(title="Projector dead"))
    ctx.sla.run(record=False, notify=False)
    begun: list[datetime | None] = []
    begin = ctx.sla.begin_recompute

    def counted(since: datetime | None, **kwargs: Any) -> Any:
        begun.append(since)
        return begin(since, **kwargs)

    monkeypatch.setattr(ctx.sla, "begin_recompute", counted)
    later = datetime(2026, 11, 29, 17, tzinfo=RIYADH)
    earlier = datetime(2026, 11, 28, 17, tzinfo=RIYADH)
    async with app.run_test(size=(80, 24)) as pilot:
        app.calendar_edited(later)
        app.calendar_edited(earlier)  # before the first step: gathered
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert begun == [earlier]
        app.calendar_edited(later)  # after it: a job of its own
        await app.workers.wait_for_complete()
        assert begun == [earlier, later]


def test_a_step_does_one_piece_of_work_at_least_and_the_job_applies_once_finished(
    make_ctx: Callable[..., AppContext], clock: FixedClock, monkeypatch: Any
) -> None:
    monkeypatch.setattr(due_recompute, "CHUNK", 2)
    monkeypatch.setattr(due_recompute, "SCAN", 3)
    ctx = make_ctx()
    pin_device(ctx)
    clock.set(datetime(2026, 11, 28, 15, tzinfo=RIYADH))
    refs = [ctx.desk.create(TicketDraft(title=f"PC {n}")).ref for n in range(5)]
    ctx.sla.run(record=False, notify=False)
    with ctx.db.write() as s:  # verified elsewhere since the monitor saw it: closed
        s.connection().exec_driver_sql("UPDATE ticket SET is_open = 0 WHERE ref = ?", (refs[4],))
    before = dict(ctx.sla._last_due)
    day = clock.now().astimezone(RIYADH).date()
    ctx.sessions.on_change.clear()  # this test drives the recompute itself
    ctx.sessions.add(SessionDraft("Evening", "", f"{day}", "17:00", "22:00"))
    job = ctx.sla.begin_recompute(clock.now())
    assert job is not None
    progress = []
    while not job.step(0.0):  # no time to spare: one slice or one chunk a step
        progress.append((job.scanned, job.done))
    progress.append((job.scanned, job.done))
    assert progress == [(3, 0), (5, 0), (5, 2), (5, 4), (5, 5)]
    assert sorted(job.refs) == sorted(refs)
    assert ctx.sla._last_due == before  # nothing applied until the job is finished
    result = ctx.sla.finish_recompute(job)
    assert result.checked == 4
    assert refs[4] not in ctx.sla._last_due
    assert result.moved_earlier == sorted(refs[:4])
    assert all(ctx.sla._last_due[ref] < before[ref] for ref in refs[:4])


def test_a_recompute_does_not_wait_for_the_tables_when_asked_not_to(
    make_ctx: Callable[..., AppContext], clock: FixedClock
) -> None:
    ctx = make_ctx()
    clock.set(datetime(2026, 11, 28, 15, tzinfo=RIYADH))
    ctx.desk.create(TicketDraft(title="Projector dead"))
    ctx.sla.run(record=False, notify=False)
    with tables_held_by_a_monitor_run(ctx.sla), pytest.raises(RecomputeBusy):
        ctx.sla.begin_recompute(clock.now(), blocking=False)
    job = ctx.sla.begin_recompute(clock.now(), blocking=False)
    assert job is not None
    job.run()
    assert ctx.sla.finish_recompute(job, blocking=False).checked == 1


async def test_the_covered_queue_is_read_once_it_is_back_on_top(
    make_app: Callable[..., ClassroomSupportApp], monkeypatch: Any
) -> None:
    """Under the sessions screen the queue is out of sight: a saved session's result (and the
    change the save itself committed) does not read and redraw it then, which would hold up
    the screen in front; back on top it is read once and shows the deadline moved earlier."""
    app = make_app()
    ctx = app.ctx
    ctx.clock.set(datetime(2026, 11, 28, 15, tzinfo=RIYADH))  # type: ignore[attr-defined]
    ref = ctx.desk.create(TicketDraft(title="Projector dead")).ref
    ctx.sla.run(record=False, notify=False)
    reads: list[str] = []
    queue = ctx.desk.queue

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(type(app.screen).__name__)
        return queue(*args, **kwargs)

    async with app.run_test(size=(80, 24)) as pilot:
        monkeypatch.setattr(ctx.desk, "queue", counted)
        await pilot.press("c", "a", *"Evening course", "tab", "tab", *["backspace"] * 10)
        await pilot.press(*"2026-11-28", "tab", *"17:00", "tab", *"22:00", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause(1.2)  # a countdown tick, which also looks for database changes
        assert ref in ctx.sla.moved_earlier  # the result came
        assert reads == []
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert reads == ["QueueScreen"]
        cell = str(app.screen.query_one("#queue", DataTable).get_cell(ref, "due"))
        assert cell.startswith("⚠")
