"""One ticket: its fields, its full event timeline, and every action on a key."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static

from classroom_support.columns import ColumnSpec, fit_columns
from classroom_support.db import StorageError
from classroom_support.i18n import compose_runs, display, language, mirrored, tr, ui
from classroom_support.models import Ticket
from classroom_support.routing import route_ticket, with_text
from classroom_support.screens.base import AppScreen
from classroom_support.screens.history import (
    HistoryEntryScreen,
    actor_name,
    entry_fields,
    summary_runs,
    wrap_logical,
)
from classroom_support.screens.prompts import ChoicePrompt, TextPrompt
from classroom_support.textsafe import visible
from classroom_support.ticket_edits import EDITABLE_STATUSES
from classroom_support.tickets import CATEGORIES, PRIORITIES, TicketError, can_verify
from classroom_support.widgets import HallHeader, LocalizedFooter, data_text
from classroom_support.widgets.row_table import RowTable
from classroom_support.widgets.sla_cell import hms
from classroom_support.widgets.text import composed_text, label_text

# Which statuses allow which action; the footer dims the rest.
ALLOWED: dict[str, tuple[str, ...]] = {
    "respond": ("new", "in_progress", "waiting", "resolved"),
    "note": ("new", "in_progress", "waiting", "resolved", "verified"),
    "assign": ("new", "in_progress", "waiting", "resolved"),
    "priority": ("new", "in_progress", "waiting", "resolved"),
    "category": ("new", "in_progress", "waiting", "resolved"),
    "pause": ("new", "in_progress"),
    "resume": ("waiting",),
    "resolve": ("new", "in_progress", "waiting"),
    "verify": ("resolved",),
    "reopen": ("resolved", "verified"),
    "rca": ("new", "in_progress", "waiting", "resolved", "verified"),
    "edit": EDITABLE_STATUSES,
    "route": ("new", "in_progress", "waiting", "resolved"),
}
# Where `g` can send a ticket (a ticket never goes back to the contact centre).
ROUTE_TARGETS = ("hall", "level2")
# The event each action writes: this desk's role is asked about that event (permissions.py).
ACTION_KINDS = {
    "respond": "responded",
    "note": "note",
    "assign": "assigned",
    "priority": "priority_set",
    "category": "category_set",
    "pause": "paused",
    "resume": "resumed",
    "resolve": "resolved",
    "verify": "verified",
    "reopen": "reopened",
    "rca": "rca_recorded",
    "edit": "edited",
    "route": "route",
}

# At 80 columns What and By narrow so Details keeps 20 (columns.py).
HISTORY_COLUMNS = (
    ColumnSpec("when", "field.when", 16, 16),
    ColumnSpec("what", "field.what", 16, 26),
    ColumnSpec("actor", "field.actor", 12, 14),
    ColumnSpec("details", "field.details", 20, 20, flex=True),
)


class FieldsScroll(VerticalScroll):
    """The ticket's fields and clocks: a Tab stop only when they do not fit (80x24), so at a
    larger size Tab and the keys behave as before."""

    def allow_focus(self) -> bool:
        return self.max_scroll_y > 0


class TicketDetailScreen(AppScreen[None]):
    BINDINGS = [
        Binding("escape", "back", "key.back", id="back"),
        Binding("r", "respond", "key.respond", id="respond"),
        Binding("n", "note", "key.note", id="add-note"),
        Binding("a", "assign", "key.assign", id="assign"),
        Binding("p", "priority", "key.priority", id="set-priority"),
        Binding("c", "category", "key.category", id="set-category"),
        Binding("e", "edit", "key.edit", id="edit-ticket"),
        Binding("w", "pause", "key.pause", id="pause"),
        Binding("u", "resume", "key.resume", id="resume"),
        Binding("x", "resolve", "key.resolve", id="resolve"),
        Binding("v", "verify", "key.verify", id="verify"),
        Binding("o", "reopen", "key.reopen", id="reopen"),
        Binding("R", "rca", "key.rca", id="record-rca", key_display="R"),
        Binding("g", "route", "key.route", id="route-ticket"),
        Binding("t", "ticket_qr", "key.ticket_qr", id="ticket-qr"),
        Binding("k", "knowledge_base", "key.kb", id="ticket-knowledge-base"),
        # Priority: the History table would otherwise take Enter (and hide it from help).
        # Not in the footer, which is full: the History title says it instead.
        Binding(
            "enter",
            "read_entry",
            "key.read_entry",
            id="read-history-entry",
            priority=True,
            show=False,
        ),
    ]

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref
        self.ticket: Ticket | None = None
        self.seen_generation = 0  # the database change generation on screen
        self.suggested: list[Any] | None = None  # knowledge-base articles, found on opening

    def compose(self) -> ComposeResult:
        yield HallHeader(id="header")
        yield Static(id="detail-title")
        # The ticket's fields scroll on their own (Tab, then arrows/PgDn, or the wheel) and
        # never take more than part of the screen, so the History below stays in view at 80x24.
        with FieldsScroll(id="detail-top"):
            with Horizontal(id="detail-fields"):
                yield Vertical(id="detail-left")
                yield Vertical(id="detail-right")
            yield Static(id="detail-problem")
            yield Static(id="detail-kb", classes="hidden")
            yield Static(id="detail-clocks")
            yield Static(id="detail-conflicts", classes="hidden")
        yield Static(id="timeline-title")
        yield RowTable(id="timeline")
        yield LocalizedFooter()

    def on_mount(self) -> None:
        self.seen_generation = self.ctx.db.watcher().generation
        self.populate()
        self.set_interval(1, self.tick)

    def tick(self) -> None:
        """Once a second: follow the database, else move the countdown (as the queue does)."""
        if not self.follow_database():
            self.tick_clocks()

    def tick_clocks(self) -> None:
        """The clock lines show seconds: redraw them while a clock runs, and only when their
        text changed (a stopped or paused ticket costs one clock evaluation a second)."""
        ticket = self.ticket
        if self.rebuilding or not self.is_current or ticket is None:
            return
        clocks = self.ctx.sla.clocks(ticket, self.ctx.clock.now())
        running = [
            c
            for c in (clocks.first_response, clocks.resolution)
            if c.stopped_at is None and c.state != "paused"
        ]
        if not running:
            return
        text = "\n".join(self.clock_lines(ticket))
        if text != self.clocks_text:
            self.clocks_text = text
            self.query_one("#detail-clocks", Static).update(Content(display(text)))

    def follow_database(self) -> bool:
        """Redraw when another writer changed this ticket (a sync pulled a note): one
        `PRAGMA data_version` a second, and a read of the ticket only after a commit."""
        if self.rebuilding or not self.is_current or self.ticket is None:
            return False
        generation = self.ctx.db.watcher().poll()
        if generation == self.seen_generation:
            return False
        self.seen_generation = generation
        fresh = self.ctx.desk.get(self.ref)
        if (fresh.event_count, fresh.updated_at, fresh.conflicts) == (
            self.ticket.event_count,
            self.ticket.updated_at,
            self.ticket.conflicts,
        ):
            return False
        table = self.query_one("#timeline", DataTable)
        row = table.cursor_row
        self.load()
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        return True

    def populate(self) -> None:
        self.query_one("#timeline-title", Static).update(
            data_text(tr("detail.timeline", key=self.key_of("read-history-entry", "enter")))
        )
        table = self.query_one("#timeline", DataTable)
        widths = dict(fit_columns(HISTORY_COLUMNS, self.app.size.width))
        for column in HISTORY_COLUMNS:
            table.add_column(ui(column.label), key=column.key, width=widths[column.key])
        self.details_width = widths["details"]
        self.what_width, self.actor_width = widths["what"], widths["actor"]
        self.load()
        table.focus()

    def load(self) -> None:
        ctx = self.ctx
        ticket = ctx.desk.get(self.ref)
        self.ticket = ticket
        self._scope = None  # read the role again (a sync may have changed it)
        zone = ctx.config.zone
        title = " · ".join(
            (
                tr("detail.title", ref=ticket.ref),
                tr(f"status.{ticket.status}"),
                tr("detail.with", desk=with_text(ticket)),
            )
        )
        self.query_one("#detail-title", Static).update(data_text(title))

        def local(dt: Any) -> str:
            return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M") if dt else "—"

        left = [
            ("field.hall", ticket.hall_code),
            ("field.session", ticket.session_label or "—"),
            ("field.seat", ticket.seat or "—"),
            ("field.channel", tr(f"channel.{ticket.channel}")),
            ("field.caller_number", ticket.caller_number or ticket.remote_session_id or "—"),
            ("field.trainee_name", ticket.trainee_name or "—"),
            ("field.trainee_contact", ticket.trainee_contact or "—"),
        ]
        right = [
            ("field.status", tr(f"status.{ticket.status}")),
            ("field.priority", tr(f"priority.{ticket.priority}")),
            ("field.category", tr(f"category.{ticket.category}")),
            ("field.assignee", ticket.assignee or tr("detail.unassigned")),
            ("field.created", local(ticket.created_at)),
            ("event.responded", local(ticket.first_response_at)),
            ("event.resolved", local(ticket.resolved_at)),
        ]
        for container_id, rows in (("#detail-left", left), ("#detail-right", right)):
            container = self.query_one(container_id, Vertical)
            container.remove_children()
            container.mount_all(
                Static(data_text(f"{tr(label)}: {value}", limit=120), classes="detail-field")
                for label, value in rows
            )
        self.query_one("#detail-problem", Static).update(
            data_text(f"{tr('field.title')}: {ticket.title}", single_line=False, limit=4000)
        )
        self.show_suggestions(ticket)
        self.clocks_text = "\n".join(self.clock_lines(ticket))
        self.query_one("#detail-clocks", Static).update(Content(display(self.clocks_text)))
        conflicts = self.query_one("#detail-conflicts", Static)
        conflicts.set_class(ticket.conflicts == 0, "hidden")
        conflicts.update(data_text(tr("detail.conflicts", count=ticket.conflicts)))

        table = self.query_one("#timeline", DataTable)
        table.clear()
        for event in ctx.desk.history(ticket.id):
            payload = json.loads(event.payload)
            table.add_row(
                local(event.occurred_at),
                # Short cells end on a whole word (or lose their aside), never mid-word.
                label_text(tr(f"event.{event.kind}"), self.what_width),
                label_text(actor_name(event.kind, event.actor), self.actor_width),
                # Cut to the column in logical order, before shaping (see the queue); Enter
                # opens the whole entry.
                composed_text(
                    summary_runs(ctx.config, event.kind, payload), limit=self.details_width - 1
                ),
                key=event.id,
            )
        self.refresh_bindings()

    def show_suggestions(self, ticket: Ticket) -> None:
        """Up to three knowledge-base articles matching the problem, found once on opening."""
        from classroom_support.screens.kb import suggestions_for, title_of

        if self.suggested is None:
            self.suggested = suggestions_for(self.ctx, ticket.title)
        line = self.query_one("#detail-kb", Static)
        line.set_class(not self.suggested, "hidden")
        if self.suggested:
            titles = " · ".join(title_of(a, language()) for a in self.suggested)
            key = self.key_of("ticket-knowledge-base", "k")
            line.update(data_text(tr("detail.kb_suggested", titles=titles, key=key), limit=300))

    def key_of(self, binding_id: str, default: str) -> str:
        """The key that runs a binding here, as displayed (it may be remapped)."""
        return next(
            (
                self.app.get_key_display(b)
                for bindings in self._bindings.key_to_bindings.values()
                for b in bindings
                if b.id == binding_id
            ),
            default,
        )

    def wrapped(self, line: str) -> list[str]:
        """A clock line made visible and broken in logical order to the screen's width:
        a right-to-left line wrapped after shaping would begin on its second row. (A
        left-to-right one Textual wraps itself.)"""
        line = visible(line, single_line=True)
        if not mirrored():
            return [line]
        return wrap_logical(line, max(40, self.app.size.width - 6)).split("\n")

    def why_lines(self, spans: list[Any]) -> list[str]:
        """The "why then" line: each span (date, times, session) a run of its own, so a course
        named in both scripts reads whole and its brackets pair (`bidi_runs`). Packed into lines
        that fit in logical order: a wrapped right-to-left line would be reordered across the
        break. Already made visible (composed lines must not be escaped again)."""
        zone = self.ctx.config.zone
        parts = []
        for sp in spans[:12]:
            a, b = sp.start.astimezone(zone), sp.end.astimezone(zone)
            label = (
                tr("detail.why_session", course=sp.label)
                if sp.source == "session"
                else tr("detail.why_hours")
            )
            parts.append(f"{a:%d/%m %H:%M}–{b:%H:%M} {label}")
        if len(spans) > 12:
            parts.append(tr("detail.why_more", count=len(spans) - 12))
        width = max(40, self.app.size.width - 8)
        lines: list[list[str]] = [[]]
        used = len("  " + tr("detail.why", spans=""))
        for part in parts:
            if lines[-1] and used + len(part) + 3 > width:
                lines.append([])
                used = 4
            lines[-1].append(part)
            used += len(part) + 3
        heads = [visible("  " + tr("detail.why", spans=""))] + ["    "] * (len(lines) - 1)
        return [head + compose_runs(line) for head, line in zip(heads, lines, strict=True)]

    def clock_lines(self, ticket: Ticket) -> list[str]:
        """Every SLA clock: due (local), state, working time left, and why it is due then.
        Made visible already (`textsafe.visible`); shown through `i18n.display`."""
        ctx = self.ctx
        sla = ctx.sla
        zone = ctx.config.zone
        now = ctx.clock.now()
        cal = sla.calendar(ticket.hall_code)
        clocks = sla.clocks(ticket, now)
        lines: list[str] = []
        for clock in (clocks.first_response, clocks.resolution):
            due = clock.due.astimezone(zone) if clock.due else None
            due_text = f"{tr('weekday.' + str(due.weekday()))} {due:%Y-%m-%d %H:%M}" if due else "—"
            head = tr(
                "detail.clock_line",
                clock=tr(f"clock.{clock.name}"),
                due=due_text,
                state=tr(f"sla.state.{clock.state}"),
                target=f"{clock.target.total_seconds() / 3600:g}",
            )
            if clock.stopped_at is None and clock.state != "paused":
                head += " · " + tr("detail.clock_left", left=hms(clock.remaining))
            lines.extend(self.wrapped(head))
            if clock.due is not None and clock.name == "first_response":
                lines.extend(self.why_lines(cal.explain(ticket.created_at, clock.due)))
        step = ctx.config.escalation[min(ticket.escalation_level, len(ctx.config.escalation) - 1)]
        roles = {r.id: r for r in ctx.config.roster}
        who = ", ".join(
            (roles[r].title_ar if language() == "ar" and roles[r].title_ar else roles[r].title)
            for r in step.roles
            if r in roles
        )
        step_name = step.name_ar if language() == "ar" and step.name_ar else step.name
        # A rung named after the role responsible ("General Manager") says it once.
        same = who.casefold() == step_name.casefold()
        line = tr("detail.escalation", step=step_name) + (f" ({who})" if who and not same else "")
        next_due = sla.next_rung_due(ticket, clocks)
        if next_due is not None:
            line += " · " + tr("detail.next_rung", at=f"{next_due.astimezone(zone):%Y-%m-%d %H:%M}")
        lines.extend(self.wrapped(line))
        if ticket.breached:
            if ticket.rca_at is None:
                lines.append(tr("detail.rca_missing"))
            else:
                lines.append(
                    visible(
                        tr(
                            "detail.rca_done",
                            cause=tr(f"rca.{ticket.rca_cause}"),
                            owner=ticket.rca_owner,
                        ),
                        single_line=True,
                    )
                )
        return lines

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ACTION_KINDS and self.role_refusal(ACTION_KINDS[action]) is not None:
            return None  # this desk's role may not (e.g. a hall desk verifying)
        if action in ALLOWED and self.ticket is not None:
            if action == "respond" and self.ticket.first_response_at is not None:
                return None
            if action == "rca":
                return True if self.ticket.breached else None
            if action == "verify" and can_verify(self.ticket) is not None:
                return None  # e.g. breached without a root-cause analysis
            return True if self.ticket.status in ALLOWED[action] else None
        return True

    def refusal(self, action: str) -> str | None:
        if action in ACTION_KINDS:
            refused = self.role_refusal(ACTION_KINDS[action])
            if refused is not None:
                return refused
        ticket = self.ticket
        if ticket is None:
            return None
        if action == "verify":
            return can_verify(ticket)
        if action == "rca" and not ticket.breached:
            return tr("error.rca_not_needed")
        if action == "respond" and ticket.first_response_at is not None:
            return tr("dimmed.responded")
        if action in ALLOWED and ticket.status not in ALLOWED[action]:
            return tr(
                "dimmed.status",
                action=tr(f"key.{action}"),
                status=tr(f"status.{ticket.status}"),
            )
        return None

    # ------------------------------------------------------------------ actions

    def run(self, what: str, change: Callable[[], object]) -> Exception | None:
        """Apply one change; the error (already shown) when it was refused or not written."""
        try:
            change()
        except (TicketError, StorageError) as exc:
            # StorageError: the disk refused the write (db.py); the ticket is as it was.
            self.notify(data_text(str(exc)), severity="error", timeout=15)
            self.app.bell()
            return exc
        self.notify(data_text(tr("detail.done", ref=self.ref, what=tr(what))))
        self.load()
        return None

    def ask(
        self,
        title_key: str,
        event_key: str,
        change: Callable[[str], object],
        *,
        required: bool = False,
        kept: str = "",
    ) -> None:
        def answered(text: str | None) -> None:
            if text is None:
                return
            if isinstance(self.run(event_key, lambda: change(text)), StorageError):
                # Not written: ask again with the typed text, so nothing is lost.
                self.ask(title_key, event_key, change, required=required, kept=text)

        prompt = TextPrompt(
            tr(title_key),
            required=required,
            initial=kept,
            error=tr("storage.prompt_kept") if kept else "",
        )
        self.app.push_screen(prompt, answered)

    def action_rca(self) -> None:
        from classroom_support.screens.sla_screens import RcaForm

        def done(saved: bool | None) -> None:
            if saved:
                self.notify(
                    data_text(tr("detail.done", ref=self.ref, what=tr("event.rca_recorded")))
                )
                self.load()

        self.app.push_screen(RcaForm(self.ref), done)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        from classroom_support.screens.ticket_edit import TicketEditForm

        def done(saved: Ticket | None) -> None:
            if saved is not None:
                self.notify(data_text(tr("detail.done", ref=self.ref, what=tr("event.edited"))))
                self.load()

        self.app.push_screen(TicketEditForm(self.ctx.desk.get(self.ref)), done)

    @on(DataTable.RowSelected, "#timeline")
    def row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.read_entry(str(event.row_key.value))

    def action_read_entry(self) -> None:
        table = self.query_one("#timeline", DataTable)
        if table.row_count:
            key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
            self.read_entry(str(key.value))

    def read_entry(self, event_id: str) -> None:
        """The whole History entry, every field in full, in a read-only dialog."""
        ctx = self.ctx
        for event in ctx.desk.history(self.ticket.id if self.ticket else ""):
            if event.id == event_id:
                when = event.occurred_at.astimezone(ctx.config.zone).strftime("%Y-%m-%d %H:%M")
                heading = " · ".join(
                    (when, tr(f"event.{event.kind}"), actor_name(event.kind, event.actor))
                )
                fields = entry_fields(ctx.config, event.kind, json.loads(event.payload))
                self.app.push_screen(HistoryEntryScreen(heading, fields))
                return

    def action_knowledge_base(self) -> None:
        from classroom_support.screens.kb import KnowledgeBaseScreen

        title = self.ticket.title if self.ticket else ""
        self.app.push_screen(KnowledgeBaseScreen(title, ticket_ref=self.ref))

    def action_ticket_qr(self) -> None:
        from classroom_support.screens.trainee_qr import TraineeScreen

        self.app.push_screen(TraineeScreen(self.ref))

    def action_respond(self) -> None:
        self.ask(
            "detail.prompt.respond",
            "event.responded",
            lambda text: self.ctx.desk.respond(self.ref, text),
        )

    def action_note(self) -> None:
        self.ask(
            "detail.prompt.note",
            "event.note",
            lambda text: self.ctx.desk.add_note(self.ref, text),
            required=True,
        )

    def action_assign(self, kept: str = "") -> None:
        """Pick from the synced staff directory (type to filter) or type any name."""
        from classroom_support.people import local_people
        from classroom_support.screens.people_picker import Assignment, AssignPicker

        ticket = self.ticket
        assert ticket is not None

        def picked(choice: Assignment | None) -> None:
            if choice is None or choice.name == ticket.assignee:
                return

            def change() -> object:
                return self.ctx.desk.assign(self.ref, choice.name, person_id=choice.person_id)

            if isinstance(self.run("event.assigned", change), StorageError):
                self.action_assign(kept=choice.name)  # not written: ask again, name kept

        people = local_people(self.ctx.db)
        self.app.push_screen(
            AssignPicker(self.ref, ticket.hall_code, ticket.assignee, people, initial=kept),
            picked,
        )

    def action_pause(self) -> None:
        self.ask(
            "detail.prompt.pause", "event.paused", lambda text: self.ctx.desk.pause(self.ref, text)
        )

    def action_resume(self) -> None:
        self.run("event.resumed", lambda: self.ctx.desk.resume(self.ref))

    def action_resolve(self) -> None:
        self.ask(
            "detail.prompt.resolve",
            "event.resolved",
            lambda text: self.ctx.desk.resolve(self.ref, text),
        )

    def action_verify(self) -> None:
        # Say no before asking for a note: the domain's own rules, checked on a fresh read.
        reason = self.ctx.desk.permitted("verified") or can_verify(self.ctx.desk.get(self.ref))
        if reason is not None:
            self.notify(data_text(reason), severity="error", timeout=15)
            self.app.bell()
            return
        self.ask(
            "detail.prompt.verify",
            "event.verified",
            lambda text: self.ctx.desk.verify(self.ref, text),
        )

    def action_reopen(self) -> None:
        self.ask(
            "detail.prompt.reopen",
            "event.reopened",
            lambda text: self.ctx.desk.reopen(self.ref, text),
            required=True,
        )

    def _pick(
        self,
        title_key: str,
        options: tuple[str, ...],
        prefix: str,
        current: str,
        event_key: str,
        change: Callable[[str], object],
    ) -> None:
        def picked(value: str | None) -> None:
            if value is not None and value != current:
                self.run(event_key, lambda: change(value))

        self.app.push_screen(ChoicePrompt(tr(title_key), options, prefix, current), picked)

    def action_route(self) -> None:
        """To its hall or to Level 2 (one digit), then an optional note."""
        assert self.ticket is not None
        ticket = self.ticket
        current = ticket.with_desk  # as priority and category: the current one is marked
        marked = current if current in ROUTE_TARGETS else ROUTE_TARGETS[0]

        def noted(level2: bool) -> Callable[[str], object]:
            return lambda text: route_ticket(self.ctx.desk, self.ref, level2=level2, note=text)

        def picked(value: str | None) -> None:
            if value is None or value == current:
                return
            to = {"level2": True} if value == "level2" else {"hall": ticket.hall_code}
            reason = self.ctx.desk.permitted("route", {"to": to})  # say no before asking
            if reason is not None:
                self.notify(data_text(reason), severity="warning")
                self.app.bell()
                return
            self.ask("detail.prompt.route", "event.route", noted(value == "level2"))

        choice = ChoicePrompt(
            tr("detail.pick.route", ref=ticket.ref), ROUTE_TARGETS, "route", marked
        )
        self.app.push_screen(choice, picked)

    def action_priority(self) -> None:
        assert self.ticket is not None
        self._pick(
            "detail.pick.priority",
            PRIORITIES,
            "priority",
            self.ticket.priority,
            "event.priority_set",
            lambda v: self.ctx.desk.set_priority(self.ref, v),
        )

    def action_category(self) -> None:
        assert self.ticket is not None
        self._pick(
            "detail.pick.category",
            CATEGORIES,
            "category",
            self.ticket.category,
            "event.category_set",
            lambda v: self.ctx.desk.set_category(self.ref, v),
        )
