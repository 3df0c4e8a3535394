"""A ticket's history in words: the one-line summary a History row shows, and the whole entry
(every field, every character) in a read-only dialog that Enter opens on a row."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from classroom_support.config import Config
from classroom_support.i18n import language, tr
from classroom_support.permissions import route_target
from classroom_support.screens.base import AppModal
from classroom_support.widgets import data_text, paragraph_text
from classroom_support.widgets.paragraph import wrap_logical

# Events only the SLA monitor records (sla_policy.planned_sla_events).
MONITOR_KINDS = ("sla_warning", "sla_breached", "escalated")
# Payload keys shown in history, with their labels; anything else stays internal.
DETAIL_KEYS = {
    "message": "field.message",
    "text": "field.note",
    "assignee": "field.assignee",
    "priority": "field.priority",
    "category": "field.category",
    "reason": "field.reason",
    "summary": "field.summary",
    "note": "field.note",
    "clock": "field.clock",
    "step": "field.step",
    "cause": "field.rca_cause",
    "what": "field.rca_what",
    "action": "field.rca_action",
    "owner": "field.rca_owner",
    "to": "field.route_to",
}
# What a `created` event shows when opened in full (its row shows the problem only).
CREATED_KEYS = (
    "title",
    "seat",
    "trainee_name",
    "trainee_contact",
    "caller_number",
    "remote_session_id",
    "category",
    "priority",
    "channel",
)


def actor_name(kind: str, actor: str) -> str:
    """The SLA monitor writes its events under the device's OS user ("root"): name the
    monitor instead, which is who decided them."""
    return tr("actor.sla_monitor") if kind in MONITOR_KINDS else actor


def rung_title(config: Config, step_id: str) -> str:
    """A ladder rung's configured title in the UI language, not its id."""
    for step in config.escalation:
        if step.id == step_id:
            return step.name_ar if language() == "ar" and step.name_ar else step.name
    return step_id


def _value(config: Config, key: str, value: Any) -> str:
    """A payload value as the reader should see it (codes translated)."""
    if key in ("priority", "clock", "category", "channel"):
        return tr(f"{key}.{value}")
    if key == "cause":
        return tr(f"rca.{value}")
    if key == "step":
        return rung_title(config, str(value))
    if key == "to":  # a route: "Level 2" or "Hall A101"
        target = route_target({"to": value})
        if target is not None:
            return tr("role.level2") if target[0] == "level2" else tr("scope.hall", halls=target[1])
    return str(value)


def _changes(payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, old, new) for each change an `edited` event records (ticket_edits.py)."""
    changes = payload.get("changes")
    if not isinstance(changes, dict):
        return []
    return [
        (str(name), str(change.get("old", "")), str(change.get("new", "")))
        for name, change in changes.items()
        if isinstance(change, dict)
    ]


def entry_fields(config: Config, kind: str, payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, full text) for every field of one history entry, in payload order."""
    if kind == "created":
        keys = [k for k in CREATED_KEYS if payload.get(k)]
        return [(tr(f"field.{k}"), _value(config, k, payload[k])) for k in keys]
    if kind == "edited":
        fields: list[tuple[str, str]] = []
        for name, old, new in _changes(payload):
            label = tr(f"field.{name}")
            fields.append((tr("history.before", field=label), old or "—"))
            fields.append((tr("history.after", field=label), new or "—"))
        return fields
    return [
        (tr(DETAIL_KEYS[key]), _value(config, key, value))
        for key, value in payload.items()
        if value and key in DETAIL_KEYS
    ]


def summary_runs(config: Config, kind: str, payload: dict[str, Any]) -> list[str]:
    """The pieces of the one line a History row shows, each a run of its own (a Latin name in
    an Arabic line keeps its place); the table cuts the line to its column."""
    if kind == "created":
        return [str(payload.get("title", ""))]
    if kind == "edited":  # "Seat / PC: 12 → 14": the old value stays in sight
        return [
            tr("history.change", field=tr(f"field.{name}"), old=old or "—", new=new or "—")
            for name, old, new in _changes(payload)
        ]
    return [f"{label}: {text}" for label, text in entry_fields(config, kind, payload)]


def summary(config: Config, kind: str, payload: dict[str, Any]) -> str:
    """The one line a History row shows, plain (logical order)."""
    return " · ".join(summary_runs(config, kind, payload))


class HistoryEntryScreen(AppModal[None]):
    """One History row in full, read-only: arrows, PgUp/PgDn and the wheel scroll; Esc closes."""

    BINDINGS = [
        Binding("escape", "close", "key.close", id="close-history-entry"),
    ]

    def __init__(self, heading: str, fields: list[tuple[str, str]]) -> None:
        super().__init__()
        self.heading = heading
        self.fields = fields

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt", id="entry-box"):
            yield Static(data_text(self.heading), classes="prompt-title", id="entry-heading")
            with VerticalScroll(id="entry-scroll"):
                if not self.fields:
                    yield Static(
                        paragraph_text(tr("history.no_details")), classes="entry-text-none"
                    )
                for label, _text in self.fields:
                    yield Static(data_text(f"{label}:"), classes="entry-label")
                    yield Static(classes="entry-text")  # filled on mount, at the box's width
            yield Static(paragraph_text(tr("history.entry_hint")), classes="prompt-hint")

    def on_mount(self) -> None:
        self.fill()
        self.query_one("#entry-scroll", VerticalScroll).focus()

    def on_resize(self) -> None:
        self.fill()

    def fill(self) -> None:
        # The box is 80 % of the screen (at most 100 columns, styles/screens.tcss .prompt); inside
        # it the border, the padding and the scroll bar take 8 columns.
        width = max(20, min(self.app.size.width * 8 // 10, 100) - 8)
        # Up to 90 % of the screen's height; the title, hint, border and padding take 8 rows.
        scroll = self.query_one("#entry-scroll", VerticalScroll)
        scroll.styles.max_height = max(3, self.app.size.height * 9 // 10 - 8)
        for (_label, text), widget in zip(self.fields, self.query(".entry-text"), strict=True):
            assert isinstance(widget, Static)
            widget.update(data_text(wrap_logical(text, width), single_line=False))

    def action_close(self) -> None:
        self.dismiss(None)
