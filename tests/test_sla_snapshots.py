"""Snapshots of the SLA views with a fixed clock: mixed states, escalations, ledger, the 'why'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from classroom_support.app import ClassroomSupportApp
from classroom_support.clock import FixedClock
from classroom_support.sessions import SessionDraft
from classroom_support.tickets import TicketDraft

SIZE = (120, 36)
RIYADH = ZoneInfo("Asia/Riyadh")
NOW = datetime(2026, 11, 28, 10, 30, tzinfo=RIYADH)  # the fixtures' fixed instant


def mixed_states(app: ClassroomSupportApp) -> None:
    """One ticket in each SLA state, created by stepping the clock back and forth."""
    ctx = app.ctx
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    ctx.sessions.add(SessionDraft("Python 101", "Omar", "2026-11-28", "17:00", "21:00"))

    def at(days: float, title: str, **kw: Any) -> str:
        clock.set(NOW - timedelta(days=days))
        return ctx.desk.create(TicketDraft(title=title, **kw)).ref

    at(0.01, "On track: new projector cable", category="av", seat="3")
    at(6.9, "Warning: Wi-Fi drops every hour", category="network", seat="12")
    breached = at(12, "Breached and escalated: PC 7 dead", category="pc", priority="high")
    paused = at(1, "Paused: waiting for the trainee's login", category="login")
    met = at(2, "Met: platform password reset", category="platform")
    clock.set(NOW - timedelta(days=0.9))
    ctx.desk.pause(paused, "trainee left the hall")
    clock.set(NOW - timedelta(days=1.9))
    ctx.desk.respond(met, "reset sent")
    clock.set(NOW - timedelta(days=1))
    ctx.desk.respond(breached, "late answer")
    clock.set(NOW)
    ctx.sla.run()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_queue_with_mixed_sla_states(
    snap_compare: Any, make_app: Callable[..., ClassroomSupportApp], language: str
) -> None:
    app = make_app(language=language)
    mixed_states(app)
    assert snap_compare(app, terminal_size=SIZE)


def test_escalations_screen(
    snap_compare: Any, make_app: Callable[..., ClassroomSupportApp]
) -> None:
    app = make_app()
    mixed_states(app)
    assert snap_compare(app, terminal_size=SIZE, press=["e"])


def test_breach_ledger(snap_compare: Any, make_app: Callable[..., ClassroomSupportApp]) -> None:
    app = make_app()
    mixed_states(app)
    assert snap_compare(app, terminal_size=SIZE, press=["b"])


@pytest.mark.parametrize("language", ["en", "ar"])
def test_detail_why(
    snap_compare: Any, make_app: Callable[..., ClassroomSupportApp], language: str
) -> None:
    app = make_app(language=language)
    mixed_states(app)
    # The warning ticket is second oldest; open it.
    assert snap_compare(app, terminal_size=SIZE, press=["down", "enter"])
