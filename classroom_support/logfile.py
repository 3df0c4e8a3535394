"""The plain log file shared by the TUI and the cron-run `sync`: one place to look afterwards."""

from __future__ import annotations

import logging
from pathlib import Path

LOG_FILENAME = "classroom-support.log"
_MARK = "_classroom_support_log"


def start_log(log_dir: Path) -> None:
    """Append this process's `classroom_support` log records to the log file. One file per
    process: a later call (another --db in the same process, as tests do) replaces the first."""
    target = (log_dir / LOG_FILENAME).resolve()
    root = logging.getLogger("classroom_support")
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            if Path(getattr(handler, "baseFilename", "")) == target:
                return
            root.removeHandler(handler)
            handler.close()
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        new: logging.Handler = logging.FileHandler(target, encoding="utf-8")
    except OSError:
        return  # a read-only home must not stop the desk (or a cron sync) from working
    setattr(new, _MARK, True)
    new.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(new)
    root.setLevel(logging.INFO)
