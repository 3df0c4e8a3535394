"""The sync log (F6): where the laptop syncs to, how the last runs went (each batch and page,
with its counts), and the parked items with the server's reason. Plus the first-time setup
modal that asks for the central URL and the device token (never shown in full)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from classroom_support.columns import ColumnSpec, fit_columns
from classroom_support.db import StorageError
from classroom_support.i18n import CATALOGS, tr, ui
from classroom_support.screens.base import AppModal, AppScreen
from classroom_support.screens.prompts import DialogBody, field_row
from classroom_support.sync import SyncStatus, token_hint
from classroom_support.widgets import (
    FormInput,
    HallHeader,
    LocalizedFooter,
    data_text,
    paragraph_text,
)
from classroom_support.widgets.table import Table
from classroom_support.widgets.text import fit_text

LOG_ROWS = 200


def known(prefix: str, name: str) -> str:
    """A catalog word for a value when there is one (outcomes, steps), else the value."""
    key = f"{prefix}.{name}"
    return tr(key) if key in CATALOGS["en"] else name


def _local(at: datetime | None, zone: Any) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if at else "—"


# The detail takes the room left; a narrow terminal drops the cursor and timing first, then
# the per-event counts, keeping what happened and what was refused.
LOG_COLUMNS = (
    ColumnSpec("at", "synclog.at", 19, 19),
    ColumnSpec("step", "synclog.step", 7, 8),
    ColumnSpec("outcome", "synclog.outcome", 10, 13),
    ColumnSpec("sent", "synclog.sent", 5, 6),
    ColumnSpec("applied", "synclog.applied", 5, 7, drop=3),
    ColumnSpec("dup", "synclog.duplicates", 5, 7, drop=2),
    ColumnSpec("rejected", "synclog.rejected", 7, 7),
    ColumnSpec("received", "synclog.received", 6, 8, drop=4),
    ColumnSpec("cursor", "synclog.cursor", 6, 8, drop=1),
    ColumnSpec("ms", "synclog.ms", 4, 6, drop=1),
    ColumnSpec("detail", "synclog.detail", 14, 14, flex=True),
)
PARKED_COLUMNS = (
    ColumnSpec("ref", "field.ref", 8, 10),
    ColumnSpec("kind", "synclog.kind", 10, 12),
    ColumnSpec("at", "synclog.at", 19, 19),
    ColumnSpec("reason", "synclog.reason", 20, 20, flex=True),
)


class SyncLogScreen(AppScreen[None]):
    DEFAULT_CSS = """
    #sync-summary { height: auto; padding: 0 1; }
    #sync-log { height: 2fr; }
    #sync-parked-title { height: 1; padding: 0 1; text-style: bold; background: $boost; }
    #sync-parked { height: 1fr; }
    #sync-parked-empty { height: auto; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "back", "key.back", id="sync-log-back"),
        Binding("r", "retry_parked", "key.retry_parked", id="sync-retry-parked"),
        Binding("u", "setup", "key.sync_setup", id="sync-setup"),
    ]

    def compose(self) -> ComposeResult:
        yield HallHeader(id="header")
        yield Static(id="sla-title")
        yield Static(id="sync-summary")
        yield Table(id="sync-log", cursor_type="row", zebra_stripes=True)
        yield Static(data_text(tr("synclog.parked_title")), id="sync-parked-title")
        yield Table(id="sync-parked", cursor_type="row", zebra_stripes=True)
        yield Static(id="sync-parked-empty")
        yield LocalizedFooter()

    def on_mount(self) -> None:
        self.populate()

    def populate(self) -> None:
        self.keys = {
            "sync": self.key_label("sync-now", "F5"),
            "retry": self.key_label("sync-retry-parked", "r"),
            "setup": self.key_label("sync-setup", "u"),
        }
        title = tr("synclog.title", **self.keys)
        self.query_one("#sla-title", Static).update(data_text(title))
        log_table = self.query_one("#sync-log", DataTable)
        self.log_widths = dict(fit_columns(LOG_COLUMNS, self.app.size.width))
        for column in LOG_COLUMNS:
            if column.key in self.log_widths:
                width = self.log_widths[column.key]
                log_table.add_column(ui(column.label), key=column.key, width=width)
        parked = self.query_one("#sync-parked", DataTable)
        self.parked_widths = dict(fit_columns(PARKED_COLUMNS, self.app.size.width))
        for column in PARKED_COLUMNS:
            width = self.parked_widths[column.key]
            parked.add_column(ui(column.label), key=column.key, width=width)
        self.reload()
        log_table.focus()

    def reload(self) -> None:
        app: Any = self.app
        client = app.sync_client
        zone = self.ctx.config.zone
        status: SyncStatus = client.status()
        self.query_one("#sync-summary", Static).update(
            data_text(self.summary(status, zone), single_line=False)
        )
        log_table = self.query_one("#sync-log", DataTable)
        log_table.clear()
        for entry in client.log_entries(LOG_ROWS):
            cells = {
                "at": _local(entry.at, zone),
                "step": known("synclog.step", entry.step),
                "outcome": known("sync.outcome", entry.outcome),
                "sent": str(entry.sent or ""),
                "applied": str(entry.applied or ""),
                "dup": str(entry.duplicates or ""),
                "rejected": str(entry.rejected or ""),
                "received": str(entry.received or ""),
                "cursor": str(entry.cursor or ""),
                "ms": str(entry.duration_ms or ""),
                "detail": entry.detail,
            }
            log_table.add_row(
                *(fit_text(cells[key], width) for key, width in self.log_widths.items())
            )
        parked_table = self.query_one("#sync-parked", DataTable)
        parked_table.clear()
        rows = client.parked()
        for row, event, ref in rows:
            kind = (
                tr(f"event.{event.kind}") if event is not None else tr(f"synclog.{row.item_kind}")
            )
            cells = {
                "ref": ref or row.item_id[:8],
                "kind": kind,
                "at": _local(row.parked_at, zone),
                "reason": row.reason,
            }
            parked_table.add_row(
                *(fit_text(cells[key], width) for key, width in self.parked_widths.items())
            )
        empty = self.query_one("#sync-parked-empty", Static)
        empty.update(paragraph_text(tr("synclog.no_parked")))
        empty.set_class(bool(rows), "hidden")
        parked_table.set_class(not rows, "hidden")

    def summary(self, status: SyncStatus, zone: Any) -> str:
        if not status.configured:
            return tr("synclog.not_configured", sync=self.keys["sync"], setup=self.keys["setup"])
        lines = [
            tr(
                "synclog.server",
                url=status.url,
                device=f"{status.device_name} ({tr(f'role.{status.role}')})"
                if status.device_name
                else "—",
                halls=tr("scope.all_halls") if status.all_halls else status.halls or "—",
            ),
            tr(
                "synclog.state",
                result=known("sync.outcome", status.last_result),
                last=_local(status.last_success_at, zone),
                attempt=_local(status.last_attempt_at, zone),
            ),
            tr(
                "synclog.counts",
                pending=status.pending,
                parked=status.parked,
                cursor=status.cursor,
                skew=f"{status.skew_ms / 1000:+.1f}" if status.skew_ms is not None else "—",
            ),
        ]
        live = getattr(self.app, "live_summary", None)
        if status.online and live is not None and (line := live()):
            lines.append(line)
        if status.last_error:
            lines.append(tr("synclog.error", error=status.last_error))
        if status.next_attempt_at and not status.online:
            lines.append(tr("synclog.next", at=_local(status.next_attempt_at, zone)))
        return "\n".join(lines)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_retry_parked(self) -> None:
        app: Any = self.app
        try:
            count = app.sync_client.retry_parked()
        except StorageError as exc:
            self.notify(data_text(str(exc)), severity="error", timeout=15)
            self.app.bell()
            return
        self.notify(data_text(tr("synclog.retried", count=count)))
        self.reload()
        if count:
            app.start_sync(manual=True)

    def action_setup(self) -> None:
        app: Any = self.app
        app.push_screen(SyncSetupScreen(), lambda done: self._after_setup(bool(done)))

    def _after_setup(self, done: bool) -> None:
        self.reload()
        if done:
            app: Any = self.app
            app.start_sync(manual=True)


