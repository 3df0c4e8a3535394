"""The footer draws its keys in its first compose and recomposes only when they change: Textual's
own footer composes empty and recomposes once the screen reports its bindings, which put a new
screen's keys (and the layout they take) a frame or two behind the rest of it."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button
from textual.widgets._footer import FooterKey

from classroom_support import i18n
from classroom_support.widgets.footer import LocalizedFooter


class KeysScreen(Screen[None]):
    BINDINGS = [
        Binding("n", "new", "New"),
        Binding("x", "export", "Export"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.export_allowed = True

    def compose(self) -> ComposeResult:
        yield Button("one", id="one")
        yield Button("two", id="two")
        yield LocalizedFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "export":
            return True if self.export_allowed else None  # None: shown, disabled
        return True

    def action_new(self) -> None:
        pass

    def action_export(self) -> None:
        pass


class KeysApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(KeysScreen())


def shown(footer: LocalizedFooter) -> dict[str, bool]:
    """Each key the footer shows, with whether it is enabled."""
    return {key.key: not key.has_class("-disabled") for key in footer.query(FooterKey)}


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
