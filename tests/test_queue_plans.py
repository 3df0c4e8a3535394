"""Every queue sort reads an index in order, for one hall and for all halls, both directions:
no page sorts the open tickets (checked on SQLite's query plan, not on timings)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from classroom_support.context import AppContext
from classroom_support.models import STATUS_RANK_SQL
from classroom_support.tickets import SORTS, STATUSES, QueueQuery, TicketDraft


def page_statements(ctx: AppContext, query: QueueQuery) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    engine = ctx.db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        ctx.desk.queue(query)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("hall", ["A101", None], ids=["one-hall", "all-halls"])
@pytest.mark.parametrize("sort", SORTS)
def test_each_sort_walks_an_index(
    ctx: AppContext, sort: str, hall: str | None, descending: bool
) -> None:
    ctx.desk.create(TicketDraft(title="x"))
    query = QueueQuery(hall_code=hall, sort=sort, descending=descending, offset=100)
    with ctx.db.read() as s:
        conn = s.connection()
        for statement, params in page_statements(ctx, query):
            plan = " | ".join(
                str(row[3])
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            )
            assert "TEMP B-TREE" not in plan, plan
            assert "USING INDEX ix_ticket_" in plan or "COVERING INDEX ix_ticket_" in plan, plan


def test_the_status_order_in_sql_is_the_statuses_order(ctx: AppContext) -> None:
    with ctx.db.read() as s:
        conn = s.connection()
        ranks = [
            conn.exec_driver_sql(
                f"SELECT {STATUS_RANK_SQL} FROM (SELECT ? AS status)", (st,)
            ).scalar()
            for st in STATUSES
        ]
    assert ranks == list(range(len(STATUSES)))


def test_descending_is_the_exact_reverse(ctx: AppContext) -> None:
    for i, priority in enumerate(("low", "high", "high", "critical", "normal")):
        ctx.desk.create(TicketDraft(title=f"t{i}", priority=priority, seat=str(i % 2)))
    for sort in SORTS:
        up = [t.ref for t in ctx.desk.queue(QueueQuery(sort=sort)).rows]
        down = [t.ref for t in ctx.desk.queue(QueueQuery(sort=sort, descending=True)).rows]
        assert down == up[::-1], sort
