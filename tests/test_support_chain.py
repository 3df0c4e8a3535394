"""The whole support chain on loopback: one central server and four desks — the hall laptop
A101, the contact centre, Level 2 and the managers — each its own database and sync client,
each with the role its token carries. The server enforces the roles; the desks converge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from postgres_support import ENGINES
from sync_support import Central, connect, laptop_config, parked_ids, pin

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.models import Ticket
from classroom_support.performance_report import build_report
from classroom_support.permissions import CONTACT_CENTRE, LEVEL2, MANAGER
from classroom_support.routing import route_ticket
from classroom_support.sync import SyncClient
from classroom_support.tickets import NotPermitted, TicketDraft, apply_event


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def desk(
    make_ctx: Callable[..., AppContext], central: Central, n: int, prefix: str, token: str
) -> tuple[AppContext, SyncClient]:
    ctx = make_ctx(config=laptop_config("A101"), name=f"desk-{prefix.lower()}")
    pin(ctx, f"00000000-0000-4000-8000-{n:012d}", prefix)
    client = connect(ctx, central.url, token)
    assert client.sync().outcome == "ok"  # hello: the role and scope come down
    return ctx, client


def sync_all(*clients: SyncClient) -> None:
    for client in clients:
        assert client.sync().outcome in ("ok", "parked")


def test_a_call_travels_the_chain_and_a_breach_reaches_the_managers(
    make_ctx: Callable[..., AppContext], central: Central, clock: FixedClock
) -> None:
    _d, hall_token = central.store.add_device("Hall A101 laptop", ["A101"])
    _d, cc_token = central.store.add_device(
        "Contact centre", [], role=CONTACT_CENTRE, all_halls=True
    )
    _d, l2_token = central.store.add_device("Level 2", [], role=LEVEL2, all_halls=True)
    _d, mgr_token = central.store.add_device("Managers", [], role=MANAGER, all_halls=True)
    hall, hall_c = desk(make_ctx, central, 1, "HALL", hall_token)
    centre, cc_c = desk(make_ctx, central, 2, "CCTR", cc_token)
    level2, l2_c = desk(make_ctx, central, 3, "LTWO", l2_token)
    manager, mgr_c = desk(make_ctx, central, 4, "MGRS", mgr_token)
    assert [c.desk.scope().role for c in (hall, centre, level2, manager)] == [
        "hall",
        CONTACT_CENTRE,
        LEVEL2,
        MANAGER,
    ]
    assert centre.desk.multi_hall() and not hall.desk.multi_hall()

    # 1. A phone call logged at the contact centre for A101, routed to the hall.
    call = centre.desk.create(
        TicketDraft(
            title="Projector has no signal",
            hall_code="A101",
            channel="phone",
            caller_number="0566812777",
        )
    )
    route_ticket(centre.desk, call.ref, level2=False, note="the trainer is waiting")
    sync_all(cc_c, hall_c)
    at_hall = hall.desk.get(call.ref)
    assert (at_hall.hall_code, at_hall.channel, at_hall.with_desk) == ("A101", "phone", "hall")

    # 2. The hall responds and resolves; its verification is refused by the desk...
    hall.desk.respond(call.ref, "On my way")
    hall.desk.resolve(call.ref, "cable reseated")
    with pytest.raises(NotPermitted) as refused:
        hall.desk.verify(call.ref, "looks fine")
    assert "Level 2" in str(refused.value)
    # ...and by the server when forced through the API (an old or tampered laptop).
    with hall.db.write() as s:
        row = s.get(Ticket, at_hall.id)
        assert row is not None
        forged = hall.desk.new_event(s, row.id, "verified", {"note": "Verified by Level 2"})
        apply_event(row, forged)
        s.add(forged)
        s.add(row)
    forged_id = forged.id
    sync_all(hall_c)
    assert parked_ids(hall) == {forged_id}
    assert central.store.ticket(call.ref).status == "resolved"
    sync_all(l2_c, mgr_c, cc_c)
    for other in (level2, manager, centre):
        seen = other.desk.get(call.ref)
        assert seen.status == "resolved"
        assert forged_id not in {e.id for e in other.desk.history(seen.id)}

    # 3. Level 2 verifies; every desk sees it.
    level2.desk.verify(call.ref, "checked with the trainer")
    sync_all(l2_c, hall_c, cc_c, mgr_c)
    assert central.store.ticket(call.ref).status == "verified"
    for ctx in (level2, centre, manager):
        assert ctx.desk.get(call.ref).status == "verified"

    # 4. A ticket logged at the hall and left unanswered breaches; the server's monitor
    #    escalates it while the hall laptop sleeps, and the manager desk sees it, RCA pending.
    late = hall.desk.create(TicketDraft(title="PC 7 will not boot", seat="7"))
    sync_all(hall_c)
    clock.advance(timedelta(days=12))  # 12 × 6 working hours > 48
    recorded = central.store.run_sla()
    assert any(r["kind"] == "sla_breached" for r in recorded)
    sync_all(mgr_c, l2_c)
    breaches = {t.ref: t for t in manager.desk.breaches()}
    assert late.ref in breaches and breaches[late.ref].rca_at is None
    assert late.ref in {t.ref for t in manager.desk.escalated()}
    report = build_report(manager, weeks=4)
    assert report.overall.total.breaches >= 1
    assert report.group("hall", "A101") is not None
    # The manager records the RCA (allowed) but may not change the ticket otherwise.
    with pytest.raises(NotPermitted):
        manager.desk.set_priority(late.ref, "critical")
    manager.desk.record_rca(
        late.ref, "staffing", "no technician on shift", "rota covers evenings", "Huda"
    )
    sync_all(mgr_c, hall_c, l2_c)
    for ctx in (hall, level2):
        assert ctx.desk.get(late.ref).rca_at is not None
    assert central.store.ticket(late.ref).rca_at is not None
