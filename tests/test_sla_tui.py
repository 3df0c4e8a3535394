"""SLA in the TUI, with a stepped clock: countdowns, alerts, escalations, RCA, ledger, holidays."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conftest import set_role
from textual.widgets import DataTable, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.sla_screens import BreachLedgerScreen, EscalationsScreen
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.sessions import SessionDraft
from classroom_support.tickets import TicketDraft

SIZE = (120, 36)
RIYADH = ZoneInfo("Asia/Riyadh")
MakeApp = Callable[..., ClassroomSupportApp]


def set_local(
    app: ClassroomSupportApp, y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0
) -> None:
    app.ctx.clock.set(datetime(y, mo, d, h, mi, s, tzinfo=RIYADH))  # type: ignore[attr-defined]


def due_cell(app: ClassroomSupportApp, ref: str) -> str:
    table = app.screen.query_one("#queue", DataTable)
    return str(table.get_cell(ref, "due"))


def text_of(app: ClassroomSupportApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_ticket_at_three_on_a_course_evening_end_to_end(make_app: MakeApp) -> None:
    app = make_app()
    ctx = app.ctx
    set_role(ctx, "level2")  # records the RCA and verifies
    ctx.sessions.add(SessionDraft("Python 101", "Omar", "2026-11-28", "17:00", "21:00"))
    set_local(app, 2026, 11, 28, 15)
    ref = ctx.desk.create(TicketDraft(title="Projector dead", category="av")).ref
    async with app.run_test(size=SIZE) as pilot:
        # A live countdown of working time: 48h less nothing yet.
        assert due_cell(app, ref) == "48h 00m"
        set_local(app, 2026, 11, 28, 15, 0, 1)
        await pilot.pause(1.1)  # the 1 Hz tick
        assert due_cell(app, ref) == "47h 59m"
        # At 16:30 the clock stands still until the evening course starts.
        set_local(app, 2026, 11, 28, 16, 30)
        await pilot.pause(1.1)
        assert due_cell(app, ref) == "⏸47h 00m →17:00"
        # Friday 11:00: 36h of 48h elapsed → warning, with a toast and the bell, once.
        set_local(app, 2026, 12, 4, 11)
        result = await app.check_sla()
        assert [a.kind for a in result.alerts] == ["sla_warning"]
        assert (await app.check_sla()).alerts == []
        # Sunday 11:00: breached → L2.
        set_local(app, 2026, 12, 6, 11)
        result = await app.check_sla()
        assert [(a.kind, a.level) for a in result.alerts] == [("sla_breached", 0), ("escalated", 1)]
        await pilot.pause()
        assert due_cell(app, ref) == "▲1 0m 00s"  # one rung up; nothing left
        # Monday 13:00: L2's 8 hours are up → managers.
        set_local(app, 2026, 12, 7, 13)
        assert [a.level for a in (await app.check_sla()).alerts] == [2]

        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EscalationsScreen)
        table = app.screen.query_one("#escalations", DataTable)
        row = [str(c) for c in table.get_row(ref)]
        assert row[1].startswith("2. Training-body and admini")
        assert "Manager of the training body" in row[2]
        assert row[3] == "08:00:00"  # over by: Sun 11–16 + Mon 10–13
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketDetailScreen)
        clocks = text_of(app, "#detail-clocks")
        assert "due Sun 2026-12-06 11:00" in clocks and "breached" in clocks
        assert "28/11 15:00–16:00 (hours)" in clocks
        assert "28/11 17:00–21:00 (course Python 101)" in clocks
        assert "Root-cause analysis required" in clocks

        # Respond, resolve, then verify is refused until the RCA is recorded.
        await pilot.press("r", *"on my way", "enter")
        await pilot.pause()
        await pilot.press("x", "enter")
        await pilot.pause()
        await pilot.press("v")  # refused at once: no note is asked for
        await pilot.pause()
        assert ctx.desk.get(ref).status == "resolved"
        assert isinstance(app.screen, TicketDetailScreen)
        await pilot.press(
            "R",
            "1",
            "tab",
            *"nobody on duty",
            "tab",
            *"weekend rota",
            "tab",
            *"Training manager",
            "enter",
        )
        await pilot.pause()
        assert ctx.desk.get(ref).rca_cause == "staffing"
        assert "Root cause recorded: Staffing" in text_of(app, "#detail-clocks")
        await pilot.press("v", "enter")
        await pilot.pause()
        assert ctx.desk.get(ref).status == "verified"


async def test_breach_ledger_filters_and_exports_csv(make_app: MakeApp) -> None:
    app = make_app()
    ctx = app.ctx
    set_role(ctx, "level2")
    set_local(app, 2026, 11, 1, 10)
    a = ctx.desk.create(TicketDraft(title='=HYPERLINK("x") old one')).ref
    b = ctx.desk.create(TicketDraft(title="another")).ref
    set_local(app, 2026, 11, 28, 10)
    ctx.sla.run()
    ctx.desk.record_rca(b, "equipment", "no spare bulb", "keep two spares", "Admin manager")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BreachLedgerScreen)
        table = app.screen.query_one("#breaches", DataTable)
        assert table.row_count == 2
        await pilot.press("f")  # RCA missing
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [a]
        await pilot.press("f")  # RCA recorded
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [b]
        await pilot.press("x")
        await pilot.pause()
        status = text_of(app, "#breaches-status")
        assert "Exported 2 breach(es)" in status
    [path] = list(ctx.paths.database.parent.glob("breaches-*.csv"))
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert [r["ref"] for r in rows] == [a, b]
    assert rows[0]["title"].startswith("'=HYPERLINK")  # not a live formula in a spreadsheet
    assert rows[1]["rca_cause"] == "equipment" and rows[0]["rca_recorded"] == "False"


async def test_class_starts_soon_banner(make_app: MakeApp) -> None:
    app = make_app()
    ctx = app.ctx
    set_local(app, 2026, 11, 28, 12, 40)
    ctx.sessions.add(SessionDraft("Networks", "Lina", "2026-11-28", "13:00", "15:00"))
    ctx.desk.create(TicketDraft(title="Projector dead", category="av"))
    ctx.desk.create(TicketDraft(title="login question", category="login"))
    async with app.run_test(size=SIZE):
        banner = text_of(app, "#class-alert")
        assert "Class 'Networks' starts in 20 min" in banner and "1 ticket(s)" in banner


async def test_no_banner_without_blocking_tickets(make_app: MakeApp) -> None:
    app = make_app()
    set_local(app, 2026, 11, 28, 12, 40)
    app.ctx.sessions.add(SessionDraft("Networks", "Lina", "2026-11-28", "13:00", "15:00"))
    app.ctx.desk.create(TicketDraft(title="login question", category="login"))
    async with app.run_test(size=SIZE):
        assert not app.screen.query_one("#class-alert").display


async def test_calendar_edit_flags_an_earlier_deadline(make_app: MakeApp) -> None:
    app = make_app()
    set_local(app, 2026, 11, 28, 15)
    ref = app.ctx.desk.create(TicketDraft(title="x")).ref
    async with app.run_test(size=SIZE) as pilot:
        await app.check_sla()
        await pilot.press(
            "c",
            "a",
            *"Evening course",
            "tab",
            "tab",
            *["backspace"] * 10,
            *"2026-11-29",
            "tab",
            *"17:00",
            "tab",
            *"22:00",
            "enter",
        )
        await app.workers.wait_for_complete()  # the recompute runs in a worker thread
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert due_cell(app, ref).startswith("⚠")
        assert ref in app.ctx.sla.moved_earlier


async def test_holidays_screen_adds_a_closure(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c", "h")
        await pilot.pause()
        table = app.screen.query_one("#closures", DataTable)
        names = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert "Founding Day" in names and "Eid al-Fitr" in names
        before = table.row_count
        await pilot.press("a", *"Institute day", "tab", *"2026-12-01", "tab", "enter")
        await pilot.pause()
        assert table.row_count == before + 1
        day = datetime(2026, 12, 1, 12, tzinfo=RIYADH)
        assert not app.ctx.sla.calendar().is_open(day)
        assert app.ctx.sla.calendar().is_open(day + timedelta(days=1))


async def test_monitor_job_runs_at_start_up_every_30_seconds_and_catches_up(
    make_ctx: Callable[..., object],
) -> None:
    ctx: Any = make_ctx()
    set_local_ctx(ctx, 2026, 11, 1, 10)
    ref = ctx.desk.create(TicketDraft(title="old")).ref
    set_local_ctx(ctx, 2026, 11, 28, 10)
    app = ClassroomSupportApp(ctx, cursor_blink=False, monitor=True)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):  # the start-up run happens right away, in a worker thread
            await pilot.pause(0.05)
            if ctx.desk.get(ref).escalation_level:
                break
        job = app.scheduler.get_job("sla-monitor")
        assert job.trigger.interval.total_seconds() == 30
        assert job.coalesce is True
        assert job.misfire_grace_time is None
        assert job.max_instances == 1
        assert ctx.desk.get(ref).escalation_level == 3
        assert "sla_breached" in [e.kind for e in ctx.desk.history(ctx.desk.get(ref).id)]


def set_local_ctx(ctx: Any, y: int, mo: int, d: int, h: int) -> None:
    ctx.clock.set(datetime(y, mo, d, h, tzinfo=RIYADH))


async def test_the_last_hour_counts_down_in_seconds(make_app: MakeApp) -> None:
    app = make_app()
    set_local(app, 2026, 11, 28, 10)
    ref = app.ctx.desk.create(TicketDraft(title="x")).ref
    set_local(app, 2026, 12, 5, 15, 0, 0)  # 47 working hours later: one hour left
    async with app.run_test(size=SIZE) as pilot:
        assert due_cell(app, ref) == "1h 00m"
        set_local(app, 2026, 12, 5, 15, 0, 1)
        await pilot.pause(1.1)
        assert due_cell(app, ref) == "59m 59s"
