"""The footer draws its keys in its first compose and recomposes only when they change: Textual's
own footer composes empty and recomposes once the screen reports its bindings, which put a new
screen's keys (and the layout they take) a frame or two behind the rest of it. Its keys are one
widget (`FooterKeyRow`): a click and the pointer find the key under them."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button
from textual.widgets._footer import FooterKey

from classroom_support import i18n
from classroom_support.widgets.footer import FooterKeyRow, LocalizedFooter


class KeysScreen(Screen[None]):
    BINDINGS = [
        Binding("n", "new", "New"),
        Binding("x", "export", "Export", tooltip="Save the list as CSV"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.export_allowed = True
        self.done: list[str] = []

    def compose(self) -> ComposeResult:
        yield Button("one", id="one")
        yield Button("two", id="two")
        yield LocalizedFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "export":
            return True if self.export_allowed else None  # None: shown, disabled
        return True

    def action_new(self) -> None:
        self.done.append("new")

    def action_export(self) -> None:
        self.done.append("export")


class KeysApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(KeysScreen())


def shown(footer: LocalizedFooter) -> dict[str, bool]:
    """Each key the footer shows, with whether it is enabled."""
    keys = {e.key: e.enabled for row in footer.query(FooterKeyRow) for e in row.entries}
    for key in footer.query(FooterKey):
        if key.has_class("-command-palette"):
            keys[key.key] = not key.has_class("-disabled")
    return keys


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_keys_are_drawn_at_once_and_redrawn_only_when_they_change(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    i18n.set_language(language)
    recomposed: list[int] = []
    recompose = LocalizedFooter.recompose

    async def counted(self: LocalizedFooter) -> None:
        recomposed.append(1)
        await recompose(self)

    monkeypatch.setattr(LocalizedFooter, "recompose", counted)
    app = KeysApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(LocalizedFooter)
        assert {"n": True, "x": True}.items() <= shown(footer).items()
        # Focus moving from one button to the other changes no key the footer shows.
        app.screen.query_one("#two", Button).focus()
        await pilot.pause()
        app.screen.query_one("#one", Button).focus()
        await pilot.pause()
        assert recomposed == []

        screen = app.screen
        assert isinstance(screen, KeysScreen)
        screen.export_allowed = False
        screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert len(recomposed) == 1
        assert shown(app.screen.query_one(LocalizedFooter))["x"] is False


async def test_a_narrow_footer_fits_its_keys_from_the_first_compose() -> None:
    """Before its first layout the footer has no size: it fits its keys to the screen."""
    i18n.set_language("en")
    app = KeysApp()
    async with app.run_test(size=(20, 10)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(LocalizedFooter)
        keys = shown(footer)
        assert "n" in keys
        assert "x" not in keys  # "n New x Export" and the palette key do not fit 20 columns


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_a_click_presses_the_key_under_it_and_the_pointer_shows_its_tooltip(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    i18n.set_language(language)
    bells: list[int] = []
    app = KeysApp()
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, KeysScreen)
        row = screen.query_one(FooterKeyRow)
        line = row.render().plain
        keys = {e.key: i for i, e in enumerate(row.entries)}
        # Where "x Export" is drawn: from the left in English, read from the right in Arabic.
        label = "x Export" if language == "en" else "Export x"
        at = line.index(label)
        assert row.entry_at(at) == row.entry_at(at + len(label) - 1) == keys["x"]
        assert row.entry_at(at + len(label)) is None  # the gap after it
        await pilot.hover(row, offset=(at + 1, 0))
        await pilot.pause()
        assert row.hovered == keys["x"] and row.tooltip == "Save the list as CSV"
        await pilot.click(row, offset=(at + 2, 0))
        await pilot.pause()
        assert screen.done == ["export"] and bells == []
        screen.export_allowed = False  # shown, disabled: the click rings the bell
        screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        row = screen.query_one(FooterKeyRow)
        assert shown(screen.query_one(LocalizedFooter))["x"] is False
        await pilot.click(row, offset=(row.render().plain.index(label) + 2, 0))
        await pilot.pause()
        assert screen.done == ["export"] and bells == [1]
        new = row.render().plain.index("n New" if language == "en" else "New n")
        await pilot.click(row, offset=(new, 0))
        await pilot.pause()
        assert screen.done == ["export", "new"]
