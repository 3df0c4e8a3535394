"""New ticket: type the problem, Ctrl+S. Hall, session, time and channel are already filled in.

Fast path (counted by a test): problem text, Tab, seat text, Tab, a digit for the category,
Ctrl+S — four keys besides the typed text.
"""

from __future__ import annotations

import contextlib
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from classroom_support.db import StorageError
from classroom_support.drafts import TicketDraftFile, local_time
from classroom_support.i18n import display, tr, ui
from classroom_support.permissions import CONTACT_CENTRE
from classroom_support.screens.base import AppScreen, save_after_queued_keys
from classroom_support.tickets import (
    CALLER_CHANNELS,
    CATEGORIES,
    CHANNELS,
    PRIORITIES,
    REMOTE_CHANNELS,
    TicketDraft,
    ValidationError,
)
from classroom_support.widgets import (
    FormInput,
    KeyChoice,
    LocalizedFooter,
    data_text,
    paragraph_text,
)
from classroom_support.widgets.text import runs_text

TEXT_FIELDS = (
    "title",
    "seat",
    "caller_number",
    "remote_session_id",
    "trainee_name",
    "trainee_contact",
)


CHOICES = {"category": CATEGORIES, "priority": PRIORITIES, "channel": CHANNELS}


class NewTicketScreen(AppScreen[str | None]):
    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", id="save-ticket", priority=True),
        Binding("escape", "cancel", "key.cancel", id="cancel"),
    ]
    # The draft file is written this long after the last key (not on every key: each write
    # is an fsync), at once when a save fails, and when the screen goes away unsaved.
    DRAFT_DELAY_S = 1.0

    def __init__(self, hall: str | None = None) -> None:
        super().__init__()
        self.preset_hall = hall or ""  # the queue's hall filter, on a desk over several halls

    def compose(self) -> ComposeResult:
        ctx = self.ctx
        # A desk over several halls files for any of them: the form asks which. The hall's
        # course session is not known here, so none is attached.
        self.multi_hall = ctx.desk.multi_hall()
        self.role = ctx.desk.scope().role
        now = ctx.clock.now().astimezone(ctx.config.zone).strftime("%Y-%m-%d %H:%M")
        yield Static(data_text(tr("form.title")), id="form-title")
        if self.multi_hall:
            self.session_id = None
            context = runs_text("form.context_multi", time=now)
        else:
            current = ctx.sessions.current()
            self.session_id = current.id if current else None
            context = runs_text(
                "form.context",
                hall=tr("header.hall", hall=ctx.config.hall),
                session=current.course if current else tr("header.no_session"),
                time=now,
                channel=tr("channel.in_hall"),
            )
        yield Static(context, id="form-context")
        # The contact centre takes calls: phone by default, the caller's number asked next.
        default_channel = "phone" if self.role == CONTACT_CENTRE else "in_hall"
        caller_first = self.multi_hall and default_channel in CALLER_CHANNELS
        caller_hidden = "" if default_channel in CALLER_CHANNELS else " hidden"
        with VerticalScroll(id="form-body"):
            if self.multi_hall:
                example = (ctx.desk.scope_halls() or (ctx.config.hall,))[0]
                yield from self.row(
                    "hall",
                    display(tr("field.hall") + " *"),
                    FormInput(
                        self.preset_hall,
                        placeholder=ui("form.hall_placeholder", hall=example),
                        id="hall",
                        compact=True,
                    ),
                )
            if caller_first:
                yield from self.caller_row(caller_hidden)
            yield from self.row(
                "title",
                display(tr("field.title") + " *"),
                FormInput(placeholder=ui("form.problem_placeholder"), id="title", compact=True),
            )
            yield from self.row(
                "seat",
                ui("field.seat"),
                FormInput(placeholder=ui("form.seat_placeholder"), id="seat", compact=True),
            )
            yield from self.row(
                "category",
                ui("field.category"),
                KeyChoice(CATEGORIES, "category", "other", id="category"),
            )
            yield from self.row(
                "priority",
                ui("field.priority"),
                KeyChoice(PRIORITIES, "priority", "normal", id="priority"),
            )
            yield from self.row(
                "channel",
                ui("field.channel"),
                KeyChoice(CHANNELS, "channel", default_channel, id="channel"),
            )
            if not caller_first:
                yield from self.caller_row(caller_hidden)
            yield from self.row(
                "remote_session_id",
                ui("field.remote_session_id"),
                FormInput(id="remote_session_id", compact=True),
                classes="remote hidden",
            )
            yield from self.row(
                "trainee_name",
                ui("field.trainee_name"),
                FormInput(placeholder=ui("form.optional"), id="trainee_name", compact=True),
            )
            yield from self.row(
                "trainee_contact",
                ui("field.trainee_contact"),
                FormInput(placeholder=ui("form.optional"), id="trainee_contact", compact=True),
            )
        yield Static(id="form-error")
        yield Static(paragraph_text(tr("form.keys_hint")), id="form-hint")
        yield LocalizedFooter()

    def caller_row(self, hidden: str) -> ComposeResult:
        yield from self.row(
            "caller_number",
            ui("field.caller_number"),
            FormInput(id="caller_number", compact=True),
            classes=f"caller{hidden}",
        )

    def row(self, name: str, label: str, field: Widget, classes: str = "") -> ComposeResult:
        with Horizontal(classes=f"form-row {classes}".strip(), id=f"row-{name}"):
            yield Label(label, classes="field-label")
            yield field

    def on_mount(self) -> None:
        self.drafts = TicketDraftFile(self.ctx.db.path)
        self._draft_timer: Timer | None = None
        self._finished = False  # saved or discarded: no draft to keep
        self.populate()
        self.restore_draft()

    def populate(self) -> None:
        first = "#title"
        if self.multi_hall:
            first = "#hall" if not self.preset_hall else self.after_hall()
        self.query_one(first, Input).focus()

    def after_hall(self) -> str:
        caller = self.query_one("#caller_number", Input)
        return "#caller_number" if caller.parent and caller.parent.display else "#title"

    @property
    def text_fields(self) -> tuple[str, ...]:
        return ("hall", *TEXT_FIELDS) if self.multi_hall else TEXT_FIELDS

    def save_state(self) -> dict[str, Any]:
        return {"values": self.collect(), "focused": self.focused_id()}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.restore(state["values"])
        if state["focused"]:
            self.query_one(f"#{state['focused']}").focus()

    def focused_id(self) -> str | None:
        focused = self.app.focused
        return focused.id if focused is not None and focused.screen is self else None

    def collect(self) -> dict[str, str]:
        values = {name: self.query_one(f"#{name}", Input).value for name in self.text_fields}
        for name in ("category", "priority", "channel"):
            values[name] = self.query_one(f"#{name}", KeyChoice).value
        return values

    def restore(self, values: dict[str, str]) -> None:
        for name in self.text_fields:
            if name in values:
                self.query_one(f"#{name}", Input).value = values[name]
        for name in ("category", "priority", "channel"):
            self.query_one(f"#{name}", KeyChoice).value = values[name]

    @on(KeyChoice.Changed, "#channel")
    def channel_changed(self, event: KeyChoice.Changed) -> None:
        for widget in self.query(".caller"):
            widget.set_class(event.value not in CALLER_CHANNELS, "hidden")
        for widget in self.query(".remote"):
            widget.set_class(event.value not in REMOTE_CHANNELS, "hidden")

    def restore_draft(self) -> None:
        """Put back a ticket that was typed but never saved (the app was killed, the disk
        refused it, or the app was closed with the form open)."""
        kept = self.drafts.load()
        if kept is None:
            return
        values = self.collect()
        for name, value in kept["values"].items():
            if name in self.text_fields or value in CHOICES.get(name, ()):
                values[name] = value
        self.restore(values)
        self.query_one("#form-error", Static).update(
            data_text(
                tr("form.draft_restored", time=local_time(kept["saved_at"], self.ctx.config.zone))
            )
        )

    @on(Input.Changed)
    @on(KeyChoice.Changed)
    def typed(self) -> None:
        # Mid-recompose (language switch) some fields are missing: the timer collects later.
        with contextlib.suppress(NoMatches):
            self._typed = self.collect()
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(self.DRAFT_DELAY_S, self.keep_draft)

    def keep_draft(self) -> None:
        self._draft_timer = None
        with contextlib.suppress(NoMatches):
            self._typed = self.collect()
        values = getattr(self, "_typed", None)
        if self._finished or values is None:
            return
        if any(values[name].strip() for name in TEXT_FIELDS):  # a hall alone is no draft
            self.drafts.keep(values)  # False on a full disk: the form still holds the text
        else:
            self.drafts.clear()

    def on_unmount(self) -> None:
        # Closing the app with the form open keeps what was typed (widgets may be gone by
        # now, so the last values collected are used).
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self.keep_draft()

    def finish(self, result: str | None) -> None:
        self._finished = True
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self.drafts.clear()
        self.dismiss(result)

    def action_save(self) -> None:
        save_after_queued_keys(self, self.save_now)

    def save_now(self) -> None:
        values = self.collect()
        channel = values["channel"]
        hall: str | None = None
        if self.multi_hall:
            hall = self.scope_hall(values["hall"])
            if hall is None:
                key = "error.required" if not values["hall"].strip() else "error.choice"
                error = ValidationError(
                    "hall",
                    key,
                    value=values["hall"].strip(),
                    choices=", ".join(self.ctx.desk.scope_halls()),
                )
                self.query_one("#form-error", Static).update(
                    paragraph_text(str(error), single_line=True)
                )
                self.query_one("#hall", Input).focus()
                self.app.bell()
                return
        draft = TicketDraft(
            title=values["title"],
            seat=values["seat"],
            trainee_name=values["trainee_name"],
            trainee_contact=values["trainee_contact"],
            category=values["category"],
            priority=values["priority"],
            channel=channel,
            caller_number=values["caller_number"] if channel in CALLER_CHANNELS else "",
            remote_session_id=values["remote_session_id"] if channel in REMOTE_CHANNELS else "",
            session_id=self.session_id,
            hall_code=hall,
        )
        try:
            ticket = self.ctx.desk.create(draft)
        except ValidationError as exc:
            self.query_one("#form-error", Static).update(paragraph_text(str(exc), single_line=True))
            if exc.field in self.text_fields:
                self.query_one(f"#{exc.field}", Input).focus()
            self.app.bell()
            return
        except StorageError as exc:
            # Nothing was written; the form and everything typed stay for the next Ctrl+S.
            self.query_one("#form-error", Static).update(
                paragraph_text(tr(f"form.storage.{exc.kind}"))
            )
            self._typed = values
            self.keep_draft()  # the draft file may still fit where the database did not
            self.app.bell()
            return
        self.finish(ticket.ref)

    def scope_hall(self, typed: str) -> str | None:
        """The scope's hall code the typed text names (any letter case), None if none."""
        code = typed.strip().upper()
        return next((h for h in self.ctx.desk.scope_halls() if h.upper() == code), None)

    def action_cancel(self) -> None:
        # Typed text is never thrown away by one stray Esc.
        typed = any(self.collect()[name].strip() for name in TEXT_FIELDS)  # not the hall
        if typed and not getattr(self, "_discard_armed", False):
            self._discard_armed = True
            self.query_one("#form-error", Static).update(data_text(tr("form.discard_confirm")))
            return
        self.finish(None)
