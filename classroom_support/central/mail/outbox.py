"""The outbox table's operations, each on a connection inside the caller's transaction.

Life of a row: `pending` (due at `next_attempt_at`) -> `claimed` by one sender until
`claimed_until` -> `sent`, or back to `pending` later (a 4xx answer, the server unreachable),
or `dead` (a 5xx answer, or too many attempts), kept with the server's reason until someone
runs `central mail-retry`. A claim whose sender died (kill -9, power) expires and the row is
claimed again: that mail may then go out twice, with the same Message-ID, which mail clients
show once. That is the one duplicate there can be.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from classroom_support.central import models as m

PENDING, CLAIMED, SENT, DEAD = "pending", "claimed", "sent", "dead"
STATUSES = (PENDING, CLAIMED, SENT, DEAD)
MAX_ATTEMPTS = 20
BACKOFF_FIRST_S = 30.0
BACKOFF_MAX_S = 3600.0
MAX_ERROR = 1000
T = m.mail_outbox


@dataclass(frozen=True)
class OutboxRow:
    id: int
    cause: str
    recipient: str
    kind: str
    ticket_id: str
    lang: str
    subject: str
    body_text: str
    body_html: str
    message_id: str
    status: str
    attempts: int
    next_attempt_at: datetime
    claimed_by: str
    claimed_until: datetime | None
    last_error: str
    created_at: datetime
    sent_at: datetime | None


def _row(r: Any) -> OutboxRow:
    return OutboxRow(**{k: r._mapping[k] for k in OutboxRow.__dataclass_fields__})


def message_id(cause: str, recipient: str, domain: str) -> str:
    """Stable per (cause, recipient): a mail sent again after a crash has the same id."""
    digest = hashlib.sha256(f"{cause}\n{recipient.casefold()}".encode()).hexdigest()[:32]
    return f"<{digest}@{domain or 'localhost'}>"


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... at most an hour between attempts."""
    return timedelta(seconds=min(BACKOFF_FIRST_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


def insert_ignore(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Queue rows; a (cause, recipient) already queued is left as it is. Returns rows added."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(T).on_conflict_do_nothing(index_elements=[T.c.cause, T.c.recipient])
    added = 0
    for row in rows:  # one by one: executemany does not report which rows were ignored
        added += conn.execute(stmt.values(**row).returning(T.c.id)).first() is not None
    return added


def new_row(
    *,
    cause: str,
    recipient: str,
    kind: str,
    ticket_id: str,
    lang: str,
    subject: str,
    text: str,
    html: str,
    domain: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "cause": cause[:200],
        "recipient": recipient,
        "kind": kind,
        "ticket_id": ticket_id,
        "lang": lang,
        "subject": subject[:1000],
        "body_text": text,
        "body_html": html,
        "message_id": message_id(cause, recipient, domain),
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_by": "",
        "claimed_until": None,
        "last_error": "",
        "created_at": now,
        "sent_at": None,
    }


def _due(now: datetime) -> Any:
    return or_(
        and_(T.c.status == PENDING, T.c.next_attempt_at <= now),
        and_(T.c.status == CLAIMED, T.c.claimed_until < now),
    )


def claim(
    conn: Connection, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[OutboxRow]:
    """Take up to `limit` due rows for `worker` until now + lease. On PostgreSQL rows another
    sender holds locked are skipped; SQLite callers hold the write lock (one writer)."""
    pick = select(T.c.id).where(_due(now)).order_by(T.c.next_attempt_at, T.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return []
    conn.execute(
        update(T)
        .where(T.c.id.in_(ids), _due(now))
        .values(status=CLAIMED, claimed_by=worker, claimed_until=now + lease)
    )
    rows = conn.execute(
        select(T).where(T.c.id.in_(ids), T.c.claimed_by == worker, T.c.status == CLAIMED)
    )
    return sorted((_row(r) for r in rows), key=lambda r: (r.next_attempt_at, r.id))


def mark_sent(conn: Connection, row_id: int, worker: str, now: datetime) -> bool:
    result = conn.execute(
        update(T)
        .where(T.c.id == row_id, T.c.claimed_by == worker, T.c.status == CLAIMED)
        .values(status=SENT, sent_at=now, attempts=T.c.attempts + 1, claimed_until=None)
    )
    return bool(result.rowcount)


def release(conn: Connection, row_ids: Sequence[int], worker: str) -> None:
    """Hand back claimed rows not tried (due again at once, no attempt counted)."""
    if row_ids:
        conn.execute(
            update(T)
            .where(T.c.id.in_(list(row_ids)), T.c.claimed_by == worker, T.c.status == CLAIMED)
            .values(status=PENDING, claimed_until=None)
        )


def mark_failed(
    conn: Connection, row_id: int, worker: str, now: datetime, error: str, permanent: bool
) -> str:
    """A failed attempt: `dead` when permanent or out of attempts, else pending with backoff.
    Returns the new status ("" when the claim was lost to another sender)."""
    row = conn.execute(select(T).where(T.c.id == row_id, T.c.claimed_by == worker)).first()
    if row is None or row.status != CLAIMED:
        return ""
    attempts = row.attempts + 1
    dead = permanent or attempts >= MAX_ATTEMPTS
    if dead and not permanent:
        error = f"gave up after {attempts} attempts: {error}"
    conn.execute(
        update(T)
        .where(T.c.id == row_id)
        .values(
            status=DEAD if dead else PENDING,
            attempts=attempts,
            next_attempt_at=now + backoff(attempts),
            claimed_until=None,
            last_error=error[:MAX_ERROR],
        )
    )
    return DEAD if dead else PENDING


def rows(conn: Connection, statuses: Sequence[str], limit: int = 1000) -> list[OutboxRow]:
    query = select(T).where(T.c.status.in_(list(statuses))).order_by(T.c.id).limit(limit)
    return [_row(r) for r in conn.execute(query)]


def counts(conn: Connection) -> dict[str, int]:
    found = dict(conn.execute(select(T.c.status, func.count()).group_by(T.c.status)).all())
    return {s: int(found.get(s, 0)) for s in STATUSES}


def retry(conn: Connection, row_id: int, now: datetime) -> OutboxRow | None:
    """A dead (or waiting) row due again now; None when there is no such row or it is sent."""
    row = conn.execute(select(T).where(T.c.id == row_id)).first()
    if row is None or row.status in (SENT, CLAIMED):
        return None
    # Due at its creation: due now for every sender, whatever its clock says.
    due = min(now, row.created_at)
    conn.execute(
        update(T).where(T.c.id == row_id).values(status=PENDING, next_attempt_at=due, attempts=0)
    )
    found = conn.execute(select(T).where(T.c.id == row_id)).first()
    return _row(found) if found else None
