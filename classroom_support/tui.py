"""Building the TUI app for `classroom-support` (and `bench/startup_child.py`, which times it).

On the queue, the first frame is painted from plain `sqlite3` (first_frame.py) and the real
context, with the ORM, the SLA monitor and the sync client, is opened in a worker after it;
when the first-frame reader declines (schema to migrate, a leftover -wal, ...), and for the QR
screens and the demo, the context is opened first, as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classroom_support.app import ClassroomSupportApp
    from classroom_support.clock import Clock


def make_app(
    config_path: Path | str | None,
    db_path: Path | str | None,
    language: str | None = None,
    *,
    start: str = "queue",
    fast: bool = True,
    clock: Clock | None = None,
    **app_options: Any,
) -> ClassroomSupportApp:
    """The app on this config and database. Raises ConfigError, DatabaseError (normal path)."""
    from classroom_support.app import ClassroomSupportApp
    from classroom_support.context import AppContext, load_settings, open_context
    from classroom_support.first_frame import FirstFrameContext, read_first_frame
    from classroom_support.screens.queue import PAGE_SIZE

    config, paths = load_settings(config_path, db_path, language)
    frame = None
    if fast and start == "queue":
        frame = read_first_frame(config, paths, limit=PAGE_SIZE, clock=clock)
    if frame is None:
        ctx = open_context(config_path, db_path, clock=clock, language=language)
        return ClassroomSupportApp(ctx, start=start, **app_options)
    first_clock = frame.clock

    def open_real() -> AppContext:
        return open_context(config_path, db_path, clock=first_clock, language=language)

    return ClassroomSupportApp(
        FirstFrameContext(frame, config, paths),
        start=start,
        open_context=open_real,
        **app_options,
    )
