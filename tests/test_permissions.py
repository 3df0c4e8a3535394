"""Who may do what: the one permission table (permissions.py), the desk refusing before it
writes, and the real central server refusing what a desk's role may not push."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from conftest import set_role
from postgres_support import ENGINES
from sqlmodel import select
from sync_support import Central, connect, laptop_config, parked_ids, pin

from classroom_support import i18n
from classroom_support.context import AppContext
from classroom_support.models import Ticket, TicketEvent
from classroom_support.permissions import (
    ALLOWED,
    CONTACT_CENTRE,
    HALL,
    LEVEL2,
    MANAGER,
    ROLES,
    monitor_event_ok,
    refusal,
    refusal_english,
    refusal_key,
)
from classroom_support.sla_policy import sla_event_id
from classroom_support.tickets import EVENT_KINDS, NotPermitted, TicketDraft, apply_event

TO_LEVEL2 = {"to": {"level2": True}}
TO_HALL = {"to": {"hall": "A101"}}


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def allowed(role: str, kind: str, payload: dict[str, object] | None = None) -> bool:
    return refusal_key(role, kind, payload) is None


# --------------------------------------------------------------------------- the table


def test_only_level2_verifies_and_reopens() -> None:
    assert [r for r in ROLES if allowed(r, "verified")] == [LEVEL2]
    assert [r for r in ROLES if allowed(r, "reopened")] == [LEVEL2]
    i18n.set_language("en")
    assert refusal(HALL, "verified") == "Only Level 2 verifies completion"
    assert refusal_english(CONTACT_CENTRE, "verified") == "Only Level 2 verifies completion"
    i18n.set_language("ar")
    assert refusal(HALL, "verified") == "التحقق من إنجاز العمل للمستوى الثاني فقط"


def test_root_cause_analysis_by_level2_or_a_manager() -> None:
    assert {r for r in ROLES if allowed(r, "rca_recorded")} == {LEVEL2, MANAGER}


def test_a_manager_reads_comments_records_rca_and_changes_nothing_else() -> None:
    assert {k for k in EVENT_KINDS if allowed(MANAGER, k)} - {
        "sla_warning",
        "sla_breached",
        "escalated",
    } == {"note", "rca_recorded"}
    assert not allowed(MANAGER, "route", TO_LEVEL2)
    assert refusal_english(MANAGER, "created") == "A Manager desk does not file tickets"


def test_the_contact_centre_files_routes_triages_and_assigns() -> None:
    for kind in ("created", "note", "assigned", "priority_set", "category_set", "responded"):
        assert allowed(CONTACT_CENTRE, kind), kind
    assert allowed(CONTACT_CENTRE, "route", TO_LEVEL2)
    assert allowed(CONTACT_CENTRE, "route", TO_HALL)
    for kind in ("paused", "resumed", "resolved", "verified", "reopened", "rca_recorded"):
        assert not allowed(CONTACT_CENTRE, kind), kind


def test_a_hall_works_the_ticket_and_routes_to_level2_only() -> None:
    for kind in ("created", "responded", "note", "paused", "resumed", "resolved", "assigned"):
        assert allowed(HALL, kind), kind
    assert allowed(HALL, "route", TO_LEVEL2)
    assert refusal_key(HALL, "route", TO_HALL) == "permission.route_hall"
    for kind in ("verified", "reopened", "rca_recorded"):
        assert not allowed(HALL, kind), kind


def test_level2_does_what_a_hall_does_plus_verify_rca_reopen_and_routes_back() -> None:
    assert ALLOWED[HALL] <= ALLOWED[LEVEL2]
    assert ALLOWED[LEVEL2] - ALLOWED[HALL] == {"verified", "rca_recorded", "reopened"}
    assert allowed(LEVEL2, "route", TO_HALL)
    assert refusal_key(LEVEL2, "route", TO_LEVEL2) == "permission.route_level2"


def test_every_kind_has_an_answer_for_every_role_in_both_languages() -> None:
    for language in ("en", "ar"):
        i18n.set_language(language)
        for role in ROLES:
            for kind in EVENT_KINDS:
                reason = refusal(role, kind)
                assert reason is None or (reason and "permission." not in reason), (role, kind)


def test_monitor_events_pass_by_their_deterministic_ids_only() -> None:
    ticket = str(uuid.uuid4())
    warning = sla_event_id(ticket, "first_response", "warning")
    assert monitor_event_ok(warning, ticket, "sla_warning", {"clock": "first_response"})
    breach = sla_event_id(ticket, "resolution", "breached")
    assert monitor_event_ok(breach, ticket, "sla_breached", {"clock": "resolution"})
    rung = sla_event_id(ticket, "L2", "escalated")
    assert monitor_event_ok(rung, ticket, "escalated", {"level": 2, "tier": "L2"})
    assert not monitor_event_ok(rung, ticket, "escalated", {"level": 3})
    assert not monitor_event_ok(str(uuid.uuid4()), ticket, "sla_warning", {"clock": "x"})
    assert not monitor_event_ok(warning, str(uuid.uuid4()), "sla_warning", {"clock": "x"})
    for role in ROLES:  # the table itself never refuses them
        assert allowed(role, "escalated")


# --------------------------------------------------------------------------- the desk


def test_the_desk_refuses_before_writing(ctx: AppContext) -> None:
    i18n.set_language("en")
    t = ctx.desk.create(TicketDraft(title="No sound"))
    ctx.desk.resolve(t.ref, "cable")
    before = len(ctx.desk.history(t.id))
    with pytest.raises(NotPermitted, match="Only Level 2 verifies completion"):
        ctx.desk.verify(t.ref, "looks fine")
    assert len(ctx.desk.history(t.id)) == before
    assert ctx.desk.get(t.ref).status == "resolved"
    assert ctx.desk.permitted("verified") == "Only Level 2 verifies completion"
    assert ctx.desk.permitted("resolved") is None

    set_role(ctx, LEVEL2, halls="A101")
    assert ctx.desk.verify(t.ref, "checked").status == "verified"
    with pytest.raises(NotPermitted, match="B201 is not one of this desk's halls"):
        ctx.desk.create(TicketDraft(title="elsewhere", hall_code="B201"))

    set_role(ctx, MANAGER, all_halls=True)
    with pytest.raises(NotPermitted, match="does not file tickets"):
        ctx.desk.create(TicketDraft(title="a manager's ticket"))
    assert ctx.desk.add_note(t.ref, "seen").event_count == before + 2


# --------------------------------------------------------------------------- the server


def desk_at(
    make_ctx: Callable[..., AppContext], central: Central, n: int, prefix: str, token: str
) -> tuple[AppContext, object]:
    ctx = make_ctx(config=laptop_config("A101"), name=f"desk{n}")
    pin(ctx, f"00000000-0000-4000-8000-{n:012d}", prefix)
    return ctx, connect(ctx, central.url, token)


def forge(ctx: AppContext, ref: str, kind: str, payload: dict[str, object], eid: str = "") -> str:
    """An event written straight into the laptop's log, as an old or tampered laptop would:
    folded locally, waiting in the outbox."""
    event_id = eid or str(uuid.uuid4())
    with ctx.db.write() as s:
        ticket = s.get(Ticket, ctx.desk.get(ref).id)
        assert ticket is not None
        event = ctx.desk.new_event(s, ticket.id, kind, payload, event_id=event_id)
        apply_event(ticket, event)
        s.add(event)
        s.add(ticket)
    return event_id


def test_a_hall_devices_verification_is_refused_and_never_applied_anywhere(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    _d, hall_token = central.store.add_device("hall A101", ["A101"])
    _d, l2_token = central.store.add_device("level 2", ["A101"], role=LEVEL2)
    hall, hall_client = desk_at(make_ctx, central, 1, "HALL", hall_token)
    level2, l2_client = desk_at(make_ctx, central, 2, "LTWO", l2_token)
    for client in (hall_client, l2_client):
        assert client.sync().outcome == "ok"  # type: ignore[attr-defined]

    t = hall.desk.create(TicketDraft(title="Projector has no signal"))
    hall.desk.resolve(t.ref, "cable reseated")
    forged = forge(hall, t.ref, "verified", {"note": "Verified by Level 2"})
    assert hall.desk.get(t.ref).status == "verified"  # only in the hall's own database

    report = hall_client.sync()  # type: ignore[attr-defined]
    assert (report.outcome, report.parked_total) == ("parked", 1)
    assert parked_ids(hall) == {forged}
    [(parked, event, ref)] = hall_client.parked()  # type: ignore[attr-defined]
    assert parked.reason == "forbidden_role: Only Level 2 verifies completion"
    assert event is not None and event.kind == "verified" and ref == t.ref
    assert forged not in {e["id"] for e in central.store.events()}
    assert central.store.ticket(t.ref).status == "resolved"

    assert l2_client.sync().outcome == "ok"  # type: ignore[attr-defined]
    seen = level2.desk.get(t.ref)
    assert seen.status == "resolved"
    assert forged not in {e.id for e in level2.desk.history(seen.id)}

    # Level 2 verifies through its desk: accepted, and the hall sees it.
    level2.desk.verify(t.ref, "checked on site")
    assert l2_client.sync().outcome == "ok"  # type: ignore[attr-defined]
    assert central.store.ticket(t.ref).status == "verified"


def test_the_server_refuses_roles_scope_and_forged_monitor_events(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    _d, manager_token = central.store.add_device("managers", [], role=MANAGER, all_halls=True)
    _d, cc_token = central.store.add_device("contact centre", [], role=CONTACT_CENTRE,
                                            all_halls=True)  # fmt: skip
    a101 = central.store.create_ticket(TicketDraft(title="A101 projector", hall_code="A101"))
    b201 = central.store.create_ticket(TicketDraft(title="B201 login", hall_code="B201"))
    manager, m_client = desk_at(make_ctx, central, 3, "MGRS", manager_token)
    centre, c_client = desk_at(make_ctx, central, 4, "CCTR", cc_token)
    for client in (m_client, c_client):
        assert client.sync().outcome == "ok"  # type: ignore[attr-defined]

    refused = {
        forge(manager, a101.ref, "priority_set", {"priority": "high"}): "A Manager desk",
        forge(manager, b201.ref, "escalated", {"level": 1, "tier": "L2"}): "SLA monitor",
    }
    monitor_id = sla_event_id(b201.id, "first_response", "warning")
    forge(manager, b201.ref, "sla_warning", {"clock": "first_response"}, eid=monitor_id)
    manager.desk.add_note(a101.ref, "asked the hall")
    m_client.sync()  # type: ignore[attr-defined]
    reasons = {p.item_id: p.reason for p, _e, _r in m_client.parked()}  # type: ignore[attr-defined]
    assert set(reasons) == set(refused)
    for eid, words in refused.items():
        assert reasons[eid].startswith("forbidden_role: ") and words in reasons[eid]
    stored = {e["id"]: e for e in central.store.events()}
    assert monitor_id in stored and stored[monitor_id]["kind"] == "sla_warning"
    assert central.store.ticket(a101.ref).priority == "normal"

    # The contact centre files for any hall in its scope and triages; it does not resolve.
    filed = centre.desk.create(TicketDraft(title="Caller: B201 PC 4", hall_code="B201"))
    centre.desk.set_priority(filed.ref, "high")
    resolved = forge(centre, filed.ref, "resolved", {"summary": "told them to reboot"})
    c_client.sync()  # type: ignore[attr-defined]
    assert parked_ids(centre) == {resolved}
    assert central.store.ticket(filed.ref).priority == "high"
    assert central.store.ticket(filed.ref).status == "new"
    payloads = [json.loads(json.dumps(e["payload"])) for e in central.store.events()]
    assert {"summary": "told them to reboot"} not in payloads


def test_a_hall_token_still_files_only_for_its_halls(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    _d, token = central.store.add_device("hall A101", ["A101"])
    hall, client = desk_at(make_ctx, central, 5, "HALA", token)
    assert client.sync().outcome == "ok"  # type: ignore[attr-defined]
    with pytest.raises(NotPermitted):  # now that it knows its scope, it says so at once
        hall.desk.create(TicketDraft(title="for B201", hall_code="B201"))
    with hall.db.read() as s:
        assert not s.exec(select(TicketEvent)).all()  # nothing written
