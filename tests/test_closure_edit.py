"""Editing a holiday (closure): name and days change in place, the calendar follows, and the
edit syncs to the server and the other laptops like an add or a delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sync_support import Central, connect, laptop_config, pin, sync_until_quiet

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.models import ClosureRow
from classroom_support.sessions import ClosureDraft
from classroom_support.tickets import ValidationError

TODAY = date(2026, 11, 28)


def stored(ctx: AppContext, closure_id: str) -> ClosureRow:
    with ctx.db.read() as s:
        row = s.get(ClosureRow, closure_id)
    assert row is not None
    return row


def test_an_edit_changes_the_row_and_tells_the_calendar(ctx: AppContext, clock: FixedClock) -> None:
    told: list[object] = []
    ctx.closures.on_change.append(told.append)
    row = ctx.closures.add(ClosureDraft("Institute day", "2026-12-03", ""))
    clock.advance(timedelta(minutes=1))
    ctx.closures.update(row.id, ClosureDraft("Institute days", "2026-12-01", "2026-12-02"))
    got = stored(ctx, row.id)
    assert (got.name, got.start_day, got.end_day) == ("Institute days", "2026-12-01", "2026-12-02")
    assert got.sync_pending and got.updated_at == clock.now()
    # Told from the earlier of the old and new first day: deadlines before it cannot move.
    zone = ctx.config.zone
    assert told[-1] == datetime(2026, 12, 1, tzinfo=zone)
    calendar = ctx.sla.calendar()
    assert not calendar.is_open(datetime(2026, 12, 2, 12, tzinfo=zone))
    assert calendar.is_open(datetime(2026, 12, 3, 12, tzinfo=zone))  # no longer closed


def test_the_arabic_name_is_edited_on_an_arabic_screen_and_the_english_one_kept(
    ctx: AppContext,
) -> None:
    eid = next(r for r in ctx.closures.upcoming(TODAY) if r.estimated and r.name_ar)
    ctx.closures.update(
        eid.id, ClosureDraft("عيد الفطر المبارك", eid.start_day, eid.end_day), arabic_name=True
    )
    got = stored(ctx, eid.id)
    assert (got.name, got.name_ar) == (eid.name, "عيد الفطر المبارك")
    assert got.estimated  # same days: still an estimate
    ctx.closures.update(eid.id, ClosureDraft(eid.name, eid.start_day, eid.start_day))
    assert not stored(ctx, eid.id).estimated  # new days: confirmed


def test_bad_edits_are_refused_and_change_nothing(ctx: AppContext) -> None:
    row = ctx.closures.add(ClosureDraft("Institute day", "2026-12-03", ""))
    for draft, field in (
        (ClosureDraft("", "2026-12-03", ""), "name"),
        (ClosureDraft("x", "3/12/2026", ""), "day"),
        (ClosureDraft("x", "2026-12-03", "2026-12-01"), "end_day"),
    ):
        with pytest.raises(ValidationError) as refused:
            ctx.closures.update(row.id, draft)
        assert refused.value.field == field
    ctx.closures.delete(row.id)
    with pytest.raises(ValidationError):
        ctx.closures.update(row.id, ClosureDraft("back", "2026-12-03", ""))
    got = stored(ctx, row.id)
    assert (got.name, got.deleted) == ("Institute day", True)


def test_an_edited_holiday_reaches_the_server_and_the_other_laptop(
    make_ctx: Callable[..., AppContext], central: Central, clock: FixedClock
) -> None:
    laptops = []
    for n, prefix in ((1, "HOLA"), (2, "HOLB")):
        ctx = make_ctx(config=laptop_config("A101"), name=f"laptop{n}")
        pin(ctx, f"00000000-0000-4000-8000-{n:012d}", prefix)
        laptops.append((ctx, connect(ctx, central.url, central.add_device("A101"))))
    (ctx_a, client_a), (ctx_b, client_b) = laptops
    row = ctx_a.closures.add(ClosureDraft("Institute day", "2026-12-03", ""))
    sync_until_quiet([client_a, client_b])
    clock.advance(timedelta(minutes=1))
    ctx_a.closures.update(row.id, ClosureDraft("Institute days", "2026-12-03", "2026-12-04"))
    sync_until_quiet([client_a, client_b])
    [on_server] = [r for r in central.store.closure_rows() if r["id"] == row.id]
    assert (on_server["name"], on_server["end_day"]) == ("Institute days", "2026-12-04")
    got = stored(ctx_b, row.id)
    assert (got.name, got.end_day, got.sync_pending) == ("Institute days", "2026-12-04", False)
    assert not stored(ctx_a, row.id).sync_pending
