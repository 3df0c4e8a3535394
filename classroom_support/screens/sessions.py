"""Course sessions of this hall: today's and the next two weeks; add, edit, delete."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from classroom_support.columns import ColumnSpec, fit_columns
from classroom_support.db import StorageError
from classroom_support.i18n import tr, ui
from classroom_support.models import CourseSession
from classroom_support.screens.base import AppModal, AppScreen, save_after_queued_keys
from classroom_support.screens.history import wrap_logical
from classroom_support.screens.prompts import ConfirmPrompt, DialogBody, field_row
from classroom_support.sessions import SessionDraft
from classroom_support.tickets import ValidationError
from classroom_support.widgets import (
    FormInput,
    HallHeader,
    LocalizedFooter,
    data_text,
    paragraph_text,
)
from classroom_support.widgets.table import Table

SESSION_FIELDS = ("course", "trainer", "day", "start", "end")
# The course takes the room left; at 80 columns the trainer narrows so both stay on screen.
SESSION_COLUMNS = (
    ColumnSpec("day", "field.day", 10, 10),
    ColumnSpec("start", "field.start", 7, 7),
    ColumnSpec("end", "field.end", 7, 7),
    ColumnSpec("course", "field.course", 24, 24, flex=True),
    ColumnSpec("trainer", "field.trainer", 14, 24),
    ColumnSpec("now", "", 4, 6),
)


class SessionsScreen(AppScreen[None]):
    BINDINGS = [
        Binding("escape", "back", "key.back", id="sessions-back"),
        Binding("a", "add", "key.add", id="add-session"),
        Binding("e", "edit", "key.edit", id="edit-session"),
        Binding("d", "delete", "key.delete", id="delete-session"),
        Binding("h", "closures", "key.closures", id="closures"),
    ]

    def compose(self) -> ComposeResult:
        yield HallHeader(id="header")
        yield Static(
            data_text(tr("sessions.title", hall=self.ctx.config.hall)), id="sessions-title"
        )
        yield Table(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Static(id="sessions-empty", classes="hidden")
        # Wrapped in logical order (an Arabic line wrapped after shaping would be cut from the
        # wrong end): at 80 columns it takes two lines.
        hint = wrap_logical(
            tr("sessions.hint", zone=self.ctx.config.timezone), self.app.size.width - 2
        )
        yield Static(data_text(hint, single_line=False), id="sessions-hint")
        yield LocalizedFooter()

    def on_mount(self) -> None:
        self.populate()

    def populate(self) -> None:
        table = self.query_one("#sessions", DataTable)
        self.widths = dict(fit_columns(SESSION_COLUMNS, self.app.size.width))
        for column in SESSION_COLUMNS:
            label = ui(column.label) if column.label else ""
            table.add_column(label, key=column.key, width=self.widths[column.key])
        self.reload()
        table.focus()

    def reload(self) -> None:
        ctx = self.ctx
        zone = ctx.config.zone
        now = ctx.clock.now()
        table = self.query_one("#sessions", DataTable)
        table.clear()
        self.rows: dict[str, CourseSession] = {}
        for row in ctx.sessions.upcoming():
            self.rows[row.id] = row
            start = row.starts_at.astimezone(zone)
            end = row.ends_at.astimezone(zone)
            table.add_row(
                start.strftime("%Y-%m-%d"),
                start.strftime("%H:%M"),
                end.strftime("%H:%M") + ("+1" if end.date() > start.date() else ""),
                data_text(row.course, limit=self.widths["course"] - 1),
                data_text(row.trainer, limit=self.widths["trainer"] - 1),
                ui("sessions.now") if row.starts_at <= now < row.ends_at else "",
                key=row.id,
            )
        self.query_one(HallHeader).refresh_header()  # the session running now may have changed
        empty = self.query_one("#sessions-empty", Static)
        empty.update(paragraph_text(tr("sessions.empty")))
        empty.set_class(bool(self.rows), "hidden")
        table.set_class(not self.rows, "hidden")

    def selected(self) -> CourseSession | None:
        table = self.query_one("#sessions", DataTable)
        if not self.rows:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self.rows.get(str(key.value))

    def action_back(self) -> None:
        self.dismiss(None)

    def action_closures(self) -> None:
        from classroom_support.screens.closures import ClosuresScreen

        self.app.push_screen(ClosuresScreen())

    def action_add(self) -> None:
        self.app.push_screen(SessionForm(None), self.saved)

    def action_edit(self) -> None:
        row = self.selected()
        if row is None:
            self.app.bell()
            return
        self.app.push_screen(SessionForm(row), self.saved)

    def saved(self, changed: bool | None) -> None:
        if changed:
            self.notify(ui("sessions.saved"))
            self.reload()

    def action_delete(self) -> None:
        row = self.selected()
        if row is None:
            self.app.bell()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                try:
                    self.ctx.sessions.delete(row.id)
                except StorageError as exc:
                    self.notify(data_text(str(exc)), severity="error", timeout=15)
                    self.app.bell()
                    return
                self.notify(ui("sessions.deleted"))
                self.reload()

        self.app.push_screen(
            ConfirmPrompt(tr("prompt.confirm_delete", course=row.course)), answered
        )


class SessionForm(AppModal[bool]):
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", id="save-session", priority=True),
        Binding("escape", "cancel", "key.cancel", id="cancel-session"),
    ]

    def __init__(self, row: CourseSession | None) -> None:
        super().__init__()
        self.row = row

    @property
    def ctx(self) -> Any:
        return self.app.ctx  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        zone = self.ctx.config.zone
        if self.row is not None:
            start = self.row.starts_at.astimezone(zone)
            end = self.row.ends_at.astimezone(zone)
            values = {
                "course": self.row.course,
                "trainer": self.row.trainer,
                "day": start.strftime("%Y-%m-%d"),
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
            }
        else:
            today = self.ctx.clock.now().astimezone(zone)
            values = {
                "course": "",
                "trainer": "",
                "day": today.strftime("%Y-%m-%d"),
                "start": "",
                "end": "",
            }
        placeholders = {
            "day": ui("sessions.day_placeholder"),
            "start": ui("sessions.time_placeholder"),
            "end": ui("sessions.time_placeholder"),
        }
        with DialogBody(classes="prompt"):
            yield Static(
                data_text(tr("sessions.edit" if self.row else "sessions.add")),
                classes="prompt-title",
            )
            for name in SESSION_FIELDS:
                yield from field_row(
                    tr(f"field.{name}"),
                    FormInput(
                        values[name],
                        placeholder=placeholders.get(name, ""),
                        id=name,
                        enter_submits=name == SESSION_FIELDS[-1],
                        compact=True,
                    ),
                )
            yield Static(id="session-error")
            yield Static(paragraph_text(tr("prompt.enter_hint")), classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#course", Input).focus()

    @on(Input.Submitted)
    def save_from_last_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        save_after_queued_keys(self, self.save_now)

    def save_now(self, confirmed: bool = False) -> None:
        draft = SessionDraft(**{n: self.query_one(f"#{n}", Input).value for n in SESSION_FIELDS})
        try:
            clashes = (
                []
                if confirmed
                else self.ctx.sessions.overlapping(
                    draft, exclude_id=self.row.id if self.row else None
                )
            )
            if clashes:
                # Warn before saving: the user may confirm (a shared slot) or go back and fix it.
                other = clashes[0]
                zone = self.ctx.config.zone
                question = tr(
                    "sessions.overlap",
                    course=other.course,
                    start=f"{other.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
                    end=f"{other.ends_at.astimezone(zone):%H:%M}",
                )

                def answered(save: bool | None) -> None:
                    if save:
                        self.save_now(confirmed=True)

                self.app.push_screen(ConfirmPrompt(question, yes=tr("key.save")), answered)
                return
            if self.row is None:
                self.ctx.sessions.add(draft)
            else:
                self.ctx.sessions.update(self.row.id, draft)
        except ValidationError as exc:
            self.query_one("#session-error", Static).update(
                paragraph_text(str(exc), single_line=True)
            )
            if exc.field in SESSION_FIELDS:
                self.query_one(f"#{exc.field}", Input).focus()
            self.app.bell()
            return
        except StorageError as exc:
            self.query_one("#session-error", Static).update(
                paragraph_text(str(exc), single_line=True)
            )
            self.app.bell()
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
