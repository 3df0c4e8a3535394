"""The one-digit dialog (route, priority, category): a digit picks and closes — also the
digit of the option already marked, which used to do nothing and left the dialog open."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from classroom_support.screens.prompts import ChoicePrompt


class Host(App[None]):
    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value
        self.answers: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        prompt = ChoicePrompt("Priority", ("low", "normal", "high"), "priority", self.value)
        self.push_screen(prompt, self.answers.append)


async def test_the_marked_options_digit_picks_it() -> None:
    app = Host("normal")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ChoicePrompt)
        await pilot.press("2")  # "normal", already marked
        await pilot.pause()
        assert app.answers == ["normal"]
        assert not isinstance(app.screen, ChoicePrompt)


async def test_another_digit_picks_once() -> None:
    app = Host("normal")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3", "1")  # the second digit reaches no dialog
        await pilot.pause()
        assert app.answers == ["high"]
