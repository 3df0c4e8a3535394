"""An edit made on one laptop reaches the central server (its status page shows the new text)
and the other laptops; concurrent edits converge; a malformed edit is refused at push."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from postgres_support import ENGINES
from sync_support import Central, assert_converged, connect, laptop_config, pin, sync_until_quiet

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.sync import SyncClient
from classroom_support.ticket_edits import edit_ticket
from classroom_support.tickets import TicketDraft

Laptop = tuple[AppContext, SyncClient]


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def laptop(make_ctx: Callable[..., AppContext], central: Central) -> Callable[..., Laptop]:
    count = iter(range(1, 100))

    def make(prefix: str) -> Laptop:
        n = next(count)
        ctx = make_ctx(config=laptop_config("A101"), name=f"laptop{n}")
        pin(ctx, f"00000000-0000-4000-8000-{n:012d}", prefix)
        token = central.add_device("A101", name=f"laptop {n}")
        return ctx, connect(ctx, central.url, token)

    return make


def status_page(central: Central, ticket_id: str) -> str:
    answer = httpx.get(f"{central.url}/status/{ticket_id}?lang=en", timeout=5.0)
    assert answer.status_code == 200
    return answer.text


def test_an_edit_on_one_laptop_reaches_the_server_and_the_other(
    laptop: Callable[..., Laptop], central: Central, clock: FixedClock
) -> None:
    ctx_a, client_a = laptop("EDTA")
    ctx_b, client_b = laptop("EDTB")
    t = ctx_a.desk.create(TicketDraft(title="Projector dead", seat="12", trainee_name="Huda"))
    sync_until_quiet([client_a, client_b])
    assert "Projector dead" in status_page(central, t.id)

    clock.advance(timedelta(minutes=3))
    edit_ticket(ctx_b.desk, t.ref, {"title": "Projector shows no signal", "seat": "14"})
    report = client_b.sync()
    assert report.outcome == "ok" and report.pushed == 1 and report.parked_total == 0
    on_server = central.store.ticket(t.ref)
    assert (on_server.title, on_server.seat) == ("Projector shows no signal", "14")
    page = status_page(central, t.id)
    assert "Projector shows no signal" in page and "Projector dead" not in page
    assert 'id="status-seat"' in page and ">14<" in page

    client_a.sync()
    mine = ctx_a.desk.get(t.ref)
    assert (mine.title, mine.seat, mine.trainee_name) == ("Projector shows no signal", "14", "Huda")
    last = ctx_a.desk.history(t.id)[-1]
    assert last.kind == "edited" and last.actor == "Sami"
    assert json.loads(last.payload)["changes"]["seat"] == {"old": "12", "new": "14"}
    assert_converged(central.store, [ctx_a, ctx_b], {"A101"})


def test_concurrent_edits_converge_everywhere(
    laptop: Callable[..., Laptop], central: Central, clock: FixedClock
) -> None:
    ctx_a, client_a = laptop("CEDA")
    ctx_b, client_b = laptop("CEDB")
    t = ctx_a.desk.create(TicketDraft(title="PC will not boot", seat="12"))
    sync_until_quiet([client_a, client_b])
    # Cut off from each other: both change the seat, B also the trainee's contact, and the
    # centre corrects the problem text.
    clock.advance(timedelta(minutes=1))
    edit_ticket(ctx_a.desk, t.ref, {"seat": "15"})
    clock.advance(timedelta(minutes=1))
    edit_ticket(ctx_b.desk, t.ref, {"seat": "16", "trainee_contact": "0551234567"})
    central.store.act(
        t.ref, "edited", {"changes": {"title": {"old": "PC will not boot", "new": "PC 12 dead"}}}
    )
    sync_until_quiet([client_a, client_b])
    final = ctx_a.desk.get(t.ref)
    assert (final.seat, final.trainee_contact, final.title) == ("16", "0551234567", "PC 12 dead")
    assert final.conflicts == 0
    assert ctx_b.desk.get(t.ref).model_dump() == final.model_dump()
    assert_converged(central.store, [ctx_a, ctx_b], {"A101"})


def test_a_malformed_edit_is_refused_at_push(central: Central) -> None:
    token = central.add_device("A101")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=central.url + "/api/v1", headers=headers, timeout=5.0) as http:
        http.post("/sync/hello", json={"device_id": "dev-1", "ref_prefix": "KKKK", "issued": 0})
        ticket_id = str(uuid.uuid4())

        def event(kind: str, payload: dict[str, Any], hlc: str) -> dict[str, Any]:
            return {
                "id": str(uuid.uuid4()),
                "ticket_id": ticket_id,
                "kind": kind,
                "payload": payload,
                "device_id": "dev-1",
                "actor": "tester",
                "occurred_at": "2026-11-28T07:30:00+00:00",
                "hlc": hlc,
            }

        created = event(
            "created",
            {"ref": "KKKK-1", "device_seq": 1, "hall_code": "A101", "title": "t"},
            "1764315000000-00000",
        )
        blank = event(
            "edited", {"changes": {"title": {"old": "t", "new": " "}}}, "1764315000001-00000"
        )
        hall = event(
            "edited",
            {"changes": {"hall_code": {"old": "A101", "new": "B201"}}},
            "1764315000002-00000",
        )
        long_seat = event(
            "edited", {"changes": {"seat": {"old": "", "new": "9" * 201}}}, "1764315000003-00000"
        )
        good = event(
            "edited", {"changes": {"seat": {"old": "", "new": "9"}}}, "1764315000004-00000"
        )
        results = http.post(
            "/sync/push", json={"events": [created, blank, hall, long_seat, good]}
        ).json()["results"]
    assert [r["status"] for r in results] == [
        "applied",
        "rejected",
        "rejected",
        "rejected",
        "applied",
    ]
    assert results[1]["reason"] == "bad_payload: title"
    assert results[2]["reason"] == "bad_payload: field hall_code"
    assert results[3]["reason"] == "bad_payload: seat"
    assert central.store.ticket("KKKK-1").seat == "9"
