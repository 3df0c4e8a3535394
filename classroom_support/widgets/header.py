"""The top bar: institute, hall, the course in session now, local time, and the sync state."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from classroom_support.i18n import language, tr, ui
from classroom_support.permissions import HALL, DeviceScope, scope_from_text, scope_label
from classroom_support.widgets.sync_indicator import sync_indicator_text
from classroom_support.widgets.text import data_text


class HallHeader(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static(id="header-hall")
        yield Static(id="header-session")
        yield Static(id="header-time")
        yield Static(id="header-sync")

    def on_mount(self) -> None:
        self.refresh_header()
        self.set_interval(1.0, self.refresh_header)

    def refresh_header(self) -> None:
        ctx = self.app.ctx  # type: ignore[attr-defined]
        config = ctx.config
        hall = config.this_hall
        arabic = language() == "ar"
        name = hall.name_ar if arabic and hall.name_ar else hall.name
        institute = config.institute_name_ar if arabic else config.institute_name
        status = getattr(self.app, "sync_status", lambda: None)()
        scope = desk_scope(status)
        if scope.known and scope.role != HALL:  # a hall desk shows its hall, as always
            name = scope_label(scope)
        self.query_one("#header-hall", Static).update(data_text(f"{institute} · {name}"))
        current = ctx.sessions.current()
        if current is None:
            session_text = tr("header.no_session")
        else:
            end = current.ends_at.astimezone(config.zone).strftime("%H:%M")
            session_text = tr("header.session", course=current.course, end=end)
        self.query_one("#header-session", Static).update(data_text(session_text))
        now = ctx.clock.now().astimezone(config.zone)
        self.query_one("#header-time", Static).update(now.strftime("%Y-%m-%d %H:%M"))
        text = sync_indicator_text(status, getattr(self.app, "sync_progress", None), config.zone)
        sync = self.query_one("#header-sync", Static)
        sync.update(ui("header.offline") if text is None else data_text(text))
        sync.set_class(text is not None and status is not None and status.online, "-online")


def desk_scope(status: object) -> DeviceScope:
    """The device's role and halls as the last sync left them (a hall desk until then)."""
    if status is None:
        return DeviceScope()
    halls = str(getattr(status, "halls", ""))
    all_halls = bool(getattr(status, "all_halls", False))
    role = str(getattr(status, "role", HALL))
    return scope_from_text(role, halls, all_halls, known=all_halls or bool(halls))
