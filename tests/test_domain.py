"""The ticket domain: events, the fold, transitions, references, validation, queries."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import set_role

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.tickets import (
    MAX_TITLE,
    REF_ALPHABET,
    InvalidTransition,
    QueueQuery,
    TicketDraft,
    TicketNotFound,
    ValidationError,
    fold,
)


def test_create_writes_row_and_one_event(ctx: AppContext, clock: FixedClock) -> None:
    t = ctx.desk.create(TicketDraft(title="Projector has no signal", seat="12", category="av"))
    events = ctx.desk.history(t.id)
    assert [e.kind for e in events] == ["created"]
    e = events[0]
    assert e.device_id == ctx.desk.device.device_id
    assert e.actor == ctx.config.technician
    assert e.occurred_at == clock.now()
    assert e.occurred_at.tzinfo is not None
    assert len(e.id) == 36  # client-made UUID
    assert t.status == "new" and t.hall_code == "A101" and t.channel == "in_hall"


def test_references_are_short_sequential_and_prefixed(ctx: AppContext) -> None:
    refs = [ctx.desk.create(TicketDraft(title=f"p{i}")).ref for i in range(3)]
    prefix = ctx.desk.device.ref_prefix
    assert refs == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-3"]
    assert len(prefix) == 4 and set(prefix) <= set(REF_ALPHABET)


def test_two_laptops_hand_out_different_references(make_ctx: Callable[..., AppContext]) -> None:
    a = make_ctx(name="a")
    b = make_ctx(name="b")
    assert a.desk.device.device_id != b.desk.device.device_id
    # Prefixes are random per device; a collision is possible but vanishingly rare.
    ref_a = a.desk.create(TicketDraft(title="x")).ref
    ref_b = b.desk.create(TicketDraft(title="x")).ref
    assert ref_a.split("-")[0] == a.desk.device.ref_prefix
    assert ref_b.split("-")[0] == b.desk.device.ref_prefix


def test_full_lifecycle_and_fold_agree(ctx: AppContext, clock: FixedClock) -> None:
    set_role(ctx, "level2")  # Level 2 verifies and reopens
    desk = ctx.desk
    t = desk.create(TicketDraft(title="PC 12 will not boot", seat="PC-12", category="pc"))
    steps: list[Callable[[], object]] = [
        lambda: desk.respond(t.ref, "Checking the power cable"),
        lambda: desk.assign(t.ref, "L2 - technical support"),
        lambda: desk.set_priority(t.ref, "high"),
        lambda: desk.set_category(t.ref, "network"),
        lambda: desk.pause(t.ref, "waiting for the trainee to return"),
        lambda: desk.resume(t.ref),
        lambda: desk.add_note(t.ref, "Replaced the cable"),
        lambda: desk.resolve(t.ref, "cable replaced"),
        lambda: desk.verify(t.ref, "checked by L2"),
        lambda: desk.reopen(t.ref, "it failed again"),
        lambda: desk.resolve(t.ref, "PSU replaced"),
    ]
    for step in steps:
        clock.advance(timedelta(minutes=5))
        step()
    row = desk.get(t.ref)
    events = desk.history(t.id)
    assert len(events) == 12 == row.event_count
    assert row.status == "resolved"
    assert row.priority == "high" and row.category == "network"
    assert row.assignee == "L2 - technical support"
    assert row.first_response_at is not None and row.verified_at is None
    assert fold(events).model_dump() == row.model_dump()
    # Deterministic: any input order folds to the same ticket.
    assert fold(reversed(events)).model_dump() == row.model_dump()
    hlcs = [e.hlc for e in events]
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)


def test_hlc_keeps_order_when_the_clock_stands_still(ctx: AppContext) -> None:
    t = ctx.desk.create(TicketDraft(title="x"))
    for i in range(5):
        ctx.desk.add_note(t.ref, f"note {i}")
    events = ctx.desk.history(t.id)
    assert [e.kind for e in events] == ["created"] + ["note"] * 5
    assert [e.payload for e in events[1:]] == [f'{{"text": "note {i}"}}' for i in range(5)]


def test_hlc_never_goes_back_when_the_clock_does(ctx: AppContext, clock: FixedClock) -> None:
    t = ctx.desk.create(TicketDraft(title="x"))
    clock.advance(timedelta(hours=-2))  # e.g. the laptop's clock was corrected
    ctx.desk.add_note(t.ref, "after the clock jumped back")
    a, b = ctx.desk.history(t.id)
    assert b.hlc > a.hlc


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ([], "verify", "Cannot verify a ticket that is 'New'"),
        ([], "resume", "Cannot resume a ticket that is 'New'"),
        (["resolve"], "pause", "Cannot pause a ticket that is 'Resolved'"),
        (["respond"], "respond", "already has its first response"),
        (["resolve", "verify"], "assign", "verified and closed"),
        ([], "reopen", "Cannot reopen a ticket that is 'New'"),
    ],
)
def test_invalid_transitions_are_refused_with_a_clear_message(
    ctx: AppContext, setup: list[str], action: str, message: str
) -> None:
    set_role(ctx, "level2")  # allowed to try every action: the status is what refuses
    desk = ctx.desk
    t = desk.create(TicketDraft(title="x"))
    calls: dict[str, Callable[[], object]] = {
        "verify": lambda: desk.verify(t.ref),
        "resume": lambda: desk.resume(t.ref),
        "pause": lambda: desk.pause(t.ref),
        "respond": lambda: desk.respond(t.ref, "hi"),
        "resolve": lambda: desk.resolve(t.ref),
        "assign": lambda: desk.assign(t.ref, "someone"),
        "reopen": lambda: desk.reopen(t.ref, "why"),
    }
    for step in setup:
        calls[step]()
    before = desk.history(t.id)
    with pytest.raises(InvalidTransition, match=message):
        calls[action]()
    assert desk.history(t.id) == before  # nothing written


def test_resolving_counts_as_first_response(ctx: AppContext) -> None:
    t = ctx.desk.create(TicketDraft(title="x"))
    row = ctx.desk.resolve(t.ref, "fixed on the spot")
    assert row.first_response_at == row.resolved_at


@pytest.mark.parametrize(
    ("draft", "field", "message"),
    [
        (TicketDraft(title="   "), "title", "Problem is required"),
        (TicketDraft(title="x" * (MAX_TITLE + 1)), "title", "too long"),
        (TicketDraft(title="x", category="toaster"), "category", "not one of"),
        (TicketDraft(title="x", priority="urgent!"), "priority", "not one of"),
        (TicketDraft(title="x", channel="pigeon"), "channel", "not one of"),
        (
            TicketDraft(title="x", channel="phone", caller_number="call me"),
            "caller_number",
            "not a phone number",
        ),
        (TicketDraft(title="x", hall_code="Z999"), "hall", "not one of"),
        (TicketDraft(title="x", seat="s" * 201), "seat", "too long"),
    ],
)
def test_bad_drafts_name_the_field(
    ctx: AppContext, draft: TicketDraft, field: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        ctx.desk.create(draft)
    assert info.value.field == field
    assert ctx.desk.queue(QueueQuery(statuses=())).total == 0


def test_one_megabyte_is_refused_not_truncated(ctx: AppContext) -> None:
    with pytest.raises(ValidationError, match=r"1048576 characters; the limit is 2000"):
        ctx.desk.create(TicketDraft(title="x" * 1_048_576))
    with pytest.raises(ValidationError, match="the limit is 10000"):
        t = ctx.desk.create(TicketDraft(title="ok"))
        ctx.desk.add_note(t.ref, "y" * 1_048_576)


HOSTILE = [
    "[bold]x[/]",
    "[link=https://evil.example]click[/link]",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07",
    "nul\x00byte",
    "bell\x07 backspace\x08 cr\r",
    "\u202eevil\u202c reversed",
    "👩‍💻👨‍👩‍👧‍👦 family",
    "'; DROP TABLE ticket; --",
    "جهاز العرض لا يعمل",
    "$variable {format} %s",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_round_trips_verbatim(ctx: AppContext, text: str) -> None:
    t = ctx.desk.create(TicketDraft(title=text, seat=text[:200], trainee_name=text[:200]))
    row = ctx.desk.get(t.ref)
    assert (row.title, row.seat, row.trainee_name) == (text, text[:200], text[:200])
    ctx.desk.add_note(t.ref, text)
    assert json.loads(ctx.desk.history(t.id)[-1].payload) == {"text": text}
    assert ctx.desk.queue(QueueQuery(statuses=())).total == 1


def test_unknown_ref_is_a_clear_error(ctx: AppContext) -> None:
    with pytest.raises(TicketNotFound, match="No ticket 'NOPE-1'"):
        ctx.desk.get("NOPE-1")


def test_refs_are_found_case_insensitively(ctx: AppContext) -> None:
    t = ctx.desk.create(TicketDraft(title="x"))
    assert ctx.desk.get(t.ref.lower()).id == t.id


def _titles(ctx: AppContext, **kw: object) -> list[str]:
    return [t.title for t in ctx.desk.queue(QueueQuery(hall_code="A101", **kw)).rows]  # type: ignore[arg-type]


def test_queue_filters_sorts_searches_and_pages(ctx: AppContext, clock: FixedClock) -> None:
    set_role(ctx, "level2")
    desk = ctx.desk
    specs = [
        ("projector dead", "critical", "12"),
        ("login fails", "low", "3"),
        ("wifi slow", "normal", "7"),
        ("100% CPU_usage", "high", "1"),
    ]
    for title, priority, seat in specs:
        clock.advance(timedelta(minutes=1))
        desk.create(TicketDraft(title=title, priority=priority, seat=seat))
    desk.resolve(desk.queue(QueueQuery(search="wifi")).rows[0].ref)
    other = desk.create(TicketDraft(title="other hall", hall_code="B201"))

    assert _titles(ctx) == ["projector dead", "login fails", "wifi slow", "100% CPU_usage"]
    assert _titles(ctx, sort="priority") == [
        "projector dead",
        "100% CPU_usage",
        "wifi slow",
        "login fails",
    ]
    assert _titles(ctx, sort="age", descending=True)[0] == "100% CPU_usage"
    assert _titles(ctx, statuses=("resolved",)) == ["wifi slow"]
    assert _titles(ctx, priorities=("critical",)) == ["projector dead"]
    # LIKE wildcards in the search are literal.
    assert _titles(ctx, search="100%") == ["100% CPU_usage"]
    assert _titles(ctx, search="_") == ["100% CPU_usage"]
    assert _titles(ctx, search="PROJECTOR") == ["projector dead"]
    page = desk.queue(QueueQuery(hall_code="A101", limit=2, offset=2))
    assert page.total == 4 and [t.title for t in page.rows] == ["wifi slow", "100% CPU_usage"]
    assert other.ref not in {t.ref for t in desk.queue(QueueQuery(hall_code="A101")).rows}
    desk.verify(desk.queue(QueueQuery(search="wifi")).rows[0].ref)
    assert "wifi slow" not in _titles(ctx)  # verified tickets leave the open queue


def test_every_new_event_waits_in_the_outbox(ctx: AppContext) -> None:
    from classroom_support.sync import pending_count

    t = ctx.desk.create(TicketDraft(title="x"))
    ctx.desk.add_note(t.ref, "y")
    assert pending_count(ctx.db) == 2
