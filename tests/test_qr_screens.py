"""Every QR code the product shows is read back by a real decoder from what the screen shows.

The screen is read from the running app's compositor (see tests/qr_screen.py: the composited
cells with their colours, as written to the terminal), turned into a picture and decoded with
zxing-cpp; the decoded text must equal the intended link exactly. At 80×24 (the smallest size
the product claims), 120×36 and kiosk sizes, in a dark and a light theme, in both languages.
A last test does the same in a real terminal: the app runs in tmux and the pane is captured.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from qr_screen import (
    Cell,
    cells_from_ansi,
    decode_cells,
    decode_screen,
    screen_cells,
    screen_text,
)
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from classroom_support import i18n
from classroom_support.app import ClassroomSupportApp
from classroom_support.context import AppContext
from classroom_support.models import CourseSession, Ticket
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.screens.trainee_qr import (
    Card,
    CodesScreen,
    KioskScreen,
    Plan,
    TraineeScreen,
    plan_layout,
)
from classroom_support.sessions import SessionDraft
from classroom_support.tickets import TicketDraft
from classroom_support.widgets import QRCode
from classroom_support.widgets.qr_code import code_cells

MakeApp = Callable[..., ClassroomSupportApp]
BASE = "https://support.khit.sa"
WA = "https://wa.me/966566812777?text="
THEMES = ["textual-dark", "textual-light"]
LANGUAGES = ["en", "ar"]
SMALL, MEDIUM, KIOSK = (80, 24), (120, 36), (160, 50)
BLACK, WHITE = (0, 0, 0), (255, 255, 255)


def config_text(language: str, theme: str) -> str:
    return f'[ui]\nlanguage = "{language}"\ntheme = "{theme}"\n'


def add_session(ctx: AppContext) -> CourseSession:
    # FIXED_NOW is 10:30 in Riyadh: this session is running.
    return ctx.sessions.add(
        SessionDraft("Excel المتقدم", "أ. سارة", "2026-11-28", "09:00", "13:00")
    )


def add_ticket(ctx: AppContext, session: CourseSession) -> Ticket:
    return ctx.desk.create(
        TicketDraft(title="Projector [bold]flickers[/]", seat="12", session_id=session.id)
    )


def wa(message: str) -> str:
    return WA + quote(message, safe="")


def queue_links(session: CourseSession, language: str) -> dict[str, str]:
    hall = "Hall A101" if language == "en" else "قاعة A101"
    return {
        "form": f"{BASE}/form?hall=A101&session={session.id.replace('-', '')[:8]}",
        "whatsapp": wa(hall),
    }


def ticket_links(session: CourseSession, ticket: Ticket, language: str) -> dict[str, str]:
    message = {
        "en": f"Hall A101, seat 12, ticket {ticket.ref}",
        "ar": f"قاعة A101، مقعد 12، تذكرة {ticket.ref}",
    }[language]
    return {
        "status": f"{BASE}/status/{ticket.id}",
        "form": f"{BASE}/form?hall=A101&session={session.id.replace('-', '')[:8]}"
        f"&seat=12&ref={ticket.ref}",
        "whatsapp": wa(message),
    }


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.pause()


async def read_every_page(app: ClassroomSupportApp, pilot: Pilot[Any]) -> dict[str, Any]:
    """Decode the screen on every page of codes (Tab to the next). Returns what was decoded,
    which codes said they did not fit, and the screen text of each page."""
    screen = app.screen
    assert isinstance(screen, CodesScreen)
    decoded: list[str] = []
    fallbacks: dict[str, str] = {}
    texts: list[str] = []
    for _ in range(screen.pages):
        await settle(pilot)
        cells = screen_cells(app)
        decoded += decode_cells(cells)
        texts.append(screen_text(cells))
        for widget in screen.query(QRCode):
            if widget.display and widget.parent and widget.parent.display and not widget.fits:
                fallbacks[widget.data] = texts[-1]
        if screen.pages > 1:
            await pilot.press("tab")
    return {"decoded": sorted(decoded), "fallbacks": fallbacks, "texts": texts}


def smallest_code(url: str) -> tuple[int, int]:
    from classroom_support.qr import qr_matrix

    return code_cells(qr_matrix(url, 0))


# --------------------------------------------------------------------------- trainee screen


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
async def test_trainee_codes_decode_from_the_screen(
    make_app: MakeApp, size: tuple[int, int], theme: str, language: str
) -> None:
    app = make_app(language=language, config=config_text(language, theme))
    session = add_session(app.ctx)
    expected = queue_links(session, language)
    async with app.run_test(size=size) as pilot:
        assert app.theme == theme
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, TraineeScreen)
        seen = await read_every_page(app, pilot)
        assert seen["decoded"] == sorted(expected.values())
        assert seen["fallbacks"] == {}
        if size == MEDIUM:  # both codes at once, side by side
            assert app.screen.plan == Plan("row", 2)
            assert len(seen["texts"]) == 1
        else:  # one at a time, text beside the code
            assert app.screen.plan == Plan("compact", 1)
            assert len(seen["texts"]) == 2
        # the link is on screen as text too (as data, wrapped), and the phone number
        lines = [str(s.render()).replace("\n", "") for s in app.screen.query(".qr-line")]
        assert expected["form"] in lines
        assert "+966566812777" in "\n".join(seen["texts"])


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
async def test_ticket_codes_decode_from_the_screen(
    make_app: MakeApp, size: tuple[int, int], theme: str, language: str
) -> None:
    app = make_app(language=language, config=config_text(language, theme))
    session = add_session(app.ctx)
    ticket = add_ticket(app.ctx, session)
    expected = ticket_links(session, ticket, language)
    async with app.run_test(size=size) as pilot:
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TraineeScreen)
        assert app.screen.cards[0].kind == "status"  # the ticket's own page first
        seen = await read_every_page(app, pilot)
    too_big = size == SMALL and language == "ar"
    if too_big:
        # The Arabic WhatsApp message with seat and ref needs a version-7 code (53×27 cells):
        # 80×24 cannot hold it, so it says so and shows the link instead of a broken code.
        cols, rows = smallest_code(expected["whatsapp"])
        assert rows > SMALL[1] - 1
        assert seen["decoded"] == sorted([expected["status"], expected["form"]])
        [(url, text)] = seen["fallbacks"].items()
        assert url == expected["whatsapp"]
        message = i18n.tr("qr.too_small", cols=cols, rows=rows)  # "it needs 49 columns, ..."
        for line in textwrap.wrap(message, 48):  # wrapped to the code's area, then shaped
            assert i18n.display(line) in text
        assert expected["whatsapp"][:40] in text
    else:
        assert seen["decoded"] == sorted(expected.values())
        assert seen["fallbacks"] == {}
    assert any(ticket.ref in text for text in seen["texts"])


# --------------------------------------------------------------------------- kiosk


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", [SMALL, MEDIUM, KIOSK], ids=["80x24", "120x36", "160x50"])
async def test_kiosk_codes_decode_from_the_screen(
    make_app: MakeApp, size: tuple[int, int], theme: str, language: str
) -> None:
    app = make_app(language=language, config=config_text(language, theme))
    session = add_session(app.ctx)
    expected = queue_links(session, language)
    async with app.run_test(size=size) as pilot:
        await pilot.press("q", "k")
        await settle(pilot)
        assert isinstance(app.screen, KioskScreen)
        if size != SMALL:  # both codes at once on a projector
            assert decode_screen(app) == sorted(expected.values())
        seen = await read_every_page(app, pilot)
        assert seen["decoded"] == sorted(expected.values())
        text = "\n".join(seen["texts"])
        assert "10:00–16:00" in text and "info@khit.sa" in text  # hours and contacts


async def test_kiosk_with_a_ticket_shows_all_three_codes_at_kiosk_size(make_app: MakeApp) -> None:
    app = make_app(language="ar", config=config_text("ar", "textual-dark"))
    session = add_session(app.ctx)
    ticket = add_ticket(app.ctx, session)
    async with app.run_test(size=KIOSK) as pilot:
        await pilot.press("enter", "t", "k")
        await settle(pilot)
        assert isinstance(app.screen, KioskScreen)
        assert decode_screen(app) == sorted(ticket_links(session, ticket, "ar").values())


# --------------------------------------------------------------------------- the drawing


async def test_code_cells_are_black_and_white_whatever_the_theme(make_app: MakeApp) -> None:
    app = make_app(config=config_text("en", "textual-light"))
    add_session(app.ctx)
    async with app.run_test(size=MEDIUM) as pilot:
        await pilot.press("q")
        await settle(pilot)
        cells = screen_cells(app)
        for widget in app.screen.query(QRCode):
            assert widget.fits and widget.matrix is not None
            region = widget.content_region
            cols, rows = code_cells(widget.matrix, widget.scale)
            inside = [
                cells[y][x]
                for y in range(region.y, region.y + region.height)
                for x in range(region.x, region.x + region.width)
                if {cells[y][x].fg, cells[y][x].bg} <= {BLACK, WHITE}
            ]
            assert len(inside) == cols * rows  # the code and its quiet zone, nothing else
            assert {c.char for c in inside} <= {" ", "▀", "▄"}
            # the quiet zone: the code's first two rows are white all the way across
            top = [c for c in inside[: 2 * cols]]
            assert all(c.top == WHITE and c.bottom == WHITE for c in top)


async def test_hover_and_clicks_do_not_change_the_code(make_app: MakeApp) -> None:
    app = make_app(config=config_text("en", "textual-dark"))
    session = add_session(app.ctx)
    async with app.run_test(size=MEDIUM) as pilot:
        await pilot.press("q")
        await settle(pilot)
        before = screen_cells(app)
        await pilot.hover("#qr-form")
        await pilot.click("#qr-form", times=2)  # double click would select text
        await settle(pilot)
        after = screen_cells(app)
        assert decode_cells(after) == sorted(queue_links(session, "en").values())
        widget = app.screen.query_one("#qr-form", QRCode)
        region = widget.content_region
        for y in range(region.y, region.y + region.height):
            assert after[y][region.x : region.right] == before[y][region.x : region.right]
        assert not widget.can_focus and app.focused is not widget


async def test_the_decoder_in_these_tests_can_fail() -> None:
    """Negative controls: a damaged or inverted code must not decode."""

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield QRCode(f"{BASE}/form?hall=A101")

    app = One()
    async with app.run_test(size=(60, 30)) as pilot:
        await pilot.pause()
        app_cells = screen_cells(app)
    assert decode_cells(app_cells) == [f"{BASE}/form?hall=A101"]
    inverted = [
        [Cell(c.char, c.fg, c.bg, invert(c.top), invert(c.bottom)) for c in row]
        for row in app_cells
    ]
    assert decode_cells(inverted) == []
    # Paint over a quarter of the code (as a toast or a dialog would): no longer read.
    damaged = [row[:] for row in app_cells]
    for y in range(8, 16):
        for x in range(20, 34):
            damaged[y][x] = Cell("x", WHITE, (30, 30, 30), (30, 30, 30), (30, 30, 30))
    assert decode_cells(damaged) == []


def invert(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return (255 - rgb[0], 255 - rgb[1], 255 - rgb[2])


async def test_too_small_shows_the_link_as_text_not_a_broken_code() -> None:
    url = f"{BASE}/form?hall=[bold]A101[/]&x=1"
    i18n.set_language("en")

    class Tiny(App[None]):
        def compose(self) -> ComposeResult:
            yield QRCode(url)

    app = Tiny()
    async with app.run_test(size=(44, 12)) as pilot:
        await pilot.pause()
        widget = app.query_one(QRCode)
        assert not widget.fits
        cells = screen_cells(app)
        assert decode_cells(cells) == []
        text = screen_text(cells)
        flat = " ".join(text.split())
        assert "Too small to show this QR code: it needs 37 columns and 19 rows." in flat
        assert url in text.replace("\n", "")  # literally: "[bold]" is not markup
        assert not any({c.fg, c.bg} == {BLACK, WHITE} for row in cells for c in row)


async def test_trainee_screen_too_small_for_any_code(make_app: MakeApp) -> None:
    app = make_app(config=config_text("en", "textual-dark"))
    async with app.run_test(size=(60, 18)) as pilot:
        await pilot.press("q")
        await settle(pilot)
        seen = await read_every_page(app, pilot)
        assert seen["decoded"] == []
        assert set(seen["fallbacks"]) == {f"{BASE}/form?hall=A101", wa("Hall A101")}


# --------------------------------------------------------------------------- behaviour


async def test_kiosk_toggle_and_escape(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM) as pilot:
        await pilot.press("q")
        assert isinstance(app.screen, TraineeScreen)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, KioskScreen)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, TraineeScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


@pytest.mark.parametrize(("start", "screen"), [("kiosk", KioskScreen), ("trainee", TraineeScreen)])
async def test_app_can_start_on_the_qr_screens(
    make_ctx: Callable[..., AppContext], start: str, screen: type[CodesScreen]
) -> None:
    app = ClassroomSupportApp(make_ctx(), cursor_blink=False, start=start)
    async with app.run_test(size=MEDIUM) as pilot:
        await settle(pilot)
        assert type(app.screen) is screen
        assert decode_screen(app) == sorted([f"{BASE}/form?hall=A101", wa("Hall A101")])
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


def test_cli_qr_and_kiosk_start_the_tui_on_those_screens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from classroom_support import cli

    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(
        cli, "cmd_tui", lambda args, start="queue": calls.append((start, args)) or 0
    )
    db = str(tmp_path / "db.sqlite3")
    assert cli.main(["kiosk", "--db", db, "--lang", "en", "--demo"]) == 0
    assert cli.main(["--lang", "ar", "qr"]) == 0
    assert cli.main([]) == 0
    assert [start for start, _ in calls] == ["kiosk", "trainee", "queue"]
    kiosk_args = calls[0][1]
    assert (kiosk_args.db, kiosk_args.lang, kiosk_args.demo) == (Path(db), "en", True)
    assert calls[1][1].lang == "ar"


async def test_seat_key_puts_the_seat_in_both_codes(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM) as pilot:
        await pilot.press("q", "e")
        await settle(pilot)
        await pilot.press(*"PC 7&#", "enter")
        await settle(pilot)
        assert decode_screen(app) == sorted(
            [f"{BASE}/form?hall=A101&seat=PC%207%26%23", wa("Hall A101, seat PC 7&#")]
        )
        assert "Seat PC 7&#" in screen_text(screen_cells(app))


async def test_language_switch_rebuilds_the_whatsapp_message(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM, notifications=True) as pilot:
        await pilot.press("q")
        await settle(pilot)
        assert wa("Hall A101") in decode_screen(app)
        await pilot.press("f9")  # its "language switched" toast must not cover a code
        await settle(pilot)
        assert isinstance(app.screen, TraineeScreen)
        assert wa("قاعة A101") in decode_screen(app)


async def test_toasts_do_not_cover_the_codes(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM, notifications=True) as pilot:
        await pilot.press("q")
        for n in range(4):
            app.notify(f"SLA warning {n} " * 8, severity="error", timeout=60)
        await settle(pilot)
        expected = sorted([f"{BASE}/form?hall=A101", wa("Hall A101")])
        assert decode_screen(app) == expected
        await pilot.press("escape")  # the technician still gets them on the queue
        await settle(pilot)
        assert "SLA warning 3" in screen_text(screen_cells(app))


async def test_resizing_changes_the_layout_and_codes_stay_readable(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=MEDIUM) as pilot:
        await pilot.press("q")
        await settle(pilot)
        assert app.screen.plan == Plan("row", 2)
        await pilot.resize_terminal(*SMALL)
        await settle(pilot)
        assert app.screen.plan == Plan("compact", 1)
        seen = await read_every_page(app, pilot)
        assert seen["decoded"] == sorted([f"{BASE}/form?hall=A101", wa("Hall A101")])


async def test_keys_have_ids_and_catalog_descriptions(make_app: MakeApp) -> None:
    from classroom_support.locales import ar, en

    app = make_app()
    async with app.run_test(size=MEDIUM) as pilot:
        ids = {b.binding.id: b.binding for b in app.screen.active_bindings.values()}
        assert ids["trainee-qr"].key == "q"
        await pilot.press("q")
        await settle(pilot)
        for binding_id in ("qr-back", "toggle-kiosk", "qr-seat"):
            assert binding_id in {b.binding.id for b in app.screen.active_bindings.values()}
        for screen_type in (QueueScreen, TicketDetailScreen, TraineeScreen, KioskScreen):
            for binding in screen_type.BINDINGS:
                assert binding.id, binding  # type: ignore[union-attr]
                description = binding.description  # type: ignore[union-attr]
                assert description in en.MESSAGES and description in ar.MESSAGES


def test_plan_layout_prefers_side_by_side_then_stacked_then_one_at_a_time() -> None:
    cards = [
        Card("form", f"{BASE}/form?hall=A101&session=3f2a9c1e", "qr.form.caption"),
        Card("whatsapp", wa("Hall A101"), "qr.whatsapp.caption"),
    ]
    assert plan_layout(120, 36, cards, chrome=4, compact_chrome=1) == Plan("row", 2)
    assert plan_layout(60, 60, cards, chrome=4, compact_chrome=1) == Plan("column", 2)
    assert plan_layout(80, 24, cards, chrome=4, compact_chrome=1) == Plan("compact", 1)
    assert plan_layout(44, 40, cards, chrome=4, compact_chrome=1) == Plan("row", 1)
    assert plan_layout(30, 10, cards, chrome=4, compact_chrome=1) == Plan("compact", 1)


# --------------------------------------------------------------------------- a real terminal


TMUX = shutil.which("tmux")


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("theme", THEMES)
def test_codes_scan_in_a_real_terminal(tmp_path: Path, theme: str, language: str) -> None:
    """`classroom-support qr` in tmux at 120×36: capture the pane with its colours, decode;
    then K for the kiosk, capture and decode again."""
    assert TMUX is not None
    config = tmp_path / "config.toml"
    config.write_text(config_text(language, theme), encoding="utf-8")
    socket = tmp_path / "tmux.sock"
    command = [
        sys.executable,
        "-m",
        "classroom_support.cli",
        "--config",
        str(config),
        "--db",
        str(tmp_path / "db.sqlite3"),
        "qr",
    ]
    env = {**os.environ, "COLORTERM": "truecolor", "TERM": "xterm-256color"}
    tmux = [TMUX, "-S", str(socket)]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "120", "-y", "36", *command],
        check=True,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    expected = sorted(
        [f"{BASE}/form?hall=A101", wa("Hall A101" if language == "en" else "قاعة A101")]
    )

    def capture_until_decoded(deadline: float) -> list[str]:
        found: list[str] = []
        while time.monotonic() < deadline:
            pane = subprocess.run(
                [*tmux, "capture-pane", "-p", "-e", "-N", "-t", "0"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            found = decode_cells(cells_from_ansi(pane, 120))
            if found == expected:
                return found
            time.sleep(0.3)
        return found

    try:
        # Wait-until deadlines: the app's start-up takes seconds when the machine is busy.
        assert capture_until_decoded(time.monotonic() + 60) == expected
        subprocess.run([*tmux, "send-keys", "-t", "0", "k"], check=True)
        time.sleep(0.5)
        assert capture_until_decoded(time.monotonic() + 30) == expected
        pane = subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", "0"], capture_output=True, text=True, check=True
        ).stdout
        assert "info@khit.sa" in pane  # the kiosk's contacts line
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
