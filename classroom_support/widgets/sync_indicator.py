"""The header's sync indicator: online/offline from the last sync result (never guessed), the
last successful sync, what waits in the outbox, parked items, clock skew, and progress."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from classroom_support.i18n import tr

if TYPE_CHECKING:
    from classroom_support.sync_status import SyncStatus


def sync_indicator_text(
    status: SyncStatus | None, progress: tuple[str, int, int] | None, zone: Any
) -> str | None:
    """The indicator in logical order, or None when sync is not set up (the header then keeps
    its 'sync not set up' text)."""
    if status is None or not status.configured:
        return None
    if progress is not None:
        phase, done, total = progress
        text = tr(f"header.syncing_{phase}", done=done, total=total)
    elif status.last_result == "never":
        text = tr("header.sync_never")
    else:
        when = (
            status.last_success_at.astimezone(zone).strftime("%H:%M")
            if status.last_success_at
            else "—"
        )
        text = tr("header.sync_online" if status.online else "header.sync_offline", time=when)
    if status.pending:
        text += tr("header.sync_pending", count=status.pending_text)
    if status.parked:
        text += tr("header.sync_parked", count=status.parked)
    if status.skew_warning and status.skew_ms is not None:
        text += tr("header.sync_skew", minutes=round(abs(status.skew_ms) / 60_000))
    return text
