"""Assign: pick a person from the synced staff directory, typing to filter; free text stays
possible (the last line of the list), so an empty directory or someone not in it never blocks
an assignment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from classroom_support.i18n import app_shapes_arabic, language, tr, ui
from classroom_support.kb import fold_text
from classroom_support.people import Person, for_hall, matches, role_title
from classroom_support.screens.base import AppModal
from classroom_support.tickets import MAX_SHORT
from classroom_support.widgets import FormInput, data_text, paragraph_text

TYPED = "\x00typed"  # option ids: a person's id, or these two
NOBODY = "\x00nobody"


@dataclass(frozen=True)
class Assignment:
    """What was picked: a name (as the event records it) and the person's id, if from the
    directory ("" for free text; an empty name clears the assignee)."""

    name: str
    person_id: str = ""


class AssignPicker(AppModal[Assignment | None]):
    BINDINGS = [
        Binding("escape", "cancel", "key.cancel", id="assign-cancel"),
        # The filter keeps the focus; the arrows move the highlight in the list below it.
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("pageup", "move(-5)", show=False, priority=True),
        Binding("pagedown", "move(5)", show=False, priority=True),
    ]

    def __init__(
        self, ref: str, hall: str, current: str, people: list[Person], *, initial: str = ""
    ) -> None:
        super().__init__()
        self.ref = ref
        self.initial = initial
        self.current = current
        self.people = people
        self.hall = hall
        self.shown: list[Option] = []

    @property
    def ctx(self) -> Any:
        return self.app.ctx  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt", id="assign-box"):
            yield Static(data_text(tr("assign.title", ref=self.ref)), classes="prompt-title")
            yield FormInput(
                self.initial,
                id="assign-filter",
                enter_submits=True,
                placeholder=ui("assign.placeholder"),
                max_length=MAX_SHORT,
            )
            yield OptionList(id="assign-list")
            yield Static(id="assign-hint", classes="prompt-hint")

    def on_mount(self) -> None:
        self.people = for_hall(self.people, self.hall, self.ctx.config)
        hint = tr("assign.hint") if self.people else tr("assign.empty_directory")
        self.query_one("#assign-hint", Static).update(paragraph_text(hint, limit=400))
        self.refresh_list()
        self.query_one("#assign-filter", Input).focus()

    def describe(self, person: Person) -> str:
        """Role title and halls, as the filter matches them."""
        role = role_title(person.role, self.ctx.config, language() == "ar")
        return f"{role} {' '.join(person.halls)}"

    def line(self, person: Person, width: int) -> Content:
        """Name · role (halls), each part shaped on its own (a name in one script and a role
        in the other must not be reordered as one sentence), each cut to its share. Where the
        app lays Arabic out itself, an Arabic screen puts the name on the right."""
        arabic = language() == "ar"
        role = role_title(person.role, self.ctx.config, arabic)
        halls = f"({', '.join(person.halls)})" if person.halls else ""
        name = data_text(person.name, limit=max(12, min(32, width // 2)))
        room = max(8, width - name.cell_length - 3 - (len(halls) + 1 if halls else 0))
        parts = [name, Content(" · "), data_text(role, limit=room)]
        if halls:
            parts += [Content(" "), data_text(halls, limit=16)]
        if arabic and app_shapes_arabic():
            parts.reverse()
        return Content("").join(parts)

    @on(Input.Changed, "#assign-filter")
    def typed(self, _event: Input.Changed) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        typed = self.query_one("#assign-filter", Input).value
        options = self.query_one("#assign-list", OptionList)
        width = max(20, options.size.width - 2 if options.size.width else self.app.size.width - 12)
        found = [p for p in self.people if matches(p, typed, self.describe(p))]
        self.shown = [Option(self.line(p, width), id=p.id) for p in found]
        text = " ".join(typed.split())
        exact = any(fold_text(p.name) == fold_text(text) for p in found)
        if text and not exact:
            line = tr("assign.as_typed", name=text)
            self.shown.append(Option(data_text(line, limit=width), id=TYPED))
        elif not text and self.current:
            self.shown.append(Option(data_text(tr("assign.nobody"), limit=width), id=NOBODY))
        options.clear_options()
        options.add_options(self.shown)
        options.highlighted = 0 if self.shown else None

    def action_move(self, step: int) -> None:
        options = self.query_one("#assign-list", OptionList)
        if not self.shown:
            self.app.bell()
            return
        index = options.highlighted if options.highlighted is not None else 0
        options.highlighted = max(0, min(len(self.shown) - 1, index + step))

    @on(Input.Submitted, "#assign-filter")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#assign-list", OptionList)
        if options.highlighted is None or not self.shown:
            self.app.bell()  # nothing typed, nobody listed: nothing to assign
            return
        self.choose(self.shown[options.highlighted].id or "")

    @on(OptionList.OptionSelected, "#assign-list")
    def clicked(self, event: OptionList.OptionSelected) -> None:
        self.choose(event.option.id or "")

    def choose(self, option_id: str) -> None:
        if option_id == TYPED:
            typed = self.query_one("#assign-filter", Input).value
            self.dismiss(Assignment(" ".join(typed.split())))
        elif option_id == NOBODY:
            self.dismiss(Assignment(""))
        else:
            person = next(p for p in self.people if p.id == option_id)
            self.dismiss(Assignment(person.name, person.id))

    def action_cancel(self) -> None:
        self.dismiss(None)
