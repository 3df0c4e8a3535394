"""Editing a ticket's text: one `edited` event that keeps the old values, folded like any other."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import set_role

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.models import TicketEvent
from classroom_support.ticket_edits import NothingChanged, edit_problem, edit_ticket
from classroom_support.tickets import (
    MAX_SHORT,
    MAX_TITLE,
    InvalidTransition,
    QueueQuery,
    TicketDraft,
    ValidationError,
    fold,
)


def stored_fold(ctx: AppContext, ticket_id: str) -> dict[str, object]:
    return fold(ctx.desk.history(ticket_id)).model_dump()


def test_an_edit_changes_the_row_and_keeps_the_old_values(
    ctx: AppContext, clock: FixedClock
) -> None:
    t = ctx.desk.create(TicketDraft(title="Projector dead", seat="12", trainee_name="Huda"))
    clock.advance(timedelta(minutes=5))
    edited = edit_ticket(
        ctx.desk, t.ref, {"title": "Projector: no signal", "seat": "14", "trainee_name": "Huda"}
    )
    assert (edited.title, edited.seat, edited.trainee_name) == (
        "Projector: no signal",
        "14",
        "Huda",
    )
    assert ctx.desk.get(t.ref).model_dump() == edited.model_dump() == stored_fold(ctx, t.id)
    last = ctx.desk.history(t.id)[-1]
    assert last.kind == "edited" and last.actor == "Sami"
    # Only what changed is recorded, each with the value it replaced.
    assert json.loads(last.payload) == {
        "changes": {
            "title": {"old": "Projector dead", "new": "Projector: no signal"},
            "seat": {"old": "12", "new": "14"},
        }
    }
    # Search follows the new text.
    assert [r.ref for r in ctx.desk.queue(QueueQuery(search="no signal")).rows] == [t.ref]


def test_edits_obey_the_new_ticket_forms_rules(ctx: AppContext) -> None:
    t = ctx.desk.create(TicketDraft(title="Login fails"))
    with pytest.raises(ValidationError) as blank:
        edit_ticket(ctx.desk, t.ref, {"title": "   "})
    assert blank.value.field == "title" and "required" in str(blank.value)
    with pytest.raises(ValidationError) as long_title:
        edit_ticket(ctx.desk, t.ref, {"title": "x" * (MAX_TITLE + 1)})
    assert long_title.value.field == "title" and "too long" in str(long_title.value)
    with pytest.raises(ValidationError) as long_seat:
        edit_ticket(ctx.desk, t.ref, {"seat": "9" * (MAX_SHORT + 1)})
    assert long_seat.value.field == "seat"
    with pytest.raises(ValidationError):
        edit_ticket(ctx.desk, t.ref, {"hall_code": "B202"})
    with pytest.raises(NothingChanged):
        edit_ticket(ctx.desk, t.ref, {"title": "Login fails"})
    assert [e.kind for e in ctx.desk.history(t.id)] == ["created"]  # nothing was written


def test_a_verified_ticket_is_not_edited(ctx: AppContext) -> None:
    set_role(ctx, "level2")  # who verifies
    t = ctx.desk.create(TicketDraft(title="No sound"))
    ctx.desk.resolve(t.ref, "cable")
    ctx.desk.verify(t.ref)
    with pytest.raises(InvalidTransition):
        edit_ticket(ctx.desk, t.ref, {"seat": "3"})
    assert ctx.desk.get(t.ref).seat == ""


def _edit_event(
    ctx: AppContext, ticket_id: str, hlc: str, changes: dict[str, dict[str, str]], eid: str
) -> TicketEvent:
    ref = ctx.desk.history(ticket_id)[0]
    return TicketEvent(
        id=eid,
        ticket_id=ticket_id,
        kind="edited",
        payload=json.dumps({"changes": changes}),
        device_id="other-laptop",
        actor="Mona",
        occurred_at=ref.occurred_at,
        hlc=hlc,
    )


def test_concurrent_edits_converge_field_by_field_in_hlc_order(ctx: AppContext) -> None:
    t = ctx.desk.create(TicketDraft(title="PC will not boot", seat="12"))
    created = ctx.desk.history(t.id)[0]
    # Two laptops edit from the same starting point, without seeing each other.
    a = _edit_event(ctx, t.id, "9999999999990-00000", {"seat": {"old": "12", "new": "14"}}, "a")
    b = _edit_event(
        ctx,
        t.id,
        "9999999999991-00000",
        {"seat": {"old": "12", "new": "15"}, "trainee_name": {"old": "", "new": "Ali"}},
        "b",
    )
    c = _edit_event(
        ctx, t.id, "9999999999992-00000", {"title": {"old": "x", "new": "Dead PC"}}, "c"
    )
    for order in ([created, a, b, c], [c, b, a, created], [b, created, c, a]):
        ticket = fold(order)
        assert (ticket.seat, ticket.trainee_name, ticket.title) == ("15", "Ali", "Dead PC")
        assert ticket.conflicts == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"changes": {}},
        {"changes": {"hall_code": {"old": "A101", "new": "B202"}}},
        {"changes": {"seat": "14"}},
        {"changes": {"seat": {"old": "12", "new": 14}}},
        {"changes": {"title": {"old": "x", "new": "  "}}},
        {"changes": {"seat": {"old": "", "new": "9" * (MAX_SHORT + 1)}}},
    ],
)
def test_a_malformed_edit_is_a_conflict_in_the_fold(
    ctx: AppContext, payload: dict[str, object]
) -> None:
    assert edit_problem(payload)
    t = ctx.desk.create(TicketDraft(title="Printer jam", seat="3"))
    created = ctx.desk.history(t.id)[0]
    bad = TicketEvent(
        id="bad",
        ticket_id=t.id,
        kind="edited",
        payload=json.dumps(payload),
        device_id="x",
        actor="x",
        occurred_at=created.occurred_at,
        hlc="9999999999999-00000",
    )
    ticket = fold([created, bad])
    assert (ticket.title, ticket.seat, ticket.conflicts) == ("Printer jam", "3", 1)


def test_an_edit_before_verification_survives_a_later_verify(
    make_ctx: Callable[..., AppContext],
) -> None:
    ctx = make_ctx()
    set_role(ctx, "level2")  # who verifies
    t = ctx.desk.create(TicketDraft(title="Wi-Fi drops"))
    edit_ticket(ctx.desk, t.ref, {"trainee_contact": "0551234567"})
    ctx.desk.resolve(t.ref, "router restarted")
    ctx.desk.verify(t.ref)
    assert stored_fold(ctx, t.id) == ctx.desk.get(t.ref).model_dump()
    assert ctx.desk.get(t.ref).trainee_contact == "0551234567"
