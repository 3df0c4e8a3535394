"""Routed to me: a desk's queue puts the tickets routed to it first and marks them new until
it opens them (new again when routed again); a sync that brings one says so once, with the
bell; and `classroom-support tickets route` routes from scripts."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import set_role
from sync_support import Central, connect, laptop_config, make_client, pin, sync_until_quiet
from test_queue_plans import plan
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from classroom_support import i18n
from classroom_support.app import ClassroomSupportApp
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.routed import (
    mark_opened,
    new_ids,
    routed_target,
    take_arrivals,
)
from classroom_support.routing import route_ticket
from classroom_support.screens.queue import QueueScreen
from classroom_support.tickets import SORTS, QueueQuery, TicketDraft


def make_three(ctx: AppContext, clock: FixedClock) -> list[str]:
    refs = []
    for title in ("Oldest: no sound", "Middle: projector dead", "Newest: PC 4 frozen"):
        refs.append(ctx.desk.create(TicketDraft(title=title)).ref)
        clock.advance(timedelta(minutes=1))
    return refs


def order(ctx: AppContext, **kw: object) -> list[str]:
    return [t.ref for t in ctx.desk.queue(QueueQuery(**kw)).rows]  # type: ignore[arg-type]


def test_what_is_routed_to_each_role() -> None:
    assert routed_target("level2") == "level2"
    assert routed_target("hall") == "hall"
    assert routed_target("contact-centre") == routed_target("manager") == ""


def test_level2_sees_what_is_with_level2_first(ctx: AppContext, clock: FixedClock) -> None:
    oldest, middle, newest = make_three(ctx, clock)
    route_ticket(ctx.desk, newest, level2=True)  # the hall hands it on
    set_role(ctx, "level2", halls="A101")
    assert order(ctx) == [oldest, middle, newest]  # no target: the plain order
    assert order(ctx, routed_to="level2") == [newest, oldest, middle]
    # The prefix holds whatever the sort and its direction, and pages in SQL.
    assert order(ctx, routed_to="level2", descending=True) == [newest, middle, oldest]
    assert order(ctx, routed_to="level2", sort="ref") == [newest, oldest, middle]
    assert order(ctx, routed_to="level2", limit=1, offset=1) == [oldest]
    # Closed, it is not "routed to me" any more.
    ctx.desk.resolve(newest)
    ctx.desk.verify(newest)
    assert order(ctx, routed_to="level2", statuses=()) == [oldest, middle, newest]


def test_a_hall_sees_what_was_routed_back_to_it_first(ctx: AppContext, clock: FixedClock) -> None:
    oldest, middle, newest = make_three(ctx, clock)
    # Never routed: a hall's own tickets are not "routed to" it.
    assert order(ctx, routed_to="hall") == [oldest, middle, newest]
    route_ticket(ctx.desk, middle, level2=True)
    assert order(ctx, routed_to="hall") == [oldest, middle, newest]  # with Level 2 now
    set_role(ctx, "level2", halls="A101")
    route_ticket(ctx.desk, middle, level2=False)  # Level 2 sends it back
    set_role(ctx, "hall", halls="A101")
    assert order(ctx, routed_to="hall") == [middle, oldest, newest]


def test_new_until_opened_and_new_again_when_routed_again(
    ctx: AppContext, clock: FixedClock
) -> None:
    oldest, middle, _newest = make_three(ctx, clock)
    route_ticket(ctx.desk, middle, level2=True)
    set_role(ctx, "level2", halls="A101")
    rows = ctx.desk.queue(QueueQuery(routed_to="level2")).rows
    ids = {t.ref: t.id for t in rows}
    assert new_ids(ctx.db, rows, "level2") == {ids[middle]}
    assert new_ids(ctx.db, rows, "") == set()  # a contact centre marks nothing
    mark_opened(ctx.db, ids[middle])
    assert new_ids(ctx.db, rows, "level2") == set()
    mark_opened(ctx.db, ids[oldest])  # never routed: nothing to record
    # Back to the hall and to Level 2 again: a new route event, so new again.
    route_ticket(ctx.desk, middle, level2=False)
    set_role(ctx, "hall", halls="A101")
    clock.advance(timedelta(minutes=1))
    route_ticket(ctx.desk, middle, level2=True)
    set_role(ctx, "level2", halls="A101")
    rows = ctx.desk.queue(QueueQuery(routed_to="level2")).rows
    assert new_ids(ctx.db, rows, "level2") == {ids[middle]}


def test_each_arrival_is_told_once_and_own_routes_silently(
    ctx: AppContext, clock: FixedClock
) -> None:
    _o, middle, newest = make_three(ctx, clock)
    route_ticket(ctx.desk, middle, level2=True)
    own = ctx.desk.device.device_id
    # Made on this device: recorded, never told.
    assert take_arrivals(ctx.db, "level2", own) == []
    route_ticket(ctx.desk, newest, level2=True)
    arrivals = take_arrivals(ctx.db, "level2", "another-device")
    assert [a.ticket.ref for a in arrivals] == [newest]
    assert take_arrivals(ctx.db, "level2", "another-device") == []
    assert take_arrivals(ctx.db, "", "another-device") == []


# --------------------------------------------------------------------------- the queue screen


def ref_cells(app: ClassroomSupportApp) -> list[str]:
    table = app.screen.query_one("#queue", DataTable)
    # By key: in Arabic the Ref column is laid out at the right.
    return [str(table.get_cell(row.key, "ref")) for row in table.ordered_rows]


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_the_queue_marks_routed_tickets_until_opened(
    make_app: Callable[..., ClassroomSupportApp], clock: FixedClock, language: str
) -> None:
    app = make_app(language=language)
    ctx = app.ctx
    oldest, middle, newest = make_three(ctx, clock)
    route_ticket(ctx.desk, newest, level2=True)
    set_role(ctx, "level2", halls="A101")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        cells = ref_cells(app)
        assert cells[0] == f"●{newest}" and cells[1:] == [oldest, middle]
        status = str(app.screen.query_one("#queue-status", Static).render())
        legend = "● 1 new, routed to you" if language == "en" else "● 1 جديدة محوّلة إليك"
        assert i18n.tr("queue.new_routed", count=1) == legend
        assert "1" in status and "●" in status
        await pilot.press("enter")  # the cursor is on the top row: the routed ticket
        await pilot.pause()
        assert not isinstance(app.screen, QueueScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        assert ref_cells(app) == [newest, oldest, middle]  # still first, no longer new
        assert str(app.screen.query_one("#queue-status", Static).render()).strip() == ""


# --------------------------------------------------------------------------- told on arrival


async def until(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60.0
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        await pilot.pause(0.05)


async def test_a_level2_desk_is_told_once_when_a_ticket_is_routed_to_it(
    make_ctx: Callable[..., AppContext], central: Central, clock: FixedClock
) -> None:
    i18n.set_language("en")
    _d, cc_token = central.store.add_device("contact centre", [], role="contact-centre",
                                            all_halls=True)  # fmt: skip
    _d, l2_token = central.store.add_device("level 2", [], role="level2", all_halls=True)
    centre = make_ctx(config=laptop_config("A101"), name="centre")
    pin(centre, "00000000-0000-4000-8000-000000000001", "CCTR")
    cc = connect(centre, central.url, cc_token)
    level2 = make_ctx(config=laptop_config("A101"), name="level2")
    pin(level2, "00000000-0000-4000-8000-000000000002", "LVL2")
    app = ClassroomSupportApp(level2, cursor_blink=False, monitor=False)
    app.live_enabled = False  # only the runs this test starts
    app.sync_interval = 3600.0
    app.sync_client = make_client(level2, on_device_change=app._device_changed)
    app.sync_client.configure(central.url, l2_token)
    rings: list[int] = []
    real_bell = app.bell
    app.bell = lambda: (rings.append(1), real_bell())[1]  # type: ignore[method-assign]

    def told() -> list[str]:
        return [str(n.message) for n in app._notifications if "routed to" in str(n.message)]

    def syncing() -> bool:
        # not is_finished: a run just started is still PENDING, not yet running
        return any(w.group == "sync" and not w.is_finished for w in app.workers)

    async def sync_now(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: not syncing(), "an earlier run")
        app.start_sync(manual=True)
        await pilot.pause()
        await until(pilot, lambda: not syncing(), "the run")
        await pilot.pause()

    async with app.run_test(size=(80, 24)) as pilot:
        await sync_now(pilot)
        call = centre.desk.create(
            TicketDraft(title="Projector has no signal [b]x[/b]", channel="phone")
        )
        assert cc.sync().outcome == "ok"
        await sync_now(pilot)  # the ticket arrives, not routed: nothing said
        assert told() == [] and rings == []
        clock.advance(timedelta(minutes=2))
        route_ticket(centre.desk, call.ref, level2=True, note="needs the AV team")
        sync_until_quiet([cc])
        await sync_now(pilot)
        await until(pilot, lambda: told() != [], "the notice")
        assert told() == [f"{call.ref} routed to Level 2: Projector has no signal [b]x[/b]"]
        assert rings == [1]
        await sync_now(pilot)  # nothing new: not told again
        centre.desk.add_note(call.ref, "caller rang again")
        assert cc.sync().outcome == "ok"
        await sync_now(pilot)  # a change to the same ticket, the same route: not told again
        assert len(told()) == 1 and rings == [1]
        assert ref_cells(app)[0] == f"●{call.ref}"


# --------------------------------------------------------------------------- the command


def test_route_from_the_command_line(
    make_ctx: Callable[..., AppContext],
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import functools
    import json

    from classroom_support import context
    from classroom_support.cli import main

    ctx = make_ctx(config=laptop_config("A101"), name="cli")
    set_role(ctx, "contact-centre", all_halls=True)
    monkeypatch.setattr(
        context, "open_context", functools.partial(context.open_context, clock=clock)
    )
    paths = ["--config", str(ctx.paths.config_file), "--db", str(ctx.paths.database)]
    ref = ctx.desk.create(TicketDraft(title="Lab PCs will not boot")).ref

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, *paths])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    code, out, err = run("tickets", "route", ref, "--to", "level2", "--note", "PXE", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["with_desk"] == "level2"
    assert data["events"][-1]["kind"] == "route"
    assert data["events"][-1]["payload"] == {"to": {"level2": True}, "note": "PXE"}
    code, out, err = run("--lang", "en", "tickets", "route", ref, "--to", "hall")
    assert code == 0 and out.startswith(f"{ref}: Routed") and err == ""
    for argv, want, words in (
        (["--to", "hall"], 4, "already with Hall A101"),
        (["--to", "lvl2"], 2, "give --to level2 or --to hall"),
        ([], 2, "give --to level2 or --to hall"),
        (["--to", "level2", "--note", "x" * 10_001], 2, "too long"),
    ):
        code, out, err = run("--lang", "en", "tickets", "route", ref, *argv)
        assert (code, out) == (want, ""), err
        assert len(err.splitlines()) == 1 and words in err
    assert run("tickets", "route", "NOPE-1", "--to", "level2")[0] == 3
    set_role(ctx, "hall", halls="A101")
    code, _out, err = run("--lang", "en", "tickets", "route", ref, "--to", "level2")
    assert code == 0, err
    set_role(ctx, "hall", halls="A101")
    code, _out, err = run("--lang", "en", "tickets", "route", ref, "--to", "hall")
    assert code == 4 and "The hall routes tickets to Level 2 only" in err
    code, _out, err = run("--lang", "ar", "tickets", "route", ref, "--to", "x")
    assert code == 2 and "اكتب" in err
    assert [e.kind for e in ctx.desk.history(ctx.desk.get(ref).id)].count("route") == 3


@pytest.mark.parametrize("target", ["level2", "hall"])
@pytest.mark.parametrize("hall", ["A101", None], ids=["one-hall", "all-halls"])
@pytest.mark.parametrize("sort", SORTS)
def test_routed_first_still_walks_the_queue_indexes(
    ctx: AppContext, sort: str, hall: str | None, target: str
) -> None:
    """Routed first is the routed few, then the rest, each read in index order (queue_sql.py),
    first page and the next: never a sort of every open ticket."""
    ctx.desk.create(TicketDraft(title="x"))
    query = QueueQuery(hall_code=hall, sort=sort, routed_to=target)
    after = query._replace(after=ctx.desk.queue(query).last_key)
    for q in (query, after):
        found = plan(ctx, q)
        assert "TEMP B-TREE" not in found, found
        assert "SCAN ticket" not in found, found


def test_paging_across_the_seam(ctx: AppContext, clock: FixedClock) -> None:
    refs = []
    for i in range(7):
        refs.append(ctx.desk.create(TicketDraft(title=f"t{i}")).ref)
        clock.advance(timedelta(minutes=1))
    for ref in (refs[5], refs[2], refs[6]):
        route_ticket(ctx.desk, ref, level2=True)
    want = [refs[2], refs[5], refs[6], refs[0], refs[1], refs[3], refs[4]]
    for size in (1, 2, 3, 4):
        got: list[str] = []
        for offset in range(0, 7, size):
            page = ctx.desk.queue(QueueQuery(routed_to="level2", offset=offset, limit=size))
            assert page.total == 7
            got += [t.ref for t in page.rows]
        assert got == want, size
