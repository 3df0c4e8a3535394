"""Keyset queue pages hold the queue's order: walked forward, backward or by OFFSET, every
filter and sort gives exactly the tickets of the old full sort, in its order (queue_sql.py).

The reference is the old query's order written in Python over every ticket: routed to this
desk first, then the sort's terms (priority critical first; "descending" reverses them), ties
broken by created_at then id; the search a case-insensitive substring of five columns.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from classroom_support import queue_sql
from classroom_support.context import AppContext
from classroom_support.models import Ticket
from classroom_support.queue_sql import PRIORITIES, SORTS, STATUSES, QueueQuery
from classroom_support.ticket_rows import TICKET_FIELDS, TICKET_INSERT, row_values, ticket_values
from classroom_support.tickets import TicketDraft

HALLS = ("A101", "B202", "C303")
TITLES = (
    "projector flickers",
    "Projector has no signal",
    "الشاشة لا تعمل في القاعة",
    "لا يوجد صوت",
    "100%_off the login page",
    'quote "here"',
    "printer jam",
)
SEARCHES = ("", "pro", "PRO", "jector", "%", "_o", "ال", "الشاشة", "تعمل")
SEARCHES += ("PC-1", "test-1", "TEST-", '"h')
BASE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def fill(ctx: AppContext, n: int = 260, seed: int = 13) -> list[Ticket]:
    """`n` tickets with many ties (few instants, few seats), every status, hall and priority,
    some with Level 2 and some routed back to their hall by a route event."""
    rnd = random.Random(seed)
    rows = []
    events = []
    for i in range(n):
        status = rnd.choice(STATUSES)
        priority = rnd.choice(PRIORITIES)
        at = BASE + timedelta(minutes=rnd.randrange(12))
        values = ticket_values(
            {
                "id": f"id-{rnd.randrange(10**6):06d}-{i:03d}",
                "ref": f"TEST-{i}",
                "device_seq": i + 1,
                "hall_code": rnd.choice(HALLS),
                "title": rnd.choice(TITLES),
                "seat": rnd.choice(("", "PC-1", "PC-10", "PC-2")),
                "trainee_name": rnd.choice(("", "Huda", "هدى")),
                "assignee": rnd.choice(("", "Sami")),
                "status": status,
                "is_open": status != "verified",
                "priority": priority,
                "priority_rank": PRIORITIES.index(priority),
                "with_desk": rnd.choice(("hall", "hall", "level2")),
                "created_at": at,
                "updated_at": at,
            }
        )
        rows.append(row_values(values, TICKET_FIELDS))
        if rnd.random() < 0.3:
            events.append(
                (
                    f"ev-{i}",
                    values["id"],
                    "route",
                    "{}",
                    "dev",
                    "Sami",
                    at,
                    f"{1760000000000 + i}-00000",
                )
            )
    with ctx.db.write_connection() as conn:
        raw = conn.connection.driver_connection
        raw.executemany(TICKET_INSERT, rows)
        raw.executemany(
            "INSERT INTO ticket_event (id, ticket_id, kind, payload, device_id, actor, "
            "occurred_at, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(*e[:6], e[6].replace(tzinfo=None).isoformat(" "), e[7]) for e in events],
        )
    with ctx.db.read() as s:
        return list(s.exec(select(Ticket)).all())


def routed_ids(ctx: AppContext, target: str, tickets: list[Ticket]) -> set[str]:
    if target == "level2":
        return {t.id for t in tickets if t.is_open and t.with_desk == "level2"}
    if target == "hall":
        with ctx.db.read() as s:
            conn = s.connection().connection.driver_connection
            sent = {
                r[0]
                for r in conn.execute("SELECT ticket_id FROM ticket_event WHERE kind = 'route'")
            }
        return {t.id for t in tickets if t.is_open and t.with_desk == "hall" and t.id in sent}
    return set()


def reference(q: QueueQuery, tickets: list[Ticket], routed: set[str]) -> list[str]:
    """The refs the old full sort gave, in its order."""
    text = q.search.strip().casefold()
    exact = {t.ref for t in tickets if t.ref == q.search.strip().upper()}

    def found(t: Ticket) -> bool:
        if exact:  # a ticket's exact reference finds that ticket
            return t.ref in exact
        return not text or any(text in getattr(t, c).casefold() for c in queue_sql.SEARCH_COLUMNS)

    def keep(t: Ticket) -> bool:
        return (
            (q.hall_code is None or t.hall_code == q.hall_code)
            and (not q.statuses or t.status in q.statuses)
            and (not q.priorities or t.priority in q.priorities)
            and found(t)
        )

    def terms(t: Ticket) -> tuple[Any, ...]:
        tail = (t.created_at, t.id)
        return {
            "age": tail,
            "status": (STATUSES.index(t.status), *tail),
            "priority": (-t.priority_rank, *tail),
            "seat": (t.seat, *tail),
            "ref": (t.ref,),
        }[q.sort]

    ordered = sorted([t for t in tickets if keep(t)], key=terms, reverse=q.descending)
    ordered.sort(key=lambda t: t.id not in routed)  # stable: routed first, order kept
    return [t.ref for t in ordered]


def walk_forward(ctx: AppContext, q: QueueQuery) -> Iterator[list[str]]:
    page = ctx.desk.queue(q)
    for _ in range(len(HALLS) * 300):  # a walk that never ends fails the comparison
        if not page.rows:
            return
        yield [t.ref for t in page.rows]
        page = ctx.desk.queue(q._replace(after=page.last_key, count=False))


def walk_backward(ctx: AppContext, q: QueueQuery) -> Iterator[list[str]]:
    page = ctx.desk.queue(q._replace(last=True))
    for _ in range(len(HALLS) * 300):
        if not page.rows:
            return
        yield [t.ref for t in page.rows]
        page = ctx.desk.queue(q._replace(before=page.first_key, count=False))


# Every other field at its default (the first page, counted).
queries = st.fixed_dictionaries(
    {
        "hall_code": st.sampled_from((None, *HALLS)),
        "statuses": st.sampled_from(
            (queue_sql.OPEN_STATUSES, (), ("new",), ("verified",), ("waiting", "new"))
        ),
        "priorities": st.sampled_from(((), ("critical",), ("low", "high"))),
        "search": st.sampled_from(SEARCHES),
        "sort": st.sampled_from(SORTS),
        "descending": st.booleans(),
        "limit": st.sampled_from((1, 7, 40, 100)),
        "routed_to": st.sampled_from(("", "level2", "hall")),
    }
).map(lambda fields: QueueQuery(**fields))


def test_every_page_walk_gives_the_full_sort(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = fill(ctx)
    routed = {target: routed_ids(ctx, target, tickets) for target in ("", "level2", "hall")}
    assert routed["level2"] and routed["hall"]

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        database=None,
    )
    @given(
        q=queries,
        fts=st.booleans(),
        max_arms=st.sampled_from((64, 2)),
        sort_hits_max=st.sampled_from((300, 0)),  # a word search sorts its hits, or walks
        routed_sort_max=st.sampled_from((300, -1)),  # Level 2's routed few sorted, or walked
    )
    def check(
        q: QueueQuery, fts: bool, max_arms: int, sort_hits_max: int, routed_sort_max: int
    ) -> None:
        monkeypatch.setattr(queue_sql, "MAX_ARMS", max_arms)
        monkeypatch.setattr(queue_sql, "SORT_HITS_MAX", sort_hits_max)
        monkeypatch.setattr(queue_sql, "ROUTED_SORT_MAX", routed_sort_max)
        ctx.desk._fts = fts  # the trigram index, or LIKE as before it
        expected = reference(q, tickets, routed[q.routed_to])
        first = ctx.desk.queue(q)
        assert first.total == len(expected)
        assert [r for page in walk_forward(ctx, q) for r in page] == expected
        back = [page for page in walk_backward(ctx, q)]
        assert [r for page in reversed(back) for r in page] == expected
        if len(expected) > q.limit:  # OFFSET, for a reader without a key
            at = len(expected) // 2
            page = ctx.desk.queue(q._replace(offset=at))
            assert [t.ref for t in page.rows] == expected[at : at + q.limit]

    check()


def test_a_page_row_is_the_ticket_the_orm_loads(ctx: AppContext) -> None:
    tickets = {t.ref: t for t in fill(ctx, n=30)}
    page = ctx.desk.queue(QueueQuery(statuses=()))
    assert len(page.rows) == 30
    for row in page.rows:
        assert row.model_dump() == tickets[row.ref].model_dump()
        for name, value in tickets[row.ref].model_dump().items():
            assert getattr(row, name) == value
        with pytest.raises(AttributeError):  # read-only: a change goes through the desk
            row.status = "verified"


def test_the_queue_screen_s_rows_hold_its_columns_and_every_sort_key(ctx: AppContext) -> None:
    from classroom_support.plain_read import QUEUE_VIEW_COLUMNS

    for order in queue_sql.ORDER_COLUMNS.values():
        assert set(order) <= set(QUEUE_VIEW_COLUMNS)
    fill(ctx, n=60)
    for sort in SORTS:
        q = QueueQuery(statuses=(), sort=sort, limit=25)
        full, view = ctx.desk.queue(q), ctx.desk.queue(q, QUEUE_VIEW_COLUMNS)
        assert (view.total, view.first_key, view.last_key) == (
            full.total,
            full.first_key,
            full.last_key,
        )
        now = datetime(2026, 12, 1, 12, tzinfo=UTC)
        for a, b in zip(full.rows, view.rows, strict=True):
            assert b.model_dump() == {c: getattr(a, c) for c in QUEUE_VIEW_COLUMNS}
            assert ctx.sla.headline(b, now) == ctx.sla.headline(a, now)
            with pytest.raises(AttributeError):
                b.rca_cause  # noqa: B018 - not read for the queue


def all_tickets(ctx: AppContext) -> list[Ticket]:
    with ctx.db.read() as s:
        return list(s.exec(select(Ticket)).all())


def assert_searches_match(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, text: str, seed: int
) -> None:
    """A sample of queries searching `text` (every status filter, with and without a priority
    filter, one hall and all, each sort, both directions, routed or not; the hits sorted or
    walked) give the old full sort's tickets: counted, forward, backward and the last page."""
    tickets = all_tickets(ctx)
    routed = {target: routed_ids(ctx, target, tickets) for target in ("", "level2", "hall")}
    rnd = random.Random(seed)
    statuses = (queue_sql.OPEN_STATUSES, (), ("new",), ("verified",), ("resolved", "verified"))
    for status_filter in statuses:
        for sort_hits_max in (300, 0):
            q = QueueQuery(
                hall_code=rnd.choice((None, *HALLS)),
                statuses=status_filter,
                priorities=rnd.choice(((), ("critical",), ("low", "normal", "high"))),
                search=text,
                sort=rnd.choice(SORTS),
                descending=rnd.random() < 0.5,
                limit=rnd.choice((1, 3, 7)),
                routed_to=rnd.choice(("", "level2", "hall")),
            )
            monkeypatch.setattr(queue_sql, "SORT_HITS_MAX", sort_hits_max)
            expected = reference(q, tickets, routed[q.routed_to])
            assert ctx.desk.queue(q).total == len(expected), q
            assert [r for page in walk_forward(ctx, q) for r in page] == expected, q
            back = list(walk_backward(ctx, q))
            assert [r for page in reversed(back) for r in page] == expected, q
            last = ctx.desk.queue(q._replace(last=True))
            assert [t.ref for t in last.rows] == expected[-q.limit :], q


