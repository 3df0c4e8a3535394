"""Hybrid logical clock stamps: ordered like wall time, never go backwards on one device."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class HLC:
    wall_ms: int
    counter: int

    def encode(self) -> str:
        """A fixed-width string whose sort order is the clock's order."""
        return f"{self.wall_ms:013d}-{self.counter:05d}"

    @classmethod
    def decode(cls, text: str) -> HLC:
        wall, counter = text.split("-")
        return cls(int(wall), int(counter))


def tick(last: HLC, physical_ms: int) -> HLC:
    """The stamp for a local event after `last`, given the physical clock now."""
    if physical_ms > last.wall_ms:
        return HLC(physical_ms, 0)
    return HLC(last.wall_ms, last.counter + 1)


def receive(last: HLC, remote: HLC, physical_ms: int) -> HLC:
    """Merge a stamp seen from another device, so later local events sort after it."""
    wall = max(last.wall_ms, remote.wall_ms, physical_ms)
    if wall == last.wall_ms == remote.wall_ms:
        counter = max(last.counter, remote.counter) + 1
    elif wall == last.wall_ms:
        counter = last.counter + 1
    elif wall == remote.wall_ms:
        counter = remote.counter + 1
    else:
        counter = 0
    return HLC(wall, counter)
