"""The times of pushed events, as the server stores them: never in the server's future, and
shifted by the pushing laptop's measured clock offset when the laptop did not correct them.

The laptop sends its own clock (`X-Client-Time`, its system clock when the request left); the
offset is the server's receive time minus that. A laptop that knows its offset corrects the
events it records and says so (`device_time` in the payload); events without it carry the
laptop's raw clock (recorded before its first sync, or on another boot) and are shifted by the
offset when it is above the tolerance. Whatever is changed keeps the original in the payload
(`device_occurred_at`, `device_hlc`), and the push answer carries the stored copy (`canonical`)
so the laptop takes it and both sides fold the same ticket. See docs/sync-protocol.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from classroom_support.clock import DEVICE_TIME_KEY
from classroom_support.hlc import HLC
from classroom_support.syncwire import iso, parse_time

# Above this the offset is a wrong clock, not the way there: the one-way trip of a push,
# however slow the link, ends within the client's 30 s write timeout.
OFFSET_TOLERANCE = timedelta(seconds=60)
DEVICE_OCCURRED_KEY = "device_occurred_at"
DEVICE_HLC_KEY = "device_hlc"


def client_offset(client_time: str | None, received_at: datetime) -> timedelta:
    """How far the pushing laptop's raw clock is behind ours (zero when unknown or within the
    tolerance). A header that does not parse counts as unknown: nothing is shifted."""
    if not client_time or len(client_time) > 64:
        return timedelta(0)
    try:
        sent = parse_time(client_time.strip())
    except (ValueError, OverflowError):
        return timedelta(0)
    offset = received_at - sent
    return offset if abs(offset) > OFFSET_TOLERANCE else timedelta(0)


class EventTimes:
    """Server times for the events of one push, in the order the laptop sent them."""

    def __init__(self, offset: timedelta, received_at: datetime) -> None:
        self.offset = offset
        self.received_at = received_at
        self.received_ms = int(received_at.timestamp() * 1000)
        self._last: dict[str, tuple[HLC, HLC]] = {}  # device -> (its stamp, what we made of it)

    def adjust(self, wire: Mapping[str, Any]) -> Mapping[str, Any]:
        """`wire` itself when its times stand, else a copy with the server's times."""
        payload = wire["payload"]
        occurred = parse_time(wire["occurred_at"])
        original = HLC.decode(str(wire["hlc"]))
        # Corrected by the laptop, or by a server before (resent after a restore): not again.
        settled = DEVICE_TIME_KEY in payload or DEVICE_OCCURRED_KEY in payload
        shift = timedelta(0) if settled else self.offset
        try:
            shifted = occurred + shift
        except OverflowError:  # a clock set to year 9999 says nothing about this event
            shift, shifted = timedelta(0), occurred
        wall = original.wall_ms + int(shift.total_seconds() * 1000)
        if wall < 0:
            shift, shifted, wall = timedelta(0), occurred, original.wall_ms
        new_occurred = min(shifted, self.received_at)
        wall = min(wall, self.received_ms)
        stamp = HLC(wall, original.counter) if wall != original.wall_ms else original
        device = str(wire["device_id"])
        last = self._last.get(device)
        if last is not None and original > last[0] and stamp <= last[1]:
            # Clamping must not reorder one device's events: the next stamp after the last.
            stamp = HLC(last[1].wall_ms, last[1].counter + 1)
        self._last[device] = (original, stamp)
        if new_occurred == occurred and stamp == original:
            return wire
        return {
            **wire,
            "occurred_at": new_occurred,
            "hlc": stamp.encode(),
            # The first originals are kept when a server already changed this event.
            "payload": {
                DEVICE_OCCURRED_KEY: iso(occurred),
                DEVICE_HLC_KEY: original.encode(),
                **payload,
            },
        }
