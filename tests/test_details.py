"""Details that read wrong: each small text a technician meets, checked where it is drawn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from classroom_support.app import ClassroomSupportApp
from classroom_support.i18n import tr
from classroom_support.screens.sync_log import SyncLogScreen, SyncSetupScreen
from classroom_support.widgets import LocalizedFooter

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
        # The palette key reaches the right edge: nothing scrolled under it shows through.
        assert palette.region.right == footer.region.right == width
        assert footer_line(app).rstrip().endswith(palette.render().plain.rstrip())
        # Every other key is whole, left of the palette key; Quit and Help are among them.
        others = [k for k in keys if k is not palette]
        for key in others:
            assert key.region.right <= palette.region.x, key.description
        shown = {k.key for k in others}
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
