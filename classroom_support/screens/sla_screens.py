"""Escalations, the breach ledger (with CSV export) and the root-cause form."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Input, Static

from classroom_support.columns import ColumnSpec, fit_columns
from classroom_support.db import StorageError
from classroom_support.i18n import app_shapes_arabic, language, tr, ui
from classroom_support.models import Ticket
from classroom_support.people import local_people, responsible_names
from classroom_support.reports import breach_rows, write_breach_csv
from classroom_support.screens.base import AppModal, AppScreen
from classroom_support.screens.prompts import DialogBody, field_row
from classroom_support.tickets import RCA_CAUSES, TicketError, ValidationError
from classroom_support.widgets import (
    FormInput,
    HallHeader,
    KeyChoice,
    LocalizedFooter,
    data_text,
    paragraph_text,
)
from classroom_support.widgets.sla_cell import hms
from classroom_support.widgets.table import Table
from classroom_support.widgets.text import fit_text

# Who is responsible takes the room left; at 80 columns the problem goes first (Enter opens
# the ticket), then the rung's name narrows.
ESCALATION_COLUMNS = (
    ColumnSpec("ref", "field.ref", 7, 8),
    ColumnSpec("level", "field.step", 16, 28),
    ColumnSpec("who", "escalations.who", 24, 24, flex=True),
    ColumnSpec("over", "escalations.over", 9, 10, narrows=False),
    ColumnSpec("rca", "escalations.rca", 7, 9),
    ColumnSpec("title", "field.title", 12, 16, drop=1),
)

# The problem takes the room left; at 80 columns the RCA owner goes, then clock and cause narrow.
BREACH_COLUMNS = (
    ColumnSpec("ref", "field.ref", 7, 8),
    ColumnSpec("clock", "field.clock", 14, 24),
    ColumnSpec("due", "breaches.due", 16, 16),
    ColumnSpec("rca", "breaches.rca", 10, 22),
    ColumnSpec("owner", "field.rca_owner", 8, 16, drop=1),
    ColumnSpec("title", "field.title", 20, 20, flex=True),
)


def names_cell(names: list[str], width: int) -> Content:
    """Names joined by commas within `width`, each shaped on its own (an Arabic and a Latin
    name must not be reordered as one sentence), "+N" for those that do not fit (the first
    and the last are cut rather than left out). Where the app lays Arabic out itself, an
    Arabic screen reads them from the right."""
    pieces: list[Content] = []
    used = 0
    for i, name in enumerate(names):
        sep = 2 if pieces else 0
        left = len(names) - i - 1
        reserve = len(f", +{left}") if left else 0
        room = width - used - sep
        piece = data_text(name)
        if piece.cell_length > room - reserve:
            if pieces and (left or room < 6):
                pieces.append(Content(f"+{len(names) - i}"))
                break
            piece = data_text(name, limit=max(1, room - reserve - 1))  # + "…"
        pieces.append(piece)
        used += sep + piece.cell_length
    if language() == "ar" and app_shapes_arabic():
        pieces.reverse()
    return Content("، " if language() == "ar" else ", ").join(pieces)


class EscalationsScreen(AppScreen[None]):
    """Every escalated open ticket: the rung, who is responsible there, how far over it is."""

    BINDINGS = [
        Binding("escape", "back", "key.back", id="escalations-back"),
        Binding("g", "charts", "key.charts", id="escalations-charts"),
    ]

    def compose(self) -> ComposeResult:
        yield HallHeader(id="header")
        yield Static(data_text(tr("escalations.title")), id="sla-title")
        yield Table(id="escalations", cursor_type="row", zebra_stripes=True)
        yield Static(id="escalations-empty", classes="hidden")
        yield LocalizedFooter()

    def on_mount(self) -> None:
        self.live: dict[str, Ticket] = {}  # rows still unanswered: their "Over by" grows
        self.populate()
        self.set_interval(1, self.tick_over)

    def over_text(self, ticket: Ticket, now: datetime) -> tuple[str, bool]:
        """How far past the first-response deadline, and whether that still grows."""
        clocks = self.ctx.sla.clocks(ticket, now)
        due = clocks.first_response.due
        if due is None:
            return "—", False
        stopped = clocks.first_response.stopped_at
        late = self.ctx.sla.calendar(ticket.hall_code).between(due, stopped or now)
        return hms(late), stopped is None

    def tick_over(self) -> None:
        """Once a second, the unanswered rows' "Over by" (working time; it stands still when
        the hall is closed). Only cells that changed are repainted."""
        if self.rebuilding or not self.is_current or not self.live:
            return
        table = self.query_one("#escalations", DataTable)
        now = self.ctx.clock.now()
        for ref, ticket in self.live.items():
            text, _ = self.over_text(ticket, now)
            if text != str(table.get_cell(ref, "over")):
                table.update_cell(ref, "over", data_text(text))

    def populate(self) -> None:
        table = self.query_one("#escalations", DataTable)
        self.widths = dict(fit_columns(ESCALATION_COLUMNS, self.app.size.width))
        for column in ESCALATION_COLUMNS:
            if column.key in self.widths:
                table.add_column(ui(column.label), key=column.key, width=self.widths[column.key])
        self.reload()
        table.focus()

    def reload(self) -> None:
        ctx = self.ctx
        widths = self.widths
        table = self.query_one("#escalations", DataTable)
        table.clear()
        now = ctx.clock.now()
        arabic = language() == "ar"
        rows = ctx.desk.escalated()
        self.live = {}
        people = local_people(ctx.db)  # the synced staff directory: names where it has them
        for t in rows:
            ladder = ctx.config.escalation
            step = ladder[min(t.escalation_level, len(ladder) - 1)]
            who = responsible_names(step, t.hall_code, people, ctx.config, arabic)
            over, growing = self.over_text(t, now)
            if growing:
                self.live[t.ref] = t
            step_name = step.name_ar if arabic and step.name_ar else step.name
            cells = {
                "ref": t.ref,
                "level": f"{t.escalation_level}. {step_name}",
                "over": over,
                "rca": rca_state(t),
                "title": t.title,
            }
            table.add_row(
                *(
                    names_cell(who, width - 1) if key == "who" else fit_text(cells[key], width)
                    for key, width in widths.items()
                ),
                key=t.ref,
            )
        empty = self.query_one("#escalations-empty", Static)
        empty.update(paragraph_text(tr("escalations.empty")))
        empty.set_class(bool(rows), "hidden")
        table.set_class(not rows, "hidden")

    @on(DataTable.RowSelected, "#escalations")
    def open_ticket(self, event: DataTable.RowSelected) -> None:
        from classroom_support.screens.ticket_detail import TicketDetailScreen

        self.app.push_screen(TicketDetailScreen(str(event.row_key.value)), lambda _: self.reload())

    def action_charts(self) -> None:
        from classroom_support.screens.charts import ChartsScreen

        self.app.push_screen(ChartsScreen())

    def action_back(self) -> None:
        self.dismiss(None)


def rca_state(ticket: Ticket) -> str:
    """Root-cause analysis of a breached ticket: pending or recorded ('' when not breached)."""
    if not ticket.breached:
        return ""
    return tr("escalations.rca_recorded" if ticket.rca_at else "escalations.rca_pending")


RCA_FILTERS = ("all", "missing", "recorded")


class BreachLedgerScreen(AppScreen[None]):
    """All breaches and whether their root-cause analysis is done; filter; export to CSV."""

    BINDINGS = [
        Binding("escape", "back", "key.back", id="breaches-back"),
        Binding("f", "cycle_filter", "key.filter", id="breaches-filter"),
        Binding("R", "rca", "key.rca", id="breaches-rca", key_display="R"),
        Binding("x", "export", "key.export", id="breaches-export"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter_index = 0

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "rca" and self.role_refusal("rca_recorded") else True

    def refusal(self, action: str) -> str | None:
        return self.role_refusal("rca_recorded") if action == "rca" else None

    def compose(self) -> ComposeResult:
        yield HallHeader(id="header")
        yield Static(id="sla-title")
        yield Table(id="breaches", cursor_type="row", zebra_stripes=True)
        yield Static(id="breaches-empty", classes="hidden")
        yield Static(id="breaches-status")
        yield LocalizedFooter()

    def on_mount(self) -> None:
        self.populate()

    def populate(self) -> None:
        table = self.query_one("#breaches", DataTable)
        self.widths = dict(fit_columns(BREACH_COLUMNS, self.app.size.width))
        for column in BREACH_COLUMNS:
            if column.key in self.widths:
                table.add_column(ui(column.label), key=column.key, width=self.widths[column.key])
        self.reload()
        table.focus()

    def reload(self) -> None:
        ctx = self.ctx
        table = self.query_one("#breaches", DataTable)
        table.clear()
        wanted = RCA_FILTERS[self.filter_index]
        rows = [
            r
            for r in breach_rows(ctx)
            if wanted == "all" or (wanted == "missing") == (not r["rca_recorded"])
        ]
        for r in rows:
            clocks = " + ".join(tr(f"clock.{c}") for c in r["clocks"])
            rca = tr(f"rca.{r['rca_cause']}") if r["rca_recorded"] else tr("breaches.missing")
            cells = {
                "ref": r["ref"],
                "clock": clocks,
                "due": r["due_local"],
                "rca": rca,
                "owner": r["rca_owner"],
                "title": r["title"],
            }
            table.add_row(
                *(fit_text(cells[key], width) for key, width in self.widths.items()),
                key=r["ref"],
            )
        self.query_one("#sla-title", Static).update(
            data_text(tr("breaches.title", filter=tr(f"breaches.filter.{wanted}"), count=len(rows)))
        )
        empty = self.query_one("#breaches-empty", Static)
        empty.update(paragraph_text(tr("breaches.empty")))
        empty.set_class(bool(rows), "hidden")
        table.set_class(not rows, "hidden")

    def selected_ref(self) -> str | None:
        table = self.query_one("#breaches", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(key.value)

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(RCA_FILTERS)
        self.reload()

    def action_rca(self) -> None:
        ref = self.selected_ref()
        if ref is None:
            self.app.bell()
            return
        self.app.push_screen(RcaForm(ref), lambda saved: self.reload() if saved else None)

    def action_export(self) -> None:
        ctx = self.ctx
        stamp = ctx.clock.now().astimezone(ctx.config.zone).strftime("%Y%m%d-%H%M%S")
        path = Path(ctx.paths.database).parent / f"breaches-{stamp}.csv"
        count = write_breach_csv(ctx, path)
        self.query_one("#breaches-status", Static).update(
            data_text(tr("breaches.exported", count=count, path=str(path)))
        )
        self.notify(data_text(tr("breaches.exported", count=count, path=str(path))))

    @on(DataTable.RowSelected, "#breaches")
    def open_ticket(self, event: DataTable.RowSelected) -> None:
        from classroom_support.screens.ticket_detail import TicketDetailScreen

        self.app.push_screen(TicketDetailScreen(str(event.row_key.value)), lambda _: self.reload())

    def action_back(self) -> None:
        self.dismiss(None)


class RcaForm(AppModal[bool]):
    """Cause category (one digit), what happened, corrective action, owner."""

    BINDINGS = [
        Binding("ctrl+s", "save", "key.save", id="save-rca", priority=True),
        Binding("escape", "cancel", "key.cancel", id="cancel-rca"),
    ]

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref

    @property
    def ctx(self) -> Any:
        return self.app.ctx  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        ticket: Ticket = self.ctx.desk.get(self.ref)
        with DialogBody(classes="prompt"):
            yield Static(data_text(tr("rca.title", ref=self.ref)), classes="prompt-title")
            yield Static(data_text(ticket.title, limit=200), classes="prompt-hint")
            yield from field_row(
                tr("field.rca_cause"),
                KeyChoice(RCA_CAUSES, "rca", ticket.rca_cause or "other", id="rca_cause"),
            )
            for name in ("rca_what", "rca_action", "rca_owner"):
                yield from field_row(
                    tr(f"field.{name}"),
                    FormInput(
                        getattr(ticket, name),
                        id=name,
                        enter_submits=name == "rca_owner",
                        compact=True,
                    ),
                )
            yield Static(id="rca-error")
            yield Static(paragraph_text(tr("rca.hint")), classes="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#rca_cause", KeyChoice).focus()

    @on(Input.Submitted)
    def next_or_save(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "rca_owner":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        values = {
            n: self.query_one(f"#{n}", Input).value for n in ("rca_what", "rca_action", "rca_owner")
        }
        try:
            self.ctx.desk.record_rca(
                self.ref,
                self.query_one("#rca_cause", KeyChoice).value,
                values["rca_what"],
                values["rca_action"],
                values["rca_owner"],
            )
        except ValidationError as exc:
            self.query_one("#rca-error", Static).update(paragraph_text(str(exc), single_line=True))
            if exc.field in values:
                self.query_one(f"#{exc.field}", Input).focus()
            self.app.bell()
            return
        except (TicketError, StorageError) as exc:
            self.query_one("#rca-error", Static).update(paragraph_text(str(exc), single_line=True))
            self.app.bell()
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
