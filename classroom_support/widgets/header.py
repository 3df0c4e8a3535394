"""The top bar: institute, hall, the course in session now, local time, and the sync state."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from classroom_support.i18n import language, tr, ui
from classroom_support.permissions import HALL, DeviceScope, scope_from_text, scope_label
from classroom_support.widgets.sync_indicator import sync_indicator_text
from classroom_support.widgets.text import composed_text, data_text, runs_text

MIN_COURSE_CELLS = 8  # fewer cells of a course name say nothing


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
        hall_text = composed_text([institute, name])
        self.query_one("#header-hall", Static).update(hall_text)
        now = ctx.clock.now().astimezone(config.zone)
        time_text = now.strftime("%Y-%m-%d %H:%M")
        self.query_one("#header-time", Static).update(time_text)
        text = sync_indicator_text(status, getattr(self.app, "sync_progress", None), config.zone)
        sync_text = ui("header.offline") if text is None else data_text(text)
        sync = self.query_one("#header-sync", Static)
        sync.update(sync_text)
        sync.set_class(text is not None and status is not None and status.online, "-online")
        # The course takes what the others leave (each pads by one cell either side).
        room = (
            (self.size.width or self.app.size.width)
            - 2 * 4
            - sum(cell_len(str(t)) for t in (hall_text, time_text, sync_text))
        )
        session = self.query_one("#header-session", Static)
        session.update(course := self.session_text(room))
        # An empty course still pads: at 80 columns those two cells cut the sync state.
        session.set_class(not course.plain, "-empty")

    def session_text(self, room: int) -> Content:
        """The course in session, cut to `room` cells in logical order (so an Arabic name keeps
        its beginning) with an ellipsis; only the course name when the sentence does not fit,
        nothing when not even a few letters would: never a lone bracket."""
        ctx = self.app.ctx  # type: ignore[attr-defined]
        current = ctx.sessions.current()
        if current is None:
            candidates = [(tr("header.no_session"), data_text(tr("header.no_session")))]
        else:
            end = current.ends_at.astimezone(ctx.config.zone).strftime("%H:%M")
            # The course is a run of its own: a Latin name keeps its brackets and its place.
            candidates = [
                (
                    tr("header.session", course=current.course, end=end),
                    runs_text("header.session", course=current.course, end=end),
                ),
                (current.course, data_text(current.course)),
            ]
        for plain, shown in candidates:
            if len(plain) <= room:
                return shown
        if current is None or room < MIN_COURSE_CELLS:
            return Content("")
        return data_text(current.course, limit=room - 1)

    def on_resize(self) -> None:
        self.refresh_header()


def desk_scope(status: object) -> DeviceScope:
    """The device's role and halls as the last sync left them (a hall desk until then)."""
    if status is None:
        return DeviceScope()
    halls = str(getattr(status, "halls", ""))
    all_halls = bool(getattr(status, "all_halls", False))
    role = str(getattr(status, "role", HALL))
    return scope_from_text(role, halls, all_halls, known=all_halls or bool(halls))
