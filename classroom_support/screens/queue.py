"""The home screen: the hall's open tickets, paged from SQL so 20,000 tickets stay instant.

Nothing at the top of this module imports the ORM: the screen paints the first frame before it
is loaded (first_frame.py); what needs it is imported where it is used."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Input, Static

from classroom_support.columns import ColumnSpec, fit_columns
from classroom_support.first_frame import BLOCKING_CATEGORIES, routed_target
from classroom_support.i18n import tr, ui
from classroom_support.plain_read import QUEUE_VIEW_COLUMNS, QueuePage, TicketRow, age_text
from classroom_support.queue_sql import (
    OPEN_STATUSES,
    PRIORITIES,
    SORTS,
    STATUSES,
    QueueQuery,
)
from classroom_support.screens.base import AppScreen
from classroom_support.widgets import (
    BidiInput,
    HallHeader,
    LocalizedFooter,
    data_text,
    paragraph_text,
)
from classroom_support.widgets.sla_cell import clock_cell
from classroom_support.widgets.table import Table
from classroom_support.widgets.text import fit_text, runs_text

PAGE_SIZE = 100
# Status filter cycle: the open set, each status alone, then everything.
STATUS_FILTERS: tuple[tuple[str, ...], ...] = (
    OPEN_STATUSES,
    *((s,) for s in STATUSES),
    (),
)
PRIORITY_FILTERS: tuple[tuple[str, ...], ...] = ((), *((p,) for p in reversed(PRIORITIES)))
# Display order. A narrow terminal drops Age, then Channel, Assignee and Seat (columns.py);
# Ref, Time left, Problem, Priority and Status always stay, and Problem takes what is left.
# The Hall column is shown only on a desk over several halls (QueueScreen.columns).
QUEUE_COLUMNS = (
    ColumnSpec("ref", "field.ref", 7, 10),
    ColumnSpec("hall", "field.hall", 4, 8),
    ColumnSpec("age", "field.age", 5, 8, drop=1),
    ColumnSpec("due", "field.due", 9, 24, narrows=False),
    ColumnSpec("seat", "col.seat", 4, 7, drop=4),
    ColumnSpec("title", "field.title", 20, 20, flex=True),
    ColumnSpec("channel", "field.channel", 7, 11, drop=2),
    ColumnSpec("priority", "field.priority", 6, 8),
    ColumnSpec("status", "field.status", 7, 12),
    ColumnSpec("assignee", "field.assignee", 6, 12, drop=3),
)
LABELS = {c.key: c.label for c in QUEUE_COLUMNS}
CLASS_SOON_MINUTES = 60


def new_routed(ctx: Any, rows: list[TicketRow], target: str) -> set[str]:
    """The page's tickets routed to this desk and not opened since (routed.new_ids); before
    the desk is loaded, as the first frame read them."""
    if not getattr(ctx, "ready", True):
        return set(ctx.frame.new_routed)
    from classroom_support.routed import new_ids

    return new_ids(ctx.db, rows, target)


class QueueScreen(AppScreen[None]):
    CSS_PATH = None  # its rules are in app.tcss, parsed at start-up; the others load later
    AUTO_FOCUS = "#queue"
    BINDINGS = [
        Binding("n", "new_ticket", "key.new_ticket", id="new-ticket"),
        # Priority: it runs as the app reads the key, so the keys typed after it in the same
        # read (a fast typist, a laggy link) reach the search field, not the table. Not while
        # the field has focus (check_action): there "/" is text.
        Binding("slash", "search", "key.search", id="search", key_display="/", priority=True),
        Binding("f", "cycle_status", "key.filter_status", id="filter-status"),
        Binding("p", "cycle_priority", "key.filter_priority", id="filter-priority"),
        Binding("s", "cycle_sort", "key.sort", id="sort"),
        Binding("o", "reverse_sort", "key.reverse", id="reverse-sort", show=False),
        Binding(
            "right_square_bracket",
            "page(1)",
            "key.next_page",
            id="next-page",
            key_display="]",
            show=False,
        ),
        Binding(
            "left_square_bracket",
            "page(-1)",
            "key.prev_page",
            id="prev-page",
            key_display="[",
            show=False,
        ),
        # Only on a desk over several halls (check_action hides them on a hall laptop).
        Binding("h", "cycle_hall", "key.filter_hall", id="filter-hall"),
        Binding("H", "choose_hall", "key.choose_hall", id="choose-hall", show=False),
        Binding("c", "sessions", "key.sessions", id="sessions"),
        Binding("e", "escalations", "key.escalations", id="escalations"),
        Binding("b", "breaches", "key.breaches", id="breaches"),
        Binding("q", "trainee_qr", "key.trainee_qr", id="trainee-qr"),
        Binding("k", "knowledge_base", "key.kb", id="knowledge-base"),
        # The managers' charts; not in the footer for the same reason as refresh (F1, palette).
        Binding("g", "charts", "key.charts", id="charts", show=False),
        # Not in the footer: at 120 columns it is full, and this would push Quit and Help off.
        Binding("r", "refresh", "key.refresh", id="refresh-queue", show=False),
        Binding("escape", "clear_search", "key.clear_search", id="clear-search", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_state = QueueQuery(limit=PAGE_SIZE)
        self.status_filter = 0
        self.priority_filter = 0
        self.page: QueuePage | None = None
        self.last_saved = ""
        self.visible_tickets: dict[str, TicketRow] = {}
        self.new_routed: set[str] = set()  # ids on this page routed to this desk, not opened
        self.seen_generation = 0  # the database change generation this table shows
        self.resumed = False  # shown once: _on_screen_resume
        # A desk over several halls: None shows them all, a code shows that hall only.
        self.multi_hall = False
        self.hall_filter: str | None = None
        self.stale = False  # a reload was asked while covered: done when back on top
        # The page's rows not in the table yet (the first frame shows what fits: `reload`).
        self.pending_rows: list[tuple[TicketRow, dict[str, str | Content]]] = []

    def compose(self) -> ComposeResult:
        yield HallHeader(id="header")
        yield Static(id="queue-filters")
        yield BidiInput(placeholder=ui("queue.search_placeholder"), id="search", classes="hidden")
        yield Static(id="class-alert", classes="hidden")
        table: Table = Table(id="queue", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="queue-empty", classes="hidden")
        yield Static(id="queue-status")
        yield LocalizedFooter()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual styles a pushed screen's whole tree again when it first shows, though its
        # widgets were styled as they mounted a moment before (a theme or CSS change restyles
        # through App.refresh_css either way): ~15 ms before the first frame, for nothing.
        if not self.resumed:
            self.resumed = True
            event.refresh_styles = False
        super()._on_screen_resume(event)

    def _compositor_refresh(self) -> None:
        # A frame drawn while the app batches updates is dropped (App._display): Textual's
        # start-up drew the whole queue once inside its batch and again for the first frame
        # it sent. What is dirty stays dirty, and the frame after the batch draws it.
        if self.app._batch_count and self.is_current:
            return
        super()._compositor_refresh()

    def on_mount(self) -> None:
        self.follow_scope()
        self.populate()  # from plain sqlite3 on the first frame: app_start.on_ready goes on
        self.set_interval(60, self.tick_ages)  # ages move on
        self.set_interval(1, self.tick_countdowns)  # live SLA clocks, visible rows only
        self.set_interval(30, self.tick_class_alert)

    def populate(self) -> None:
        self.seen_generation = self.ctx.db.watcher().generation
        self.column_layout: list[tuple[str, int]] = []  # columns on screen: (key, width)
        self.fitted = 0  # the width the columns were fitted to
        search = self.query_one("#search", Input)
        search.value = self.query_state.search
        search.set_class(not self.query_state.search, "hidden")
        self.reload(keep_cursor=False)
        self.query_one("#queue", DataTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        # The columns fit the width: refit when it changed. The resizes that come with the
        # first layout (same width) would only build the same rows again, before the first
        # frame.
        if not self.rebuilding and self.page is not None and self.app.size.width != self.fitted:
            self.reload()

    # ------------------------------------------------------------------ data

    def follow_scope(self) -> None:
        """One hall: that hall's queue, as always. Several (the scope a sync brought down):
        every hall, or the one the hall filter picked."""
        multi = self.ctx.desk.multi_hall()
        if multi != self.multi_hall:
            self.multi_hall = multi
            self.hall_filter = None
            self.refresh_bindings()
        hall = self.hall_filter if multi else self.ctx.config.hall
        if hall != self.query_state.hall_code:
            self.query_state = self.first_page(hall_code=hall)
        target = routed_target(self.ctx.desk.scope().role)
        if target != self.query_state.routed_to:
            self.query_state = self.first_page(routed_to=target)

    @property
    def columns(self) -> tuple[ColumnSpec, ...]:
        if self.multi_hall:
            return QUEUE_COLUMNS
        return tuple(c for c in QUEUE_COLUMNS if c.key != "hall")

    def on_screen_resume(self) -> None:
        if self.stale:
            self.reload()

    def reload(self, keep_cursor: bool = True) -> None:
        if self.page is not None and self.covered():
            # Nothing of it is in sight (the sessions screen is on top, say): reading and
            # drawing a page now would only hold up the screen that is; back on top, it is.
            self.stale = True
            return
        self.stale = False
        # What this read shows: another writer's commit is caught by the next look, not
        # one already read here (the sessions screen's save, say) read a second time.
        self.seen_generation = self.ctx.db.watcher().poll()
        self._scope = None  # a sync may have changed this desk's role
        self.follow_scope()
        table = self.query_one("#queue", DataTable)
        selected = self.selected_ref() if keep_cursor else None
        page = self.ctx.desk.queue(self.query_state, QUEUE_VIEW_COLUMNS)
        if not page.rows and self.query_state.offset:  # the result shrank under us
            self.query_state = self.first_page()
            page = self.ctx.desk.queue(self.query_state, QUEUE_VIEW_COLUMNS)
        self.page = page
        self.new_routed = new_routed(self.ctx, page.rows, self.query_state.routed_to)
        now = self.ctx.clock.now()
        self.visible_tickets = {t.ref: t for t in page.rows}
        rows = [self.row_cells(t, now) for t in page.rows]
        self.set_layout(table, rows)  # fitted to the whole page, shown at once or not
        now_rows = list(zip(page.rows, rows, strict=True))
        self.pending_rows = []
        if not getattr(self.ctx, "ready", True) and selected is None:
            # The first frame (first_frame.py): the rows the screen can show; the rest
            # once it is painted (`add_pending_rows`). Keys and clicks wait for the real
            # desk meanwhile (app_start), so none reaches a row that is not in yet.
            shown = max(1, self.app.size.height)
            now_rows, self.pending_rows = now_rows[:shown], now_rows[shown:]
        self.add_rows(table, now_rows)
        if selected is not None and selected in {t.ref for t in page.rows}:
            table.move_cursor(row=table.get_row_index(selected))
        self.show_summary()
        self.refresh_class_alert()

    def add_rows(
        self, table: DataTable[object], rows: list[tuple[TicketRow, dict[str, str | Content]]]
    ) -> None:
        """Each ticket's cells cut to the columns, as rows."""
        for t, cells in rows:
            table.add_row(
                *(
                    cell if isinstance(cell, Content) else fit_text(cell, width)
                    for cell, width in ((cells[key], width) for key, width in self.column_layout)
                ),
                key=t.ref,
            )

    def add_pending_rows(self) -> None:
        """The rows of the page the first frame left out (`reload`)."""
        pending, self.pending_rows = self.pending_rows, []
        if pending:
            self.add_rows(self.query_one("#queue", DataTable), pending)

    def row_cells(self, t: TicketRow, now: datetime) -> dict[str, str | Content]:
        """Every column's text for one ticket, before the layout picks and cuts."""
        return {
            "ref": f"{tr('queue.new_mark')}{t.ref}" if t.id in self.new_routed else t.ref,
            "hall": t.hall_code,
            "age": age_text(t.created_at, now),
            "due": self.due_cell(t, now),
            "seat": t.seat,
            "title": t.title,
            "channel": tr(f"channel.{t.channel}"),
            "priority": tr(f"priority.{t.priority}"),
            "status": tr(f"status_short.{t.status}"),
            "assignee": t.assignee,
        }

    def set_layout(self, table: DataTable[object], rows: list[dict[str, str | Content]]) -> None:
        """Empty the table and fit the columns to the width and to what this page holds."""
        natural = {key: len(tr(label)) for key, label in LABELS.items()}
        for cells in rows:
            for key, cell in cells.items():
                size = cell.cell_length if isinstance(cell, Content) else len(cell)
                natural[key] = max(natural[key], size)
        self.fitted = self.app.size.width
        layout = fit_columns(self.columns, self.fitted, natural)
        if layout == self.column_layout:
            table.clear()
            return
        self.column_layout = layout
        table.clear(columns=True)
        for key, width in layout:
            table.add_column(fit_text(tr(LABELS[key]), width), key=key, width=width)

    # ------------------------------------------------------------------ SLA

    def due_cell(self, ticket: TicketRow, now: datetime) -> Content:
        sla = self.ctx.sla
        if not ticket.is_open:
            return Content("")
        return clock_cell(
            sla.headline(ticket, now),
            sla.calendar(ticket.hall_code),
            now,
            self.ctx.config.zone,
            moved_earlier=ticket.ref in sla.moved_earlier,
            level=ticket.escalation_level,
        )

    def tick_ages(self) -> None:
        if not self.rebuilding and not self.covered():
            self.reload()

    def tick_class_alert(self) -> None:
        if not self.rebuilding and not self.covered():
            self.refresh_class_alert()

    def follow_database(self) -> bool:
        """Reload when another writer (the CLI, a cron sync) committed since the last look: one
        `PRAGMA data_version` a second, the cursor kept on its ticket. True when it reloaded."""
        generation = self.ctx.db.watcher().poll()
        if generation == self.seen_generation:
            return False
        self.seen_generation = generation
        self.reload()
        return True

    def tick_countdowns(self) -> None:
        """Once a second, recompute the countdown of the rows on screen — and only those."""
        if self.rebuilding or not self.is_current or self.covered():
            return
        if self.follow_database() or not self.visible_tickets:
            return
        table = self.query_one("#queue", DataTable)
        if table.row_count == 0:
            return
        top = table.scroll_offset.y
        height = max(1, table.size.height - 1)  # minus the header row
        now = self.ctx.clock.now()
        for index in range(top, min(table.row_count, top + height)):
            row_key = table.coordinate_to_cell_key((index, 0)).row_key
            ticket = self.visible_tickets.get(str(row_key.value))
            if ticket is not None:
                cell = self.due_cell(ticket, now)
                # Repaint only what changed: an unchanged cell would still redraw the table.
                if str(cell) != str(table.get_cell(row_key, "due")):
                    if cell.cell_length > dict(self.column_layout).get("due", 0):
                        self.reload()  # e.g. the hall closed: "→ 10:00" needs more room
                        return
                    table.update_cell(row_key, "due", cell)

    def refresh_class_alert(self) -> None:
        """'Class starts in N minutes' when tickets that block the hall are still open."""
        alert = self.query_one("#class-alert", Static)
        upcoming = self.ctx.sessions.next_start()
        now = self.ctx.clock.now()
        if upcoming is None or upcoming.starts_at - now > timedelta(minutes=CLASS_SOON_MINUTES):
            alert.add_class("hidden")
            return
        refs = [t.ref for t in self.ctx.desk.blocking(self.ctx.config.hall, BLOCKING_CATEGORIES)]
        if not refs:
            alert.add_class("hidden")
            return
        minutes = max(0, int((upcoming.starts_at - now).total_seconds() // 60))
        alert.update(
            runs_text(
                "queue.class_soon",
                course=upcoming.course,
                minutes=minutes,
                count=len(refs),
                refs=", ".join(refs[:5]),
            )
        )
        alert.remove_class("hidden")

    def heading(self) -> str:
        """ "Open tickets" only when the filter shows the open ones; else what it shows."""
        statuses = self.query_state.statuses
        if statuses == OPEN_STATUSES:
            return tr("queue.title")
        if statuses and all(s not in OPEN_STATUSES for s in statuses):
            return tr("queue.title_closed")
        return tr("queue.title_any")

    def show_summary(self) -> None:
        page = self.page
        assert page is not None
        q = self.query_state
        status = (
            tr("queue.open")
            if q.statuses == OPEN_STATUSES
            else tr("queue.all")
            if not q.statuses
            else tr(f"status.{q.statuses[0]}")
        )
        priority = tr(f"priority.{q.priorities[0]}") if q.priorities else tr("queue.all")
        filters = tr(
            "queue.filters",
            status=status,
            priority=priority,
            sort=tr(f"queue.sort.{q.sort}"),
            direction=" ↓" if q.descending else " ↑",
        )
        if page.total:
            first, last = page.offset + 1, page.offset + len(page.rows)
            summary = tr("queue.summary", first=first, last=last, total=page.total)
        else:
            summary = ""
        if self.multi_hall:
            hall = q.hall_code or tr("queue.all_halls")
            filters = f"{tr('queue.hall_filter', hall=hall)} · {filters}"
        search = f" · /{q.search}" if q.search else ""
        self.query_one("#queue-filters", Static).update(
            # Cut in logical order to the line (a wrapped Arabic line would lose its start).
            data_text(
                self.filters_line(f"{self.heading()} · {filters}{search}", summary),
                limit=max(10, self.app.size.width - 3),
            )
        )
        empty = self.query_one("#queue-empty", Static)
        table = self.query_one("#queue", DataTable)
        if page.total == 0:
            unfiltered = q.statuses == OPEN_STATUSES and not q.priorities and not q.search
            if unfiltered:
                hint = tr("queue.empty_hint", key=self._new_ticket_key())
                title = tr("queue.empty_title_multi" if self.multi_hall else "queue.empty_title")
                message = f"{title}\n\n{hint}"
            else:
                message = tr("queue.no_match")
            empty.update(paragraph_text(message))
            empty.remove_class("hidden")
            table.add_class("hidden")
        else:
            empty.add_class("hidden")
            table.remove_class("hidden")
        parts = [tr("queue.new_routed", count=len(self.new_routed))] if self.new_routed else []
        if self.last_saved:
            parts.append(tr("queue.last_saved", ref=self.last_saved))
        self.query_one("#queue-status", Static).update(data_text(" · ".join(parts)))

    def filters_line(self, filters: str, summary: str) -> str:
        """The filters, then the page count: when the line is too long for the screen the
        filters are cut rather than the count ("1–32 of 32"); the pager aside after it goes
        first."""
        room = max(10, self.app.size.width - 3)
        line = f"{filters}   {summary}"
        count = summary.split(" (", 1)[0]
        if len(line) <= room or len(filters) + 3 + len(count) <= room:
            return line
        keep = max(1, room - 3 - len(count) - 1)
        return f"{filters[:keep].rstrip(' ·')}…   {count}"

    def selected_ref(self) -> str | None:
        table = self.query_one("#queue", DataTable)
        if table.row_count == 0:
            return None
        try:
            row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        except Exception:
            return None
        return str(row_key.value) if row_key.value is not None else None

    # ------------------------------------------------------------------ actions

    def action_refresh(self) -> None:
        self.ctx.db.watcher().poll()  # what is read now is the newest: skip the next auto-reload
        self.seen_generation = self.ctx.db.watcher().generation
        self.reload()
        self.notify(ui("queue.refreshed"))

    def _new_ticket_key(self) -> str:
        """The key the hint names: N, or what `[keymap] new-ticket` moved it to."""
        keys = self.ctx.config.keymap.get("new-ticket", "n")
        first = keys.split(",")[0].strip()
        return "+".join(p.upper() if len(p) == 1 else p.capitalize() for p in first.split("+"))

    def refusal(self, action: str) -> str | None:
        return self.role_refusal("created") if action == "new_ticket" else None

    def action_new_ticket(self) -> None:
        from classroom_support.screens.ticket_form import NewTicketScreen

        def saved(ref: str | None) -> None:
            if ref:
                self.last_saved = ref
                self.reload(keep_cursor=False)
                table = self.query_one("#queue", DataTable)
                if ref in {t.ref for t in (self.page.rows if self.page else [])}:
                    table.move_cursor(row=table.get_row_index(ref))
                self.notify(ui("queue.saved", ref=ref))
            self.query_one("#queue", DataTable).focus()

        self.app.push_screen(NewTicketScreen(hall=self.hall_filter), saved)

    @on(DataTable.RowSelected, "#queue")
    def open_ticket(self, event: DataTable.RowSelected) -> None:
        from classroom_support.routed import mark_opened
        from classroom_support.screens.ticket_detail import TicketDetailScreen

        ref = str(event.row_key.value)
        opened = self.visible_tickets.get(ref)
        if opened is not None and opened.id in self.new_routed:
            mark_opened(self.ctx.db, opened.id)  # no longer new (until routed again)
        self.app.push_screen(TicketDetailScreen(ref), lambda _: self.reload())

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.remove_class("hidden")
        self.set_focus(search)  # now, not after the keys already read (Widget.focus waits)

    @on(Input.Submitted, "#search")
    def apply_search(self, event: Input.Submitted) -> None:
        self.query_state = self.first_page(search=event.value)
        self.reload(keep_cursor=False)
        if not event.value:
            event.input.add_class("hidden")
        self.query_one("#queue", DataTable).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        search.add_class("hidden")
        if self.query_state.search:
            self.query_state = self.first_page(search="")
            self.reload(keep_cursor=False)
        self.query_one("#queue", DataTable).focus()

    def action_cycle_status(self) -> None:
        self.status_filter = (self.status_filter + 1) % len(STATUS_FILTERS)
        self.query_state = self.first_page(statuses=STATUS_FILTERS[self.status_filter])
        self.reload(keep_cursor=False)

    def action_cycle_priority(self) -> None:
        self.priority_filter = (self.priority_filter + 1) % len(PRIORITY_FILTERS)
        self.query_state = self.first_page(priorities=PRIORITY_FILTERS[self.priority_filter])
        self.reload(keep_cursor=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search" and self.focused is not None and self.focused.id == "search":
            return False  # typing in the field: "/" is a character of the search
        if action in ("cycle_hall", "choose_hall"):
            return self.multi_hall  # False: not a key of a one-hall desk at all
        if action == "new_ticket" and self.role_refusal("created"):
            return None  # dimmed: a manager desk does not file tickets
        return True

    def action_cycle_hall(self) -> None:
        """All halls → each hall in the scope → all halls."""
        order: list[str | None] = [None, *self.ctx.desk.scope_halls()]
        current = order.index(self.hall_filter) if self.hall_filter in order else 0
        self.set_hall_filter(order[(current + 1) % len(order)])

    def action_choose_hall(self) -> None:
        from classroom_support.screens.prompts import TextPrompt

        halls = self.ctx.desk.scope_halls()

        def chosen(code: str | None) -> None:
            if code is None:
                return
            code = code.strip().upper()
            if not code:
                self.set_hall_filter(None)
                return
            match = [h for h in halls if h.upper() == code] or [
                h for h in halls if h.upper().startswith(code)
            ]
            if len(match) != 1:
                self.notify(
                    data_text(tr("queue.hall_unknown", hall=code, halls=", ".join(halls))),
                    severity="warning",
                )
                self.app.bell()
                return
            self.set_hall_filter(match[0])

        self.app.push_screen(
            TextPrompt(
                tr("queue.hall_prompt", halls=", ".join(halls)), initial=self.hall_filter or ""
            ),
            chosen,
        )

    def set_hall_filter(self, hall: str | None) -> None:
        self.hall_filter = hall
        self.query_state = self.first_page(hall_code=hall)
        self.reload(keep_cursor=False)

    def action_cycle_sort(self) -> None:
        index = (SORTS.index(self.query_state.sort) + 1) % len(SORTS)
        self.query_state = self.first_page(sort=SORTS[index])
        self.reload(keep_cursor=False)

    def action_reverse_sort(self) -> None:
        self.query_state = self.first_page(descending=not self.query_state.descending)
        self.reload(keep_cursor=False)

    def first_page(self, **changes: object) -> QueueQuery:
        """The query with `changes`, from its first page."""
        fresh = self.query_state._replace(offset=0, after=None, before=None, last=False)
        return fresh._replace(**changes)  # type: ignore[arg-type]

    def action_page(self, step: int) -> None:
        """The next or previous page: read after the last row's key or before the first's,
        so a far page costs what the first does (queue_sql.py)."""
        page = self.page
        if page is None:
            return
        q = self.query_state
        if step > 0 and page.rows and page.offset + len(page.rows) < page.total:
            q = q._replace(offset=q.offset + PAGE_SIZE, after=page.last_key, before=None)
        elif step < 0 and q.offset > 0:
            offset = max(0, q.offset - PAGE_SIZE)
            q = q._replace(offset=offset, after=None, before=page.first_key if offset else None)
        else:
            self.app.bell()
            return
        self.query_state = q
        self.reload(keep_cursor=False)

    def action_sessions(self) -> None:
        from classroom_support.screens.sessions import SessionsScreen

        self.app.push_screen(SessionsScreen(), lambda _: self.reload())

    def action_trainee_qr(self) -> None:
        from classroom_support.screens.trainee_qr import TraineeScreen

        self.app.push_screen(TraineeScreen())

    def action_knowledge_base(self) -> None:
        from classroom_support.screens.kb import KnowledgeBaseScreen

        self.app.push_screen(KnowledgeBaseScreen())

    def action_escalations(self) -> None:
        from classroom_support.screens.sla_screens import EscalationsScreen

        self.app.push_screen(EscalationsScreen(), lambda _: self.reload())

    def action_charts(self) -> None:
        from classroom_support.screens.charts import ChartsScreen

        self.app.push_screen(ChartsScreen())

    def action_breaches(self) -> None:
        from classroom_support.screens.sla_screens import BreachLedgerScreen

        self.app.push_screen(BreachLedgerScreen(), lambda _: self.reload())
