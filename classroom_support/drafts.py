"""The new-ticket form's crash-safe draft: a small JSON file beside the database.

The form writes what is typed (a moment after the last key, and at once when a save fails) so
that even a killed app, a power cut or a full disk that outlasts the session leaves the typed
ticket behind; the next time the form opens it comes back. Written as a temporary file,
fsynced, renamed over the old one and the folder fsynced: a reader sees the old draft or the
new one, never half of one. Removed once the ticket is saved or the text discarded.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classroom_support.db_files import fsync_path

DRAFT_VERSION = 1


def draft_path(database: Path) -> Path:
    return Path(f"{database}.ticket-draft.json")


class TicketDraftFile:
    def __init__(self, database: Path) -> None:
        self.path = draft_path(database)

    def keep(self, values: dict[str, str], now: datetime | None = None) -> bool:
        """Write the draft durably; False (and the old draft intact) when the disk refuses."""
        record = {
            "version": DRAFT_VERSION,
            "saved_at": (now or datetime.now(UTC)).isoformat(),
            "values": values,
        }
        data = json.dumps(record, ensure_ascii=False).encode("utf-8")
        folder = self.path.parent
        try:
            fd, name = tempfile.mkstemp(prefix=".draft-", suffix=".tmp", dir=folder)
        except OSError:
            return False
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(name, self.path)
            fsync_path(folder)
        except OSError:
            Path(name).unlink(missing_ok=True)
            return False
        return True

    def load(self) -> dict[str, Any] | None:
        """The kept draft ({"saved_at", "values"}), or None when there is none or it is not
        one of ours (a damaged draft is never worth a crash)."""
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        values = record.get("values") if isinstance(record, dict) else None
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            return None
        return {"saved_at": str(record.get("saved_at", "")), "values": values}

    def clear(self) -> None:
        with contextlib.suppress(OSError):  # a read-only disk: the next successful save clears it
            self.path.unlink(missing_ok=True)


def local_time(stamp: str, zone: Any) -> str:
    """When a draft was kept, for the message that offers it back."""
    try:
        return datetime.fromisoformat(stamp).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return "?"
