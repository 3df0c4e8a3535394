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
from classroom_support.i18n import tr, ui
from classroom_support.screens.base import AppScreen
from classroom_support.tickets import (
    CALLER_CHANNELS,
    CATEGORIES,
    CHANNELS,
    PRIORITIES,
    REMOTE_CHANNELS,
    TicketDraft,
    ValidationError,
)
from classroom_support.widgets import FormInput, KeyChoice, LocalizedFooter, data_text

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

    def compose(self) -> ComposeResult:
        ctx = self.ctx
        current = ctx.sessions.current()
        self.session_id = current.id if current else None
        session_text = current.course if current else tr("header.no_session")
        now = ctx.clock.now().astimezone(ctx.config.zone).strftime("%Y-%m-%d %H:%M")
        yield Static(data_text(tr("form.title")), id="form-title")
        yield Static(
            data_text(
                tr(
                    "form.context",
                    hall=tr("header.hall", hall=ctx.config.hall),
                    session=session_text,
                    time=now,
                    channel=tr("channel.in_hall"),
                )
            ),
            id="form-context",
        )
        with VerticalScroll(id="form-body"):
            yield from self.row(
                "title",
                ui("field.title") + " *",
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
                KeyChoice(CHANNELS, "channel", "in_hall", id="channel"),
            )
            yield from self.row(
                "caller_number",
                ui("field.caller_number"),
                FormInput(id="caller_number", compact=True),
                classes="caller hidden",
            )
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
        yield Static(data_text(tr("form.keys_hint")), id="form-hint")
        yield LocalizedFooter()

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
        self.query_one("#title", Input).focus()

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
        values = {name: self.query_one(f"#{name}", Input).value for name in TEXT_FIELDS}
        for name in ("category", "priority", "channel"):
            values[name] = self.query_one(f"#{name}", KeyChoice).value
        return values

    def restore(self, values: dict[str, str]) -> None:
        for name in TEXT_FIELDS:
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
            if name in TEXT_FIELDS or value in CHOICES.get(name, ()):
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
        if any(values[name].strip() for name in TEXT_FIELDS):
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
        # Ctrl+S is a priority key: in a burst it is read before the keys queued ahead of it
        # for the focused field are handled, so saving waits behind them.
        focused = self.app.focused
        if focused is not None and focused.screen is self:
            focused.call_later(self.save_now)
        else:
            self.save_now()

    def save_now(self) -> None:
        values = self.collect()
        channel = values["channel"]
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
        )
        try:
            ticket = self.ctx.desk.create(draft)
        except ValidationError as exc:
            self.query_one("#form-error", Static).update(data_text(str(exc)))
            if exc.field in TEXT_FIELDS:
                self.query_one(f"#{exc.field}", Input).focus()
            self.app.bell()
            return
        except StorageError as exc:
            # Nothing was written; the form and everything typed stay for the next Ctrl+S.
            self.query_one("#form-error", Static).update(data_text(tr(f"form.storage.{exc.kind}")))
            self._typed = values
            self.keep_draft()  # the draft file may still fit where the database did not
            self.app.bell()
            return
        self.finish(ticket.ref)

    def action_cancel(self) -> None:
        # Typed text is never thrown away by one stray Esc.
        typed = any(self.collect()[name].strip() for name in TEXT_FIELDS)
        if typed and not getattr(self, "_discard_armed", False):
            self._discard_armed = True
            self.query_one("#form-error", Static).update(data_text(tr("form.discard_confirm")))
            return
        self.finish(None)
