"""Public holidays and other closed days: list, add, edit, delete. Weekly hours stop on them;
course sessions still count. Every change recomputes the SLA clocks (ClosureBook.on_change)
and syncs as a row (last writer wins)."""

from __future__ import annotations

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from classroom_support.columns import ColumnSpec, fit_columns
from classroom_support.db import StorageError
from classroom_support.i18n import language, tr, ui
from classroom_support.models import ClosureRow
from classroom_support.screens.base import AppModal, AppScreen
from classroom_support.screens.prompts import ConfirmPrompt, DialogBody, field_row
from classroom_support.sessions import ClosureDraft
from classroom_support.tickets import ValidationError
from classroom_support.widgets import (
    FormInput,
    HallHeader,
    LocalizedFooter,
    data_text,
    paragraph_text,
)
from classroom_support.widgets.table import Table
from classroom_support.widgets.text import fit_text

# The name takes the room left (columns.py).
CLOSURE_COLUMNS = (
    ColumnSpec("start", "field.day", 10, 10),
    ColumnSpec("end", "field.end_day", 10, 10),
    ColumnSpec("name", "field.name", 20, 20, flex=True),
    ColumnSpec("est", "closures.estimated", 9, 14),
)


class ClosuresScreen(AppScreen[None]):
    """Public holidays and closed days: weekly hours stop; course sessions still count."""

    BINDINGS = [
        Binding("escape", "back", "key.back", id="closures-back"),
        Binding("a", "add", "key.add", id="add-closure"),
        Binding("e", "edit", "key.edit", id="edit-closure"),
        Binding("d", "delete", "key.delete", id="delete-closure"),
    ]

    def compose(self) -> ComposeResult:
        yield HallHeader(id="header")
        yield Static(data_text(tr("closures.title")), id="sla-title")
        yield Table(id="closures", cursor_type="row", zebra_stripes=True)
        yield Static(id="closures-empty", classes="hidden")
        yield LocalizedFooter()

    def on_mount(self) -> None:
        self.populate()

    def populate(self) -> None:
        table = self.query_one("#closures", DataTable)
        self.widths = dict(fit_columns(CLOSURE_COLUMNS, self.app.size.width))
        for column in CLOSURE_COLUMNS:
            table.add_column(ui(column.label), key=column.key, width=self.widths[column.key])
        self.reload()
        table.focus()

    def reload(self) -> None:
        ctx = self.ctx
        table = self.query_one("#closures", DataTable)
        table.clear()
        rows = ctx.closures.upcoming(self.today())
        arabic = language() == "ar"
        for r in rows:
            table.add_row(
                r.start_day,
                r.end_day,
                fit_text(r.name_ar if arabic and r.name_ar else r.name, self.widths["name"]),
                ui("closures.estimated_yes") if r.estimated else "",
                key=r.id,
            )
        empty = self.query_one("#closures-empty", Static)
        empty.update(paragraph_text(tr("closures.empty")))
        empty.set_class(bool(rows), "hidden")
        table.set_class(not rows, "hidden")

    def action_add(self) -> None:
        def answered(value: ClosureDraft | None) -> None:
            if value is not None:
                self.reload()
                self.notify(ui("closures.saved"))

        self.app.push_screen(ClosureForm(), answered)

    def action_edit(self) -> None:
        table = self.query_one("#closures", DataTable)
        if table.row_count == 0:
            self.app.bell()
            return
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        self.edit(str(key.value))

    @on(DataTable.RowSelected, "#closures")
    def row_chosen(self, event: DataTable.RowSelected) -> None:
        self.edit(str(event.row_key.value))

    def edit(self, closure_id: str) -> None:
        row = next(
            (r for r in self.ctx.closures.upcoming(self.today()) if r.id == closure_id), None
        )
        if row is None:
            self.app.bell()
            return

        def answered(value: ClosureDraft | None) -> None:
            if value is not None:
                self.reload()
                self.notify(ui("closures.saved"))

        self.app.push_screen(ClosureForm(row), answered)

    def today(self) -> date:
        return self.ctx.clock.now().astimezone(self.ctx.config.zone).date()

    def action_delete(self) -> None:
        table = self.query_one("#closures", DataTable)
        if table.row_count == 0:
            self.app.bell()
            return
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        name = str(table.get_cell(key, "name"))

        def answered(yes: bool | None) -> None:
            if yes:
                try:
                    self.ctx.closures.delete(str(key.value))
                except StorageError as exc:
                    self.notify(data_text(str(exc)), severity="error", timeout=15)
                    self.app.bell()
                self.reload()

        self.app.push_screen(ConfirmPrompt(tr("closures.confirm_delete", name=name)), answered)

    def action_back(self) -> None:
        self.dismiss(None)


class ClosureForm(AppModal[ClosureDraft | None]):
    """Add a closure, or edit `row` (its name in the language on screen, its days)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", id="save-closure", priority=True),
        Binding("escape", "cancel", "key.cancel", id="cancel-closure"),
    ]

    def __init__(self, row: ClosureRow | None = None) -> None:
        super().__init__()
        self.row = row
        # The name shown (and so edited) is the Arabic one on an Arabic screen, if it has one.
        self.arabic_name = bool(row and language() == "ar" and row.name_ar)

    def compose(self) -> ComposeResult:
        row = self.row
        values = {"name": "", "start": "", "end": ""}
        if row is not None:
            name = row.name_ar if self.arabic_name else row.name
            values = {"name": name, "start": row.start_day, "end": row.end_day}
        with DialogBody(classes="prompt"):
            yield Static(
                data_text(tr("closures.edit" if row else "closures.add")), classes="prompt-title"
            )
            for name, label in (
                ("name", "field.name"),
                ("start", "field.day"),
                ("end", "field.end_day"),
            ):
                yield from field_row(
                    tr(label),
                    FormInput(
                        values[name],
                        id=name,
                        placeholder="YYYY-MM-DD" if name != "name" else "",
                        enter_submits=name == "end",
                        compact=True,
                    ),
                )
            yield Static(id="closure-error")
            yield Static(paragraph_text(tr("prompt.enter_hint")), classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted)
    def next_or_save(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "end":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        draft = ClosureDraft(
            *(self.query_one(f"#{n}", Input).value for n in ("name", "start", "end"))
        )
        closures = self.app.ctx.closures  # type: ignore[attr-defined]
        try:
            if self.row is None:
                closures.add(draft)
            else:
                closures.update(self.row.id, draft, arabic_name=self.arabic_name)
        except (ValidationError, StorageError) as exc:
            self.query_one("#closure-error", Static).update(paragraph_text(str(exc)))
            self.app.bell()
            return
        self.dismiss(draft)

    def action_cancel(self) -> None:
        self.dismiss(None)
