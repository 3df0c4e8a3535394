"""What ran on the UI thread during a frame gap: bench/edit_frames.py --trace.

Wraps the methods a calendar edit's path goes through (the save, the recompute's steps and
result, the queue's reload and ticks, the header, Textual's layout refresh) with a wall-clock
and a thread-CPU timer, and records the cyclic garbage collector's pauses the same way. For a
gap, the phases that overlap it, summed: wall time far above CPU time means the thread waited
(for the GIL, or for a core on a loaded machine); CPU time close to the gap means the UI thread
itself was busy. The timers cost a few microseconds a call, so the traced run's gaps are a
little longer than an untraced one's: read the phases, not the gap.
"""

from __future__ import annotations

import functools
import gc
import itertools
import threading
import time
from collections.abc import Iterable
from typing import Any

# (label, thread name, start, wall s, thread CPU s, nesting depth)
Phase = tuple[str, str, float, float, float, int]


class FrameTrace:
    def __init__(self) -> None:
        self.phases: list[Phase] = []
        self._depth = threading.local()
        self._gc_start = (0.0, 0.0)

    def wrap(self, cls: type, names: Iterable[str]) -> None:
        for name in names:
            self._wrap(cls, name)

    def _wrap(self, cls: type, name: str) -> None:
        original = getattr(cls, name)
        label = f"{cls.__name__}.{name}"
        phases = self.phases
        local = self._depth

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(local, "d", 0)
            local.d = depth + 1
            t0 = time.perf_counter()
            c0 = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                local.d = depth
                wall = time.perf_counter() - t0
                cpu = time.thread_time() - c0
                phases.append((label, threading.current_thread().name, t0, wall, cpu, depth))

        setattr(cls, name, timed)

    def install(self) -> None:
        from textual.screen import Screen
        from textual.widgets import DataTable

        from classroom_support.app import ClassroomSupportApp
        from classroom_support.due_recompute import DueRecompute
        from classroom_support.monitor import SlaService
        from classroom_support.screens.queue import QueueScreen
        from classroom_support.screens.sessions import SessionForm, SessionsScreen
        from classroom_support.sessions import SessionBook
        from classroom_support.tickets import TicketDesk
        from classroom_support.widgets.header import HallHeader

        self.wrap(ClassroomSupportApp, ("on_calendar_result", "refresh_queue", "notify"))
        self.wrap(
            QueueScreen,
            ("reload", "refresh_class_alert", "tick_countdowns", "tick_ages", "due_cell"),
        )
        self.wrap(SessionsScreen, ("reload", "saved"))
        self.wrap(SessionForm, ("save_now",))
        self.wrap(SessionBook, ("add", "upcoming", "current", "overlapping"))
        self.wrap(TicketDesk, ("queue",))
        self.wrap(SlaService, ("calendar_changed", "begin_recompute", "finish_recompute"))
        self.wrap(DueRecompute, ("step",))
        self.wrap(HallHeader, ("refresh_header",))
        self.wrap(DataTable, ("clear", "add_row"))
        self.wrap(Screen, ("_refresh_layout",))
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        """The cyclic garbage collector's pauses, as phases of the thread that ran them."""
        if phase == "start":
            self._gc_start = (time.perf_counter(), time.thread_time())
            return
        t0, c0 = self._gc_start
        label = f"gc collect gen{info['generation']}"
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        depth = getattr(self._depth, "d", 0)
        self.phases.append((label, threading.current_thread().name, t0, wall, cpu, depth))

    def report(self, gap: tuple[float, float], top: int = 8) -> list[str]:
        """The phases overlapping the gap (a, b), summed by thread, name and depth."""
        a, b = gap
        summed: dict[tuple[str, str, int], list[float]] = {}
        for label, thread, t0, wall, cpu, depth in self.phases:
            if t0 < b and t0 + wall > a:
                key = ("ui" if thread == "MainThread" else "worker", label, depth)
                entry = summed.setdefault(key, [0, 0.0, 0.0])
                entry[0] += 1
                entry[1] += wall
                entry[2] += cpu
        lines = []
        ranked = sorted(summed.items(), key=lambda kv: -kv[1][1])[:top]
        for (thread, label, depth), (n, wall, cpu) in ranked:
            lines.append(
                f"      {thread:<6} {'  ' * depth}{label:<36} x{int(n):<5} "
                f"wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms"
            )
        return lines


def longest_gap(frames: list[float], start: float, end: float) -> tuple[float, float]:
    inside = [start, *(t for t in frames if start <= t <= end), end]
    return max(itertools.pairwise(inside), key=lambda ab: ab[1] - ab[0])
