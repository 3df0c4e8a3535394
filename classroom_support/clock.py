"""One clock for the whole product: production asks the system, tests step a fixed one."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple, Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (tests, snapshots, what-if tools)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


def utc(dt: datetime) -> datetime:
    """Normalise to aware UTC; naive datetimes are taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# --------------------------------------------------------------------------- corrected clock

# Below this the laptop's clock is left alone: the offset is measured NTP-style (midpoint of a
# request), so its error is ±RTT/2 — milliseconds on a hall's network, never near two seconds.
CORRECTION_THRESHOLD_MS = 2_000
# Payload key of an event recorded on a corrected clock: the device's own (raw) time. Its
# presence tells the central server that `occurred_at` is already corrected.
DEVICE_TIME_KEY = "device_time"
CLOCK_ANCHOR_KEY = "clock_anchor"  # the laptop's `meta` row holding the last ClockAnchor


def _boot_id() -> str:
    """Which boot the steady clock counts from; a fresh id per process where unknown."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return f"process-{uuid.uuid4()}"


def _steady_seconds() -> float:
    """A clock no one sets: counts on through suspend (Linux BOOTTIME), never steps."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        return time.clock_gettime(boottime)
    return time.monotonic()


class ClockAnchor(NamedTuple):
    """One measurement against the central server: its time, and our steady clock then."""

    server_at: datetime  # the server's clock at the midpoint of the request
    steady: float  # our steady clock (seconds) at the same moment
    boot_id: str  # the steady clock means nothing across a reboot
    skew_ms: int  # server minus our system clock
    error_ms: int  # half the round trip: the measurement's error bound

    def to_json(self) -> str:
        data = self._asdict()
        data["server_at"] = self.server_at.isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ClockAnchor | None:
        try:
            data = json.loads(text)
            return cls(
                server_at=utc(datetime.fromisoformat(data["server_at"])),
                steady=float(data["steady"]),
                boot_id=str(data["boot_id"]),
                skew_ms=int(data["skew_ms"]),
                error_ms=int(data["error_ms"]),
            )
        except (ValueError, TypeError, KeyError):
            return None


class CorrectedClock:
    """The system clock, corrected by the offset last measured against the central server.

    Once anchored, now() is the server's time at the measurement plus the steady clock's
    elapsed time since, so a system clock set (or fixed) after the measurement does not move
    it. Without an anchor (never synced, |offset| under the threshold, another boot) it is the
    system clock. `device_time()` is always the uncorrected system clock."""

    def __init__(
        self,
        system: Clock | None = None,
        *,
        steady: Callable[[], float] | None = None,
        boot_id: str | None = None,
        threshold_ms: int = CORRECTION_THRESHOLD_MS,
    ) -> None:
        self.system = system or SystemClock()
        self.steady = steady or _steady_seconds
        self.boot_id = boot_id if boot_id is not None else _boot_id()
        self.threshold_ms = threshold_ms
        self.anchor: ClockAnchor | None = None

    def now(self) -> datetime:
        anchor = self.anchor
        if anchor is None:
            return self.system.now()
        return anchor.server_at + timedelta(seconds=self.steady() - anchor.steady)

    def device_time(self) -> datetime:
        return self.system.now()

    @property
    def corrected(self) -> bool:
        return self.anchor is not None

    def use(self, anchor: ClockAnchor | None) -> bool:
        """Correct by `anchor` when it is from this boot and off by more than the threshold
        (and by more than its own error); otherwise run on the system clock. True if used."""
        if (
            anchor is None
            or anchor.boot_id != self.boot_id
            or abs(anchor.skew_ms) <= max(self.threshold_ms, anchor.error_ms)
        ):
            self.anchor = None
            return False
        self.anchor = anchor
        return True


def device_clock(clock: Clock) -> Clock:
    """The clock the device itself shows (what a skew is measured against)."""
    return clock.system if isinstance(clock, CorrectedClock) else clock


def steady_clock(clock: Clock) -> Callable[[], float]:
    return clock.steady if isinstance(clock, CorrectedClock) else _steady_seconds
