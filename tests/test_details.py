"""Details that read wrong: each small text a technician meets, checked where it is drawn."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static
from textual.widgets._footer import FooterKey
from textual.widgets.data_table import ColumnKey

from classroom_support.app import ClassroomSupportApp
from classroom_support.columns import ColumnSpec, fit_columns
from classroom_support.context import AppContext
from classroom_support.i18n import display, tr
from classroom_support.screens.queue import STATUS_FILTERS
from classroom_support.screens.sla_screens import EscalationsScreen
from classroom_support.screens.sync_log import SyncLogScreen, SyncSetupScreen
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.screens.trainee_qr import KioskScreen, TraineeScreen
from classroom_support.sessions import SessionDraft
from classroom_support.tickets import TicketDraft, age_text
from classroom_support.widgets import LocalizedFooter
from classroom_support.widgets.sla_cell import clock_text, countdown
from classroom_support.widgets.text import short_label

MakeApp = Callable[..., ClassroomSupportApp]


def footer_line(app: ClassroomSupportApp) -> str:
    return app.screen._compositor.render_strips()[-1].text


async def settle_footer(pilot: Any, app: ClassroomSupportApp) -> None:
    """The footer recomposes after the bindings or the width change: wait until its keys are
    laid out for the current width."""
    for _ in range(50):
        await pilot.pause()
        footer = app.screen.query_one(LocalizedFooter)
        keys = list(footer.query(FooterKey))
        if footer._drawn_width == app.size.width and keys and all(k.region for k in keys):
            return


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("width", [80, 100, 120])
async def test_footer_shows_whole_keys_and_a_translated_palette_key(
    make_app: MakeApp, language: str, width: int
) -> None:
    app = make_app(language=language, demo=True)
    async with app.run_test(size=(width, 24)) as pilot:
        await settle_footer(pilot, app)
        footer = app.screen.query_one(Footer)
        keys = list(footer.query(FooterKey))
        palette = next(k for k in keys if k.has_class("-command-palette"))
        assert palette.description != "palette"
        assert tr("key.palette") != "palette"
        others = [k for k in keys if k is not palette]
        if language == "ar":
            # Read from the right: the palette key is at the left edge, every other key whole
            # to its right.
            assert palette.region.x == footer.region.x == 0
            assert footer_line(app).lstrip().startswith(palette.render().plain.strip())
            for key in others:
                assert key.region.x >= palette.region.right, key.description
        else:
            # The palette key reaches the right edge: nothing scrolled under it shows through.
            assert palette.region.right == footer.region.right == width
            assert footer_line(app).rstrip().endswith(palette.render().plain.rstrip())
            # Every other key is whole, left of the palette key.
            for key in others:
                assert key.region.right <= palette.region.x, key.description
        shown = {e.key for row in others for e in row.entries}
        assert {"ctrl+q", "f1"} <= shown


async def test_footer_fits_its_keys_again_after_a_resize(make_app: MakeApp) -> None:
    app = make_app(demo=True)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle_footer(pilot, app)
        assert "k Articles" in footer_line(app)
        await pilot.resize_terminal(80, 24)
        await settle_footer(pilot, app)
        line = footer_line(app)
        assert "Articles" not in line and "Escalations" not in line
        assert line.rstrip().endswith(tr("key.palette"))
        await pilot.resize_terminal(120, 24)
        await settle_footer(pilot, app)
        assert "k Articles" in footer_line(app)


def title_text(app: ClassroomSupportApp) -> str:
    return str(app.screen.query_one("#sla-title", Static).render())


async def test_sync_log_names_the_keys_that_work(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, SyncLogScreen)
        title = title_text(app)
        assert "F5 sync now" in title and "r retry parked" in title and "u set up" in title
        summary = str(app.screen.query_one("#sync-summary", Static).render())
        assert "Press u or F5" in summary
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, SyncSetupScreen)


async def test_sync_log_title_follows_the_keymap(make_app: MakeApp) -> None:
    app = make_app(config='[ui]\nlanguage = "en"\n[keymap]\nsync-setup = "s"\n')
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        assert "s set up" in title_text(app)
        assert "Press s or F5" in str(app.screen.query_one("#sync-summary", Static).render())


def test_readme_names_the_sync_log_keys() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    keys = {b.id: b.key for b in SyncLogScreen.BINDINGS if isinstance(b, Binding)}
    assert f"`{keys['sync-retry-parked']}` retries them" in readme
    assert f"`{keys['sync-setup']}` changes the server" in readme


def header_session(app: ClassroomSupportApp) -> str:
    return str(app.screen.query_one("#header-session", Static).render())


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("width", [80, 100, 120])
async def test_header_course_keeps_its_beginning_or_is_left_out(
    make_app: MakeApp, language: str, width: int
) -> None:
    app = make_app(language=language)
    course = "Excel المتقدم — Advanced (level 2)"
    app.ctx.sessions.add(SessionDraft(course, "Omar", "2026-11-28", "09:00", "12:00"))
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        shown = header_session(app)
        # Never a lone bracket or a tail: the whole sentence, the course name, its beginning
        # with an ellipsis, or nothing.
        full = tr("header.session", course=course, end="12:00")
        allowed = {display(full), display(course), ""} | {
            display(course[:n] + "…") for n in range(7, len(course))
        }
        assert shown in allowed, shown
        # ... and what is chosen fits its place: nothing is cut (or wrapped away) on screen.
        assert len(shown) <= app.screen.query_one("#header-session", Static).size.width
        header = app.screen.query_one("#header")
        parts = [app.screen.query_one(f"#header-{p}", Static) for p in ("hall", "session", "time")]
        sync = app.screen.query_one("#header-sync", Static)
        assert sum(p.outer_size.width for p in [*parts, sync]) <= header.size.width
        if width >= 120:
            assert shown == display(course)


RIYADH = ZoneInfo("Asia/Riyadh")


@pytest.mark.parametrize(
    ("language", "units", "foreign"),
    [("en", ("h", "m"), "سد"), ("ar", ("س", "د"), "hm")],
)
def test_time_left_uses_the_interface_languages_units(
    make_ctx: Callable[..., AppContext], language: str, units: tuple[str, str], foreign: str
) -> None:
    ctx = make_ctx(language=language)
    ctx.clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=RIYADH))
    ticket = ctx.desk.create(TicketDraft(title="Projector dead", category="av"))
    ctx.clock.set(datetime(2026, 11, 28, 22, 0, tzinfo=RIYADH))  # closed: resumes tomorrow
    now = ctx.clock.now()
    clocks = ctx.sla.clocks(ticket, now)
    text, _ = clock_text(clocks.headline, ctx.sla.calendar(ticket.hall_code), now, ctx.config.zone)
    assert text == "⏸" + f"42{units[0]} 00{units[1]} " + tr(
        "countdown.resumes", when=f"{tr('weekday.6')} 10:00"
    )
    assert not set(foreign) & set(text)
    age = age_text(ticket.created_at, now)
    assert age.endswith(units[0]) or age.endswith(units[1])
    # The last hour counts seconds, in the same units.
    assert countdown(timedelta(minutes=5, seconds=7)) == tr("countdown.minutes", m=5, s="07")


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_time_left_cell_is_never_cut(
    make_app: MakeApp, language: str, size: tuple[int, int]
) -> None:
    app = make_app(language=language)
    ctx = app.ctx
    ctx.clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=RIYADH))
    ref = ctx.desk.create(TicketDraft(title="Projector dead", category="av")).ref
    # Ten days on, at night: breached, three rungs up, and waiting for the morning.
    ctx.clock.set(datetime(2026, 12, 8, 22, 0, tzinfo=RIYADH))
    async with app.run_test(size=size) as pilot:
        await app.check_sla()
        await pilot.press("r")
        await pilot.pause()
        table = app.screen.query_one("#queue", DataTable)
        cell = table.get_cell(ref, "due")
        assert {"▲", "3", "⏸"} <= set(str(cell)) and "10:00" in str(cell)
        assert cell.cell_length <= table.columns[ColumnKey("due")].width


def test_a_column_that_must_not_be_cut_is_as_wide_as_its_text() -> None:
    columns = (
        ColumnSpec("due", "field.due", 9, 24, narrows=False),
        ColumnSpec("title", "field.title", 20, 20, flex=True),
    )
    assert dict(fit_columns(columns, 120, {"due": 29}))["due"] == 29
    assert dict(fit_columns(columns, 120, {"due": 11}))["due"] == 11


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_escalation_line_names_the_top_rung_once(make_app: MakeApp, language: str) -> None:
    app = make_app(language=language)
    ctx = app.ctx
    ctx.clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=RIYADH))
    ref = ctx.desk.create(TicketDraft(title="Projector dead", category="av")).ref
    ctx.clock.set(datetime(2026, 12, 10, 12, 0, tzinfo=RIYADH))
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(4):  # one rung per missed target
            await app.check_sla()
        assert ctx.desk.get(ref).escalation_level == 3
        app.push_screen(TicketDetailScreen(ref))
        await pilot.pause()
        clocks = str(app.screen.query_one("#detail-clocks", Static).render())
        name = "General Manager" if language == "en" else display("المدير العام")
        assert clocks.count(name) == 1, clocks


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_help_says_what_enter_does(make_app: MakeApp, language: str) -> None:
    app = make_app(language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = str(app.screen.query_one("#help-text", Static).render())
        assert "Enter" in text and tr("help.enter") in text  # logical text, shaped when drawn


async def test_heading_describes_the_status_filter(make_app: MakeApp) -> None:
    app = make_app(demo=True)
    async with app.run_test(size=(120, 36)) as pilot:
        heading = app.screen.query_one("#queue-filters", Static)
        assert str(heading.render()).startswith("Open tickets · Status: open")
        seen = []
        for _ in range(len(STATUS_FILTERS) - 1):  # every status alone, then all
            await pilot.press("f")
            await pilot.pause()
            seen.append(str(heading.render()))
        verified = next(h for h in seen if "Status: Verified" in h)
        assert verified.startswith("Closed tickets · ")
        assert all(not h.startswith("Open tickets") for h in seen)
        assert seen[-1].startswith("Tickets · Status: all")


async def test_ticket_codes_are_counted_in_codes(make_app: MakeApp) -> None:
    app = make_app()
    ref = app.ctx.desk.create(TicketDraft(title="Projector dead", seat="12")).ref
    async with app.run_test(size=(120, 36)) as pilot:
        app.push_screen(TraineeScreen(ref))
        await pilot.pause()
        page = str(app.screen.query_one("#qr-page", Static).render())
        assert page == "Codes 1–2 of 3 · Tab: next"
        await pilot.press("tab")
        await pilot.pause()
        assert str(app.screen.query_one("#qr-page", Static).render()) == "Code 3 of 3 · Tab: next"


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_kiosk_names_tab_when_codes_take_turns(
    make_app: MakeApp, language: str, size: tuple[int, int]
) -> None:
    app = make_app(language=language)
    async with app.run_test(size=size) as pilot:
        app.push_screen(KioskScreen())
        await pilot.pause()
        hint = str(app.screen.query_one("#qr-hint", Static).render())
        assert display(tr("qr.kiosk.hint", back="Esc", kiosk="k")) in hint
        if size == (80, 24):  # one code at a time
            assert display(tr("qr.kiosk.next", key="Tab")) in hint
        else:  # both codes on screen: no Tab
            assert "Tab" not in hint


async def test_escalations_over_by_ticks_and_resolved_tickets_leave(make_app: MakeApp) -> None:
    app = make_app()
    ctx = app.ctx
    ctx.clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=RIYADH))
    waiting = ctx.desk.create(TicketDraft(title="Projector dead", category="av")).ref
    solved = ctx.desk.create(TicketDraft(title="Wi-Fi down", category="network")).ref
    ctx.clock.set(datetime(2026, 12, 7, 12, 0, tzinfo=RIYADH))  # Monday noon: open, breached
    async with app.run_test(size=(120, 36)) as pilot:
        await app.check_sla()
        ctx.desk.resolve(solved, "router restarted")
        app.push_screen(EscalationsScreen())
        await pilot.pause()
        table = app.screen.query_one("#escalations", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == [waiting]
        before = str(table.get_cell(waiting, "over"))
        ctx.clock.advance(timedelta(seconds=5))
        app.screen.tick_over()  # what the 1 Hz timer runs, on the injected clock
        after = str(table.get_cell(waiting, "over"))
        assert after != before and after.endswith(":05")


async def test_detail_countdown_ticks_on_the_injected_clock(make_app: MakeApp) -> None:
    app = make_app()
    ctx = app.ctx
    ref = ctx.desk.create(TicketDraft(title="Projector dead", category="av")).ref
    async with app.run_test(size=(120, 36)) as pilot:
        app.push_screen(TicketDetailScreen(ref))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketDetailScreen)

        def clocks() -> str:
            return str(screen.query_one("#detail-clocks", Static).render())

        assert "48:00:00 left" in clocks()
        ctx.clock.advance(timedelta(seconds=7))
        screen.tick()  # what the 1 Hz timer runs
        await pilot.pause()
        assert "47:59:53 left" in clocks()


def test_short_labels_end_on_a_whole_word() -> None:
    assert short_label("Paused (waiting for trainee)", 40) == "Paused (waiting for trainee)"
    assert short_label("Paused (waiting for trainee)", 26) == "Paused"
    assert short_label("إيقاف مؤقت (بانتظار المتدرب)", 16) == "إيقاف مؤقت"
    assert short_label("Root-cause analysis recorded", 16) == "Root-cause…"
    assert short_label("L2 - technical support", 12) == "L2…"


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_history_rows_are_not_cut_mid_word(
    make_app: MakeApp, language: str, size: tuple[int, int]
) -> None:
    app = make_app(language=language)
    ref = app.ctx.desk.create(TicketDraft(title="Projector dead", category="av")).ref
    app.ctx.desk.pause(ref, "waiting for the trainee's laptop")
    async with app.run_test(size=size) as pilot:
        app.push_screen(TicketDetailScreen(ref))
        await pilot.pause()
        table = app.screen.query_one("#timeline", DataTable)
        # Cells by key: in Arabic the columns are laid out from the right.
        for key in ("what", "actor"):
            width = table.columns[ColumnKey(key)].width
            for row_key in table.rows:
                cell = table.get_cell(row_key, key)
                assert cell.cell_length <= width, (key, str(cell))
        shown = [str(table.get_cell(row_key, "what")) for row_key in table.rows]
        paused = tr("event.paused")
        assert display(paused) in shown or display(paused.split(" (")[0]) in shown


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_queue_heading_keeps_its_beginning_at_80_columns(
    make_app: MakeApp, language: str
) -> None:
    app = make_app(language=language, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        heading = app.screen.query_one("#queue-filters", Static)
        text = str(heading.render())
        assert len(text) <= heading.size.width
        assert display(tr("queue.title")).strip() in text
