"""`e` on a ticket: change its problem text, seat, trainee name and contact after saving.
The old values stay in History (one `edited` event, ticket_edits.py)."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from classroom_support.db import StorageError
from classroom_support.i18n import tr, ui
from classroom_support.models import Ticket
from classroom_support.screens.base import AppModal, save_after_queued_keys
from classroom_support.ticket_edits import EDITABLE_FIELDS, NothingChanged, edit_ticket
from classroom_support.tickets import TicketError, ValidationError
from classroom_support.widgets import FormInput, data_text, paragraph_text


class TicketEditForm(AppModal[Ticket | None]):
    """The ticket's text, prefilled; Ctrl+S (or Enter on the last field) saves, Esc cancels.
    Dismisses with the saved ticket, or None when cancelled or nothing changed."""

    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", id="save-edit", priority=True),
        Binding("escape", "cancel", "key.cancel", id="cancel-edit"),
    ]

    def __init__(self, ticket: Ticket) -> None:
        super().__init__()
        self.ticket = ticket

    @property
    def ctx(self) -> Any:
        return self.app.ctx  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt", id="edit-box"):
            yield Static(data_text(tr("edit.title", ref=self.ticket.ref)), classes="prompt-title")
            with VerticalScroll(id="edit-body"):
                for name in EDITABLE_FIELDS:
                    with Horizontal(classes="form-row", id=f"edit-row-{name}"):
                        yield Label(ui(f"field.{name}"), classes="field-label")
                        yield FormInput(
                            getattr(self.ticket, name),
                            id=name,
                            compact=True,
                            enter_submits=name == EDITABLE_FIELDS[-1],
                        )
            yield Static(id="edit-error")
            yield Static(paragraph_text(tr("edit.hint")), classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    @on(Input.Submitted)
    def save_from_last_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        save_after_queued_keys(self, self.save_now)

    def save_now(self) -> None:
        values = {name: self.query_one(f"#{name}", Input).value for name in EDITABLE_FIELDS}
        try:
            saved = edit_ticket(self.ctx.desk, self.ticket.ref, values)
        except NothingChanged as exc:
            self.notify(data_text(str(exc)))
            self.dismiss(None)
            return
        except ValidationError as exc:
            self.show_error(str(exc))
            if exc.field in EDITABLE_FIELDS:
                self.query_one(f"#{exc.field}", Input).focus()
            return
        except (TicketError, StorageError) as exc:
            # Refused (e.g. verified meanwhile) or not written: the typed text stays here.
            self.show_error(str(exc))
            return
        self.dismiss(saved)

    def show_error(self, message: str) -> None:
        self.query_one("#edit-error", Static).update(paragraph_text(message, single_line=True))
        self.app.bell()

    def action_cancel(self) -> None:
        self.dismiss(None)
