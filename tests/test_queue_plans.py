"""Every queue page reads indexes in page order, for one hall and for all halls, both
directions, first, next and last page: no page sorts the open tickets (checked on SQLite's
query plan, not on timings)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from classroom_support import queue_sql
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.queue_sql import (
    HALLS_SQL,
    SORTS,
    QueueQuery,
    blocking_statement,
    count_statement,
    page_statements,
    routed_few,
    search_condition,
)
from classroom_support.routing import route_ticket
from classroom_support.ticket_rows import TICKET_COLUMNS
from classroom_support.tickets import TicketDraft


def plan(ctx: AppContext, query: QueueQuery) -> str:
    with ctx.db.read() as s:
        conn = s.connection().connection.driver_connection
        halls = [query.hall_code] if query.hall_code else [r[0] for r in conn.execute(HALLS_SQL)]
        search = search_condition(conn, query)
        rows = [
            row
            for statement in page_statements(query, halls, TICKET_COLUMNS, search)
            for row in conn.execute(f"EXPLAIN QUERY PLAN {statement.sql}", statement.params)
        ]
    return " | ".join(str(row[3]) for row in rows)


@pytest.mark.parametrize("page", ["first", "next", "last"])
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("hall", ["A101", None], ids=["one-hall", "all-halls"])
@pytest.mark.parametrize("sort", SORTS)
def test_each_sort_walks_an_index(
    ctx: AppContext, sort: str, hall: str | None, descending: bool, page: str
) -> None:
    ctx.desk.create(TicketDraft(title="x"))
    query = QueueQuery(hall_code=hall, sort=sort, descending=descending)
    first = ctx.desk.queue(query)
    if page == "next":
        query = query._replace(after=first.last_key)
    elif page == "last":
        query = query._replace(last=True)
    found = plan(ctx, query)
    assert "TEMP B-TREE" not in found, found
    assert "USING INDEX ix_ticket_page_" in found or "COVERING INDEX ix_ticket_page_" in found
    assert "SCAN ticket" not in found, found


@pytest.mark.parametrize("sort", SORTS)
def test_the_filters_walk_an_index_too(ctx: AppContext, sort: str) -> None:
    ctx.desk.create(TicketDraft(title="x"))
    for filters in ({"statuses": ("new",)}, {"priorities": ("critical",)}, {"statuses": ()}):
        found = plan(ctx, QueueQuery(hall_code="A101", sort=sort, **filters))  # type: ignore[arg-type]
        assert "TEMP B-TREE" not in found, (filters, found)
        assert "SCAN ticket" not in found, (filters, found)


def test_descending_is_the_exact_reverse(ctx: AppContext) -> None:
    for i, priority in enumerate(("low", "high", "high", "critical", "normal")):
        ctx.desk.create(TicketDraft(title=f"t{i}", priority=priority, seat=str(i % 2)))
    for sort in SORTS:
        up = [t.ref for t in ctx.desk.queue(QueueQuery(sort=sort)).rows]
        down = [t.ref for t in ctx.desk.queue(QueueQuery(sort=sort, descending=True)).rows]
        assert down == up[::-1], sort


@pytest.mark.parametrize("sort", SORTS)
def test_routed_first_reads_the_route_index_not_every_ticket(ctx: AppContext, sort: str) -> None:
    # A hall desk's queue puts the tickets routed to it first; that arm must not look up the
    # events of every ticket it walks (a read of each row: 175 ms for 20,000 open tickets).
    ctx.desk.create(TicketDraft(title="x"))
    found = plan(ctx, QueueQuery(hall_code="A101", sort=sort, routed_to="hall"))
    assert "ix_ticket_event_route" in found, found
    assert "CORRELATED" not in found, found
    assert "TEMP B-TREE" not in found, found
    assert "SCAN ticket" not in found, found


@pytest.mark.parametrize("search", ["", "projector"])
@pytest.mark.parametrize("sort", SORTS)
def test_level2_first_reads_the_level2_index_not_every_ticket(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, sort: str, search: str
) -> None:
    # A Level 2 desk's queue puts the tickets with Level 2 first; `with_desk` is in the row, so
    # that arm must test the rowids of the partial index instead (55 ms for 20,000 open).
    monkeypatch.setattr(queue_sql, "SORT_HITS_MAX", 0)  # a word search walks too
    ctx.desk.create(TicketDraft(title="projector"))
    found = plan(ctx, QueueQuery(hall_code="A101", sort=sort, routed_to="level2", search=search))
    assert "ix_ticket_level2" in found, found
    assert "CORRELATED" not in found, found
    assert "TEMP B-TREE" not in found, found
    assert "SCAN ticket" not in found, found


@pytest.mark.parametrize(
    ("target", "index"), [("level2", "ix_ticket_level2"), ("hall", "ix_ticket_event_route")]
)
@pytest.mark.parametrize("search", ["", "projector"])
@pytest.mark.parametrize("sort", SORTS)
def test_routed_first_with_few_routed_tickets_reads_them_by_rowid(
    ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    sort: str,
    search: str,
    target: str,
    index: str,
) -> None:
    # Few tickets with Level 2, or few route events on a hall desk (none, here): the routed
    # arms read them by rowid from the partial index and sort them, instead of walking the
    # hall's page index entry by entry to find none.
    monkeypatch.setattr(queue_sql, "SORT_HITS_MAX", 0)
    ctx.desk.create(TicketDraft(title="projector"))
    query = QueueQuery(hall_code="A101", sort=sort, routed_to=target, search=search)
    with ctx.db.read() as s:
        conn = s.connection().connection.driver_connection
        assert routed_few(conn, query)
        found = search_condition(conn, query)
        statements = page_statements(query, ["A101"], TICKET_COLUMNS, found, routed_few=True)
        routed = [st for st in statements if "NOT (" not in st.sql]  # the rest: NOT routed
        assert routed and len(routed) < len(statements)
        for statement in routed:
            plan = " | ".join(
                str(r[3])
                for r in conn.execute(f"EXPLAIN QUERY PLAN {statement.sql}", statement.params)
            )
            assert index in plan, plan
            assert "INTEGER PRIMARY KEY" in plan, plan
            assert "ix_ticket_page_" not in plan and "ix_ticket_open" not in plan, plan
    monkeypatch.setattr(queue_sql, "ROUTED_SORT_MAX", -1)  # never
    with ctx.db.read() as s:
        assert not routed_few(s.connection().connection.driver_connection, query)


def test_a_hall_desk_with_more_route_events_than_the_bound_walks_the_index(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bound counts route events, whichever way and whatever the tickets' state now: at
    # least as many as the tickets routed to the hall. Past it the routed arms walk the page
    # index as before.
    query = QueueQuery(hall_code="A101", routed_to="hall")
    monkeypatch.setattr(queue_sql, "ROUTED_SORT_MAX", 2)
    for n in range(3):
        ticket = ctx.desk.create(TicketDraft(title=f"projector {n}"))
        with ctx.db.read() as s:
            assert routed_few(s.connection().connection.driver_connection, query)
        route_ticket(ctx.desk, ticket.ref, level2=True, note="")
    with ctx.db.read() as s:
        assert not routed_few(s.connection().connection.driver_connection, query)


@pytest.mark.parametrize("page", ["first", "next", "last"])
@pytest.mark.parametrize("hall", ["A101", None], ids=["one-hall", "all-halls"])
@pytest.mark.parametrize("sort", SORTS)
def test_a_word_search_with_many_hits_walks_an_index(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, sort: str, hall: str | None, page: str
) -> None:
    """Many hits: the page walks the page indexes testing each entry against the hits (one
    probe of temp.queue_hits_open), and the count probes ix_ticket_open; the match runs once."""
    monkeypatch.setattr(queue_sql, "SORT_HITS_MAX", 0)
    for title in ("projector flickers", "no projector", "mouse"):
        ctx.desk.create(TicketDraft(title=title))
    query = QueueQuery(hall_code=hall, sort=sort, search="projector")
    first = ctx.desk.queue(query)
    assert first.total == 2
    if page == "next":
        query = query._replace(after=first.last_key)
    elif page == "last":
        query = query._replace(last=True)
    found = plan(ctx, query)
    assert "TEMP B-TREE" not in found, found
    assert "INDEX ix_ticket_page_" in found, found
    assert "USING ROWID SEARCH ON TABLE queue_hits_open FOR IN-OPERATOR" in found, found
    assert "SCAN ticket" not in found and "ticket_fts" not in found, found
    with ctx.db.read() as s:
        conn = s.connection().connection.driver_connection
        search = search_condition(conn, query)
        assert search is not None and search.hits == 2
        count = count_statement(query, ["A101"], search)
        counted = " | ".join(
            str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {count.sql}", count.params)
        )
    assert "SCAN ticket" not in counted and "ticket_fts" not in counted, counted


def test_the_class_alert_list_walks_the_age_index(ctx: AppContext, clock: FixedClock) -> None:
    # The tickets that block a class: critical or about the hall's equipment, not resolved (nor
    # verified), oldest first — read by merging index walks, not by sorting the open tickets.
    made = []
    for i, (priority, category) in enumerate(
        [("critical", "other"), ("normal", "av"), ("normal", "other"), ("high", "pc")] * 3
    ):
        clock.advance(timedelta(minutes=1))
        made.append(
            ctx.desk.create(TicketDraft(title=f"t{i}", priority=priority, category=category))
        )
    ctx.desk.resolve(made[0].ref)
    ctx.desk.resolve(made[5].ref)
    ctx.desk.assign(made[1].ref, "sam")
    expected = [
        t.ref
        for t in made
        if t.ref not in (made[0].ref, made[5].ref)
        and (t.priority == "critical" or t.category in ("av", "pc", "network"))
    ]
    assert [t.ref for t in ctx.desk.blocking("A101", ("av", "pc", "network"))] == expected
    assert [t.ref for t in ctx.desk.blocking("A101", ("av", "pc", "network"), 3)] == expected[:3]
    statement = blocking_statement("A101", ("av", "pc", "network"), 20, TICKET_COLUMNS)
    with ctx.db.read() as s:
        conn = s.connection().connection.driver_connection
        rows = conn.execute(f"EXPLAIN QUERY PLAN {statement.sql}", statement.params).fetchall()
    found = " | ".join(str(row[3]) for row in rows)
    assert "TEMP B-TREE" not in found, found
    assert "ix_ticket_page_age" in found, found