def in_search_index(ctx: AppContext, text: str) -> dict[str, int]:
    """How many entries match `text` in each part of the search index (migration 0012)."""
    with ctx.db.read() as s:
        conn = s.connection().connection.driver_connection
        return {
            part: conn.execute(
                f"SELECT count(*) FROM ticket_fts_{part} WHERE ticket_fts_{part} MATCH ?",
                (queue_sql.fts_phrase(text),),
            ).fetchone()[0]
            for part in ("open", "closed")
        }


def test_a_word_search_follows_closing_reopening_and_edits(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open and the closed tickets are searched in two indexes: a ticket moves between
    them when it is verified or reopened, and an edit of a searched column is found at once,
    through the desk's own actions as through plain SQL."""
    fill(ctx, n=90)
    ctx.desk.fixed_role = "level2"  # verifies as well as resolves
    made = ctx.desk.create(TicketDraft(title="Overhead beamer flickers", seat="PC-7"))
    assert_searches_match(ctx, monkeypatch, "beamer", seed=1)
    assert in_search_index(ctx, "beamer") == {"open": 1, "closed": 0}

    ctx.desk.resolve(made.ref, "cable")
    ctx.desk.verify(made.ref)  # closed: only a search that asks for verified finds it
    assert in_search_index(ctx, "beamer") == {"open": 0, "closed": 1}
    assert ctx.desk.queue(QueueQuery(search="beamer")).total == 0
    assert [t.ref for t in ctx.desk.queue(QueueQuery(search="BEAMER", statuses=())).rows] == [
        made.ref
    ]
    assert_searches_match(ctx, monkeypatch, "beamer", seed=2)
    assert_searches_match(ctx, monkeypatch, "projector", seed=3)

    ctx.desk.reopen(made.ref, "again")
    assert in_search_index(ctx, "beamer") == {"open": 1, "closed": 0}
    assert_searches_match(ctx, monkeypatch, "beamer", seed=4)

    ctx.desk.assign(made.ref, "Projector crew")  # the assignee is searched too
    assert_searches_match(ctx, monkeypatch, "projector", seed=5)
    assert_searches_match(ctx, monkeypatch, "crew", seed=6)

    with ctx.db.write_connection() as conn:
        raw = conn.connection.driver_connection
        raw.execute("UPDATE ticket SET title = 'Keyboard missing' WHERE ref = 'TEST-3'")
        raw.execute("UPDATE ticket SET status = 'verified', is_open = 0 WHERE ref = 'TEST-4'")
        raw.execute("UPDATE ticket SET title = 'Keyboard stuck' WHERE ref = 'TEST-4'")
        raw.execute(
            "UPDATE ticket SET status = 'new', is_open = 1 WHERE is_open = 0 AND "
            "ref IN ('TEST-5', 'TEST-6', 'TEST-7')"
        )
        raw.execute("UPDATE ticket SET seat = seat WHERE ref = 'TEST-8'")  # nothing changed
    assert_searches_match(ctx, monkeypatch, "keyboard", seed=7)
    assert_searches_match(ctx, monkeypatch, "projector", seed=8)
    with ctx.db.write_connection() as conn:
        raw = conn.connection.driver_connection
        for ref in ("TEST-3", "TEST-4"):
            raw.execute(
                "DELETE FROM ticket_event WHERE ticket_id = (SELECT id FROM ticket WHERE ref = ?)",
                (ref,),
            )
            raw.execute("DELETE FROM ticket WHERE ref = ?", (ref,))
        for part in ("open", "closed"):
            raw.execute(
                f"INSERT INTO ticket_fts_{part}(ticket_fts_{part}) VALUES ('integrity-check')"
            )
    assert in_search_index(ctx, "keyboard") == {"open": 0, "closed": 0}
    assert_searches_match(ctx, monkeypatch, "keyboard", seed=9)
    assert_searches_match(ctx, monkeypatch, "projector", seed=10)
    # Every ticket is in exactly the index of its state, with its current text.
    tickets = all_tickets(ctx)
    for part, state in (("open", True), ("closed", False)):
        assert in_search_index(ctx, "TEST-")[part] == sum(
            t.is_open is state and t.ref.startswith("TEST-") for t in tickets
        )


def test_a_plain_sqlite3_reader_reads_the_same_page(ctx: AppContext) -> None:
    """The queue's SQL needs no ORM: a read-only `sqlite3` connection gets the same rows."""
    fill(ctx, n=40)
    query = QueueQuery(sort="priority", limit=15)
    page = ctx.desk.queue(query)
    plain = sqlite3.connect(f"file:{ctx.db.path}?mode=ro", uri=True)
    try:
        total, rows = queue_sql.read_page(plain, query, TICKET_FIELDS)
    finally:
        plain.close()
    assert total == page.total
    assert [r[TICKET_FIELDS.index("ref")] for r in rows] == [t.ref for t in page.rows]
    code = "import sys, classroom_support.queue_sql; print(sorted(m for m in sys.modules "
    code += "if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_word_search_follows_a_ticket_to_another_hall(ctx: AppContext) -> None:
    """Each hall's tickets are a rowid range of their own in the search indexes (migration
    0014): a ticket moved to another hall, one with tickets or a new one, open or closed on
    the way, is found by a search of its new hall and no longer by one of its old hall."""
    fill(ctx, n=60)
    found = [t for t in all_tickets(ctx) if "projector" in t.title.casefold()]
    open_one = next(t for t in found if t.is_open and t.hall_code != "C303")
    closed_one = next(t for t in found if not t.is_open)
    with ctx.db.write_connection() as conn:
        raw = conn.connection.driver_connection
        raw.execute("UPDATE ticket SET hall_code = 'C303' WHERE ref = ?", (open_one.ref,))
        raw.execute(
            "UPDATE ticket SET hall_code = 'D404', status = 'new', is_open = 1 WHERE ref = ?",
            (closed_one.ref,),
        )
    tickets = all_tickets(ctx)
    assert {t.ref: t.hall_code for t in tickets}[closed_one.ref] == "D404"
    for hall in (*HALLS, "D404", "E505", None):
        for statuses in (queue_sql.OPEN_STATUSES, ("verified",), ()):
            q = QueueQuery(hall_code=hall, statuses=statuses, search="projector", sort="ref")
            page = ctx.desk.queue(q._replace(limit=500))
            expected = reference(q, tickets, set())
            assert (page.total, [t.ref for t in page.rows]) == (len(expected), expected), q
    d404 = ctx.desk.queue(QueueQuery(hall_code="D404", search="PROJECTOR"))
    assert [t.ref for t in d404.rows] == [closed_one.ref]
