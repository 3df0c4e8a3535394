"""The TUI's garbage-collection policy: no full collection while the technician is working.

CPython's cyclic collector walks every tracked object in a full (generation 2) collection,
and it stops every thread while it does. With the start-up's modules, styles, widgets and the
SLA tables of 20,000 open tickets, that was 60-250 ms: a frozen frame in the middle of a save
(bench/edit_frames.py --trace lists the collector's pauses). So:

- `hold()` keeps the collector off from before the TUI's imports until the first frame is
  sent (`release()`): start-up builds tens of thousands of objects that live as long as the
  app, and CPython walked them in ~150 collections (~40 ms) before the queue was painted.
  The few thousand start-up objects that are garbage wait for the first collection after it.
- `settle()` moves what start-up built out of the collector's way (`gc.freeze`). Those objects
  are still freed by reference counting; only a reference cycle among them would stay.
- `configure()` lets a full collection start on its own only after many more young ones
  (`FULL_AFTER` generation-1 collections instead of CPython's 10): the young generations,
  which are quick, run as before.
- `collect_when_idle()` runs the full collection instead when nobody has pressed a key or
  clicked for `IDLE_S`, once enough has been allocated to be worth it (`IDLE_MIN_GEN1`).

Headless: the app calls these (app.py); nothing here knows Textual.
"""

from __future__ import annotations

import gc

FULL_AFTER = 100  # generation-1 collections before a full one starts by itself
IDLE_S = 1.0  # no key or click for this long: a full collection goes unnoticed
# ...once this many generation-1 collections ran since the last full one (CPython's own
# cadence): collected often, each collection stays short.
IDLE_MIN_GEN1 = 10


def hold() -> None:
    gc.disable()


def release() -> None:
    gc.enable()


def settle() -> None:
    gc.freeze()


def configure() -> None:
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_AFTER)


def collect_when_idle(idle_for: float) -> bool:
    """A full collection if the user has been idle long enough and it is worth it."""
    if idle_for < IDLE_S or gc.get_count()[2] < IDLE_MIN_GEN1:
        return False
    gc.collect()
    return True
