"""Small modal questions: a line of text, one of a few choices, or a yes/no."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from classroom_support.i18n import display, tr
from classroom_support.screens.base import AppModal
from classroom_support.widgets import FormInput, KeyChoice, data_text, paragraph_text
from classroom_support.widgets.text import composed_text


class DialogBody(VerticalScroll, can_focus=False):
    """A dialog's box. When it does not fit (80x24) it scrolls, and moving focus to a field
    scrolls that field into view; it is never a Tab stop itself."""


# The text width of a dialog row's label (styles/screens.tcss: `.prompt .form-row .field-label`
# is 18 wide with 2 of padding).
LABEL_WIDTH = 16


def field_row(label: str, field: Widget) -> ComposeResult:
    """A label (translated text, logical order) and its field on one line, as in the
    new-ticket form: a dialog with five fields fits 80x24. A long label is wrapped before it
    is shaped, so an Arabic one reads top to bottom."""
    from classroom_support.screens.history import wrap_logical

    with Horizontal(classes="form-row"):
        yield Label(display(wrap_logical(label, LABEL_WIDTH)), classes="field-label", markup=False)
        yield field


class TextPrompt(AppModal[str | None]):
    BINDINGS = [Binding("escape", "cancel", "key.cancel", id="prompt-cancel")]

    def __init__(
        self, title: str, *, initial: str = "", required: bool = False, error: str = ""
    ) -> None:
        super().__init__()
        self.prompt_title = title
        self.initial = initial
        self.required = required
        self.error = error  # why it is asked again (e.g. the last answer could not be saved)

    def compose(self) -> ComposeResult:
        with DialogBody(classes="prompt"):
            yield Static(data_text(self.prompt_title), classes="prompt-title")
            yield FormInput(value=self.initial, id="prompt-input", enter_submits=True)
            yield Static(paragraph_text(self.error, single_line=True), id="prompt-error")
            yield Static(paragraph_text(tr("prompt.enter_hint")), classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted, "#prompt-input")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.required and not event.value.strip():
            self.query_one("#prompt-error", Static).update(
                data_text(tr("error.required", field=self.prompt_title))
            )
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoicePrompt(AppModal[str | None]):
    """One digit picks and closes."""

    BINDINGS = [Binding("escape", "cancel", "key.cancel", id="choice-cancel")]

    def __init__(self, title: str, options: tuple[str, ...], label_prefix: str, value: str) -> None:
        super().__init__()
        self.prompt_title = title
        self.options = options
        self.label_prefix = label_prefix
        self.value = value
        self._ready = False
        self._done = False

    def compose(self) -> ComposeResult:
        with DialogBody(classes="prompt"):
            yield Static(data_text(self.prompt_title), classes="prompt-title")
            yield KeyChoice(self.options, self.label_prefix, self.value, id="choice")
            yield Static(paragraph_text(tr("form.choice_hint")), classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#choice", KeyChoice).focus()
        self.call_after_refresh(self._arm)

    def _arm(self) -> None:
        self._ready = True

    @on(KeyChoice.Changed, "#choice")
    @on(KeyChoice.Picked, "#choice")
    def chosen(self, event: KeyChoice.Changed | KeyChoice.Picked) -> None:
        # A digit picks, also the one already marked; an arrow moves and picks.
        if self._ready and not self._done:
            self._done = True
            self.dismiss(event.value)

    def key_enter(self) -> None:
        self.dismiss(self.query_one("#choice", KeyChoice).value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmPrompt(AppModal[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "prompt.yes", id="confirm-yes"),
        Binding("enter", "answer(True)", show=False),
        Binding("escape,n", "answer(False)", "key.cancel", id="confirm-no"),
    ]

    def __init__(self, question: str, yes: str = "") -> None:
        super().__init__()
        self.question = question
        self.yes = yes  # what Y/Enter does, translated; "Delete" when not given

    def compose(self) -> ComposeResult:
        with DialogBody(classes="prompt"):
            yield Static(data_text(self.question), classes="prompt-title")
            # The answers in reading order: in Arabic "Y / Enter" is the one at the right.
            yield Static(
                composed_text(
                    [
                        f"Y / Enter = {self.yes or tr('prompt.yes')}",
                        f"N / Esc = {tr('prompt.cancel')}",
                    ]
                ),
                classes="prompt-hint",
            )

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