class SyncSetupScreen(AppModal[bool]):
    """First-time setup: the central URL and the device token. The token field is masked and
    the token is written to a 0600 file beside the database; only its first characters are
    ever shown again."""

    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", id="save-sync-setup", priority=True),
        Binding("escape", "cancel", "key.cancel", id="cancel-sync-setup"),
    ]

    def compose(self) -> ComposeResult:
        app: Any = self.app
        client = app.sync_client
        url = client.state().central_url or app.ctx.config.central_url
        token = client.token()
        with DialogBody(classes="prompt"):
            yield Static(data_text(tr("setup.title")), classes="prompt-title")
            yield from field_row(tr("setup.url"), FormInput(url, id="sync-url", compact=True))
            yield from field_row(
                tr("setup.token"),
                FormInput(
                    id="sync-token",
                    password=True,
                    placeholder=tr("setup.token_kept", hint=token_hint(token)) if token else "",
                    enter_submits=True,
                    compact=True,
                ),
            )
            yield Static(id="setup-error")
            yield Static(paragraph_text(tr("setup.hint")), classes="prompt-hint")

    def on_mount(self) -> None:
        has_url = bool(self.query_one("#sync-url", Input).value)
        self.query_one("#sync-token" if has_url else "#sync-url", Input).focus()

    @on(Input.Submitted)
    def next_or_save(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "sync-token":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        app: Any = self.app
        client = app.sync_client
        url = self.query_one("#sync-url", Input).value
        token = self.query_one("#sync-token", Input).value.strip() or (client.token() or "")
        try:
            client.configure(url, token)
        except ValueError as exc:
            self.query_one("#setup-error", Static).update(
                data_text(tr("setup.invalid", problem=str(exc)))
            )
            self.app.bell()
            return
        except (StorageError, OSError) as exc:  # the disk refused the token file or the row
            self.query_one("#setup-error", Static).update(
                paragraph_text(str(exc), single_line=True)
            )
            self.app.bell()
            return
        app.stop_live()  # its open wait was asked of the old server or with the old token
        self.notify(
            data_text(tr("setup.saved", url=client.state().central_url, hint=token_hint(token)))
        )
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
