"""The waiting pull of an online desk (`SyncClient.wait_for_changes`), headless, against a real
`central serve` process (its change feed makes `pull?wait=S` wait) on SQLite and PostgreSQL.

A wait is made sure to be parked on the server (its `central_pull_waiting` gauge) before the
change is made, so a test cannot pass by the pull simply starting after the change. Failures
(an HTTP error, a dropped connection, a server that answers at once) are handed back, logged,
and never retried inside the call. Cancelling an open wait ends it at once: the server still
holds the abandoned request afterwards, so the call did not wait for its answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest
from fault_proxy import FaultyProxy
from postgres_support import ENGINES
from sqlmodel import col, select
from sync_support import Central, ServedCentral, connect, laptop_config, make_client, pin
from web_form_client import file_by_web_form

from classroom_support.context import AppContext
from classroom_support.models import SyncLogEntry, SyncState, Ticket
from classroom_support.sync import SyncClient

WAIT_S = 20.0
PATIENCE_S = 60.0  # generous: a wake-up takes well under a second


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def form(served_central: ServedCentral) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served_central.url, timeout=30.0) as http:
        yield http


def desk(make_ctx: Callable[..., AppContext], name: str = "desk") -> AppContext:
    ctx = make_ctx(config=laptop_config(), name=name)
    pin(ctx, "00000000-0000-4000-8000-0000000000a1", "LIVE")
    return ctx


async def parked(served: ServedCentral, count: int = 1) -> None:
    """Until the server holds `count` waiting pulls."""
    for _ in range(int(PATIENCE_S / 0.05)):
        if await asyncio.to_thread(served.waiting) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the pull never waited on the server")


def log_steps(ctx: AppContext) -> list[tuple[str, str, int]]:
    with ctx.db.read() as s:
        rows = s.exec(select(SyncLogEntry).order_by(col(SyncLogEntry.id))).all()
        return [(r.step, r.outcome, r.received) for r in rows]


async def test_a_web_form_ticket_arrives_through_the_waiting_pull(
    make_ctx: Callable[..., AppContext], served_central: ServedCentral, form: httpx.Client
) -> None:
    ctx = desk(make_ctx)
    client = connect(ctx, served_central.url, served_central.add_device("A101"))
    assert client.sync().outcome == "ok"
    before = client.state().cursor
    waiting = asyncio.create_task(client.wait_for_changes(WAIT_S))
    await parked(served_central)
    ticket_id = await asyncio.to_thread(file_by_web_form, form, "Projector shows no picture")
    result = await asyncio.wait_for(waiting, PATIENCE_S)
    assert result.outcome == "changed", result
    assert result.pulled == 1 and result.changed_tickets == {ticket_id}
    with ctx.db.read() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None and ticket.channel == "web_form"
        assert ticket.title == "Projector shows no picture"
    assert client.state().cursor > before
    assert log_steps(ctx)[-1] == ("live", "ok", 1)  # applied like a pulled page, and logged
    # Nothing else happens: the next wait runs out quietly and writes no log line.
    lines = len(log_steps(ctx))
    quiet = await client.wait_for_changes(2.0)
    assert quiet.outcome == "quiet" and quiet.ok and quiet.pulled == 0
    assert len(log_steps(ctx)) == lines


async def test_another_halls_ticket_does_not_end_the_wait_but_ours_does(
    make_ctx: Callable[..., AppContext], served_central: ServedCentral, form: httpx.Client
) -> None:
    ctx = desk(make_ctx)
    client = connect(ctx, served_central.url, served_central.add_device("A101"))
    assert client.sync().outcome == "ok"
    waiting = asyncio.create_task(client.wait_for_changes(WAIT_S))
    await parked(served_central)
    await asyncio.to_thread(file_by_web_form, form, "Lab PC 4 will not boot", "B201")
    ours = await asyncio.to_thread(file_by_web_form, form, "No sound in A101")
    result = await asyncio.wait_for(waiting, PATIENCE_S)
    assert result.outcome == "changed" and result.changed_tickets == {ours}
    with ctx.db.read() as s:
        assert [t.title for t in s.exec(select(Ticket)).all()] == ["No sound in A101"]


async def test_cancelling_an_open_wait_ends_it_at_once(
    make_ctx: Callable[..., AppContext], served_central: ServedCentral
) -> None:
    ctx = desk(make_ctx)
    client = connect(ctx, served_central.url, served_central.add_device("A101"))
    assert client.sync().outcome == "ok"
    waiting = asyncio.create_task(client.wait_for_changes(WAIT_S))
    await parked(served_central)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # The server still holds the request the desk walked away from: the call returned
    # without waiting for its answer.
    assert await asyncio.to_thread(served_central.waiting) == 1


# --------------------------------------------------------------------------- failures


async def test_nothing_to_wait_for_before_sync_is_set_up_and_bound(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    ctx = desk(make_ctx)
    client = make_client(ctx)
    assert (await client.wait_for_changes(WAIT_S)).outcome == "not_configured"
    client.configure(central.url, central.add_device("A101"))
    assert (await client.wait_for_changes(WAIT_S)).outcome == "not_configured"  # no hello yet
    assert log_steps(ctx) == []


async def test_a_server_that_does_not_wait_is_told_apart_from_a_quiet_one(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    """The in-process test server runs without its change feed: it answers at once, as an
    older server that ignores `wait` would. Asking again at once would be a busy loop."""
    ctx = desk(make_ctx)
    client = connect(ctx, central.url, central.add_device("A101"))
    assert client.sync().outcome == "ok"
    result = await client.wait_for_changes(WAIT_S)
    assert result.outcome == "early" and not result.ok
    assert log_steps(ctx)[-1][:2] == ("live", "early")


@pytest.mark.parametrize(
    ("fault", "outcome", "status"),
    [
        ("404", "refused", 404),
        ("400", "refused", 400),
        ("503", "refused", 503),
        ("reset", "offline", 0),
        ("drop_after", "offline", 0),
        ("truncate", "offline", 0),
    ],
)
async def test_a_refused_or_dropped_wait_is_handed_back_not_retried(
    make_ctx: Callable[..., AppContext],
    central: Central,
    proxy: FaultyProxy,
    fault: str,
    outcome: str,
    status: int,
) -> None:
    ctx = desk(make_ctx)
    client: SyncClient = connect(ctx, proxy.url, central.add_device("A101"))
    assert client.sync().outcome == "ok"
    proxy.when[b"wait="] = fault
    before = proxy.requests
    result = await client.wait_for_changes(WAIT_S)
    assert (result.outcome, result.status) == (outcome, status), result
    assert proxy.requests == before + 1  # one request, no retries: the caller decides
    assert log_steps(ctx)[-1][:2] == ("live", outcome)
    with ctx.db.read() as s:
        state = s.get(SyncState, 1)
        assert state is not None and state.last_result == "ok"  # the runs decide online/offline
