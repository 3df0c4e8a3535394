"""Sync through a faulty link (tests/fault_proxy.py in front of the real server): requests lost
before the server, answers lost after it committed, resets, truncation, delays past the
timeout, 5xx and 429. Afterwards: nothing lost, nothing doubled, every side identical."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fault_proxy import FaultyProxy
from postgres_support import ENGINES
from sync_support import (
    Central,
    assert_converged,
    connect,
    laptop_config,
    laptop_events,
    pin,
    sync_until_quiet,
    unacked,
)

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.sessions import SessionDraft
from classroom_support.sync import SyncClient
from classroom_support.tickets import InvalidTransition, NotPermitted, QueueQuery, TicketDraft

FAULTS = (
    "drop_before",
    "reset",
    "drop_after",
    "reset_after",
    "truncate",
    "502_after",
    "500",
    "502",
    "503",
    "429",
)


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


def _laptop(
    make_ctx: Callable[..., AppContext],
    central: Central,
    proxy: FaultyProxy,
    n: int,
    prefix: str,
    **kwargs: object,
) -> tuple[AppContext, SyncClient]:
    ctx = make_ctx(config=laptop_config(technician=f"tech{n}"), name=f"faulty{n}")
    pin(ctx, f"00000000-0000-4000-8000-{n:012d}", prefix)
    token = central.add_device("A101", name=f"laptop {n}")
    return ctx, connect(ctx, proxy.url, token, **kwargs)


def _server_ids(central: Central) -> Counter[str]:
    return Counter(e["id"] for e in central.store.events())


@pytest.mark.parametrize("where", ["push", "pull"])
@pytest.mark.parametrize("fault", FAULTS)
def test_one_fault_loses_nothing_and_doubles_nothing(
    make_ctx: Callable[..., AppContext],
    central: Central,
    proxy: FaultyProxy,
    fault: str,
    where: str,
) -> None:
    ctx, client = _laptop(make_ctx, central, proxy, 1, "FALT", batch_size=50)
    assert client.sync().outcome == "ok"  # bound, nothing pending
    refs = [ctx.desk.create(TicketDraft(title=f"offline {i}")).ref for i in range(5)]
    for ref in refs[:3]:
        ctx.desk.respond(ref, "seen")
    central.store.create_ticket(TicketDraft(title="from the contact centre", channel="phone"))
    local_ids = {e.id for ref in refs for e in ctx.desk.history(ctx.desk.get(ref).id)}
    proxy.plan(*([fault] if where == "push" else ["", fault]))
    first = client.sync()
    assert first.outcome in ("ok", "offline", "busy", "server_error"), first.message
    sync_until_quiet([client])
    assert proxy.applied[0] == fault
    ids = _server_ids(central)
    assert set(ids) >= local_ids and max(ids.values()) == 1  # 0 lost, 0 duplicated
    assert len(ids) == len(local_ids) + 1
    assert_converged(central.store, [ctx], {"A101"})


def test_a_delay_past_the_timeout_is_offline_and_the_retry_is_a_duplicate(
    make_ctx: Callable[..., AppContext], central: Central, proxy: FaultyProxy
) -> None:
    ctx, client = _laptop(make_ctx, central, proxy, 2, "SLOW", attempts=1)
    assert client.sync().outcome == "ok"  # on the default timeout: a busy machine is no fault
    ctx.desk.create(TicketDraft(title="slow link"))
    [late_id] = laptop_events(ctx)
    client.timeout = httpx.Timeout(0.3)  # only the delayed answer must miss its timeout
    proxy.plan("delay:1.5")  # the server still gets it and commits, the answer comes too late
    report = client.sync()
    assert report.outcome == "offline" and "Timeout" in report.message
    assert unacked(ctx) == 1
    client.timeout = httpx.Timeout(30.0, connect=10.0)
    deadline = time.monotonic() + 30
    while late_id not in _server_ids(central) and time.monotonic() < deadline:
        time.sleep(0.05)  # until the late request has committed on the server
    again = client.sync()
    assert again.outcome == "ok" and (again.pushed, again.duplicates) == (0, 1)
    assert max(_server_ids(central).values()) == 1
    assert_converged(central.store, [ctx], {"A101"})


def test_two_laptops_offline_edits_on_both_sides_then_a_faulty_link(
    make_ctx: Callable[..., AppContext],
    central: Central,
    proxy: FaultyProxy,
    clock: FixedClock,
) -> None:
    """The acceptance scenario: two laptops and the centre edit while cut off, then reconnect
    through a link that drops, resets, truncates, delays and refuses; all end identical."""
    two_laptops_through_a_faulty_link(make_ctx, central, proxy, clock)


def two_laptops_through_a_faulty_link(
    make_ctx: Callable[..., AppContext],
    central: Central,
    proxy: FaultyProxy,
    clock: FixedClock,
) -> None:
    """The scenario itself, for any central server behind the proxy (also `central serve
    --workers 4` in tests/test_central_workers.py)."""
    small = {"batch_size": 3, "page_size": 4}
    ctx_a, client_a = _laptop(make_ctx, central, proxy, 3, "AAAA", **small)
    ctx_b, client_b = _laptop(make_ctx, central, proxy, 4, "BBBB", **small)
    shared = ctx_a.desk.create(TicketDraft(title="Projector in A101 flickers", category="av"))
    sync_until_quiet([client_a, client_b])
    assert ctx_b.desk.get(shared.ref).title == shared.title

    # --- cut off: everyone works on their own for a while
    proxy.down = True
    rng = random.Random(20261128)
    actions = ("respond", "note", "assign", "pause", "resume", "resolve", "reopen", "priority")
    made: dict[str, list[str]] = {"a": [], "b": []}
    for step in range(30):
        clock.advance(timedelta(minutes=rng.randint(1, 20)))
        who, ctx = (("a", ctx_a), ("b", ctx_b))[step % 2]
        if rng.random() < 0.3:
            made[who].append(ctx.desk.create(TicketDraft(title=f"{who} ticket {step}")).ref)
            continue
        ref = rng.choice([shared.ref, *made[who]])
        action = rng.choice(actions)
        try:
            if action == "respond":
                ctx.desk.respond(ref, f"{who} answers")
            elif action == "note":
                ctx.desk.add_note(ref, f"{who} note {step} [b]markup[/b] \x1b[31m")
            elif action == "assign":
                ctx.desk.assign(ref, f"{who}-tech")
            elif action == "pause":
                ctx.desk.pause(ref, "waiting")
            elif action == "resume":
                ctx.desk.resume(ref)
            elif action == "resolve":
                ctx.desk.resolve(ref, "done")
            elif action == "reopen":
                ctx.desk.reopen(ref, "again")
            else:
                ctx.desk.set_priority(ref, rng.choice(("low", "high", "critical")))
        except (InvalidTransition, NotPermitted):  # a hall desk does not reopen
            pass
    ctx_a.sessions.add(SessionDraft("Networks", "Huda", "2026-11-29", "16:00", "18:00"))
    ctx_b.sessions.add(SessionDraft("Excel", "Omar", "2026-11-30", "17:00", "19:00"))
    phone = central.store.create_ticket(
        TicketDraft(title="Caller: the lab PCs will not boot", channel="phone", hall_code="A101")
    )
    central.store.act(shared.ref, "note", {"text": "Level 2 is aware"})
    central.store.create_ticket(TicketDraft(title="other hall", hall_code="B201"))
    report = client_a.sync()
    assert (report.outcome, report.exit_code) == ("offline", 3)

    # --- back online through a bad link
    proxy.down = False
    plan = [
        "drop_before",
        "drop_after",
        "reset",
        "reset_after",
        "truncate",
        "502_after",
        "503",
        "429",
        "500",
        "delay:0.05",
    ]
    faults = [rng.choice(plan) if rng.random() < 0.5 else "" for _ in range(60)]
    proxy.plan(*faults)
    sync_until_quiet([client_a, client_b], rounds=40)
    assert len([f for f in proxy.applied if f]) >= 20  # the link really was bad

    expected = {
        e.id
        for ctx in (ctx_a, ctx_b)
        for t in ctx.desk.queue(QueueQuery(statuses=(), limit=10_000)).rows
        for e in ctx.desk.history(t.id)
    }
    ids = _server_ids(central)
    assert max(ids.values()) == 1  # nothing doubled
    assert expected <= set(ids)  # nothing lost
    assert ctx_a.desk.get(phone.ref).channel == "phone"
    assert_converged(central.store, [ctx_a, ctx_b], {"A101"})
    merged = ctx_a.desk.history(shared.id)
    assert {e.device_id for e in merged} >= {
        ctx_a.desk.device.device_id,
        ctx_b.desk.device.device_id,
    }
    # Interleaved changes to the shared ticket made one transition invalid in the merged
    # order: kept in its history, counted, applied nowhere (the same on every side).
    assert ctx_b.desk.get(shared.ref).conflicts == central.store.ticket(shared.ref).conflicts >= 1
    for ctx in (ctx_a, ctx_b):
        courses = {s.course for s in ctx.sessions.upcoming(days=5)}
        assert courses == {"Networks", "Excel"}
