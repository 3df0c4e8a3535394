"""The web form's state that every server process shares: which form tokens already filed a
ticket (single use), and the per-client post counts of the rate limit. Both live in the
database, so any number of workers (and machines) behind a proxy agree on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from classroom_support.central import models as m
from classroom_support.central.store.edits import EditsMixin
from classroom_support.tickets import TicketDraft, validate_draft

MAX_CLIENT_KEY = 100


@dataclass(frozen=True)
class FormFiling:
    """What a form post filed: its ticket, and whether this post filed it (False: the token had
    already filed `ticket_id`; `same` tells whether that earlier post sent the same thing)."""

    ticket_id: str
    new: bool
    same: bool = True


class WebFormMixin(EditsMixin):
    def file_form_ticket(
        self,
        draft: TicketDraft,
        actor: str,
        nonce: str,
        digest: str,
        browser: str,
        since: datetime,
    ) -> FormFiling:
        """File the ticket and spend the form token in one transaction: either both happen or
        neither, and a token files at most one ticket whichever worker receives it. The same
        problem sent again from the same browser since `since` (a form page fetched afresh
        after Back) is the same submission too: it files nothing."""
        draft = validate_draft(draft, self.config)
        try:
            with self.write() as conn:
                # `write()` holds the counter lock (every writer takes it first), so these
                # checks and the insert below cannot interleave with another post of the token.
                earlier = self._form_submission(conn, nonce)
                if earlier is not None:
                    return FormFiling(earlier[0], new=False, same=earlier[1] == digest)
                again = conn.execute(
                    select(m.form_submissions.c.ticket_id)
                    .where(
                        m.form_submissions.c.browser == browser,
                        m.form_submissions.c.digest == digest,
                        m.form_submissions.c.filed_at >= since,
                    )
                    .limit(1)
                ).scalar()
                if again is not None:
                    return FormFiling(str(again), new=False)
                ticket = self._file_ticket(conn, draft, actor)
                conn.execute(
                    m.form_submissions.insert().values(
                        nonce=nonce,
                        ticket_id=ticket.id,
                        digest=digest,
                        browser=browser,
                        filed_at=self.clock.now(),
                    )
                )
        except IntegrityError:  # the unique nonce: another transaction spent it first
            with self.read() as conn:
                earlier = self._form_submission(conn, nonce)
            if earlier is None:
                raise
            return FormFiling(earlier[0], new=False, same=earlier[1] == digest)
        return FormFiling(ticket.id, new=True)

    def form_submission(self, nonce: str) -> tuple[str, str] | None:
        """(ticket id, digest) a form token filed, or None if it filed nothing."""
        with self.read() as conn:
            return self._form_submission(conn, nonce)

    def _form_submission(self, conn: Connection, nonce: str) -> tuple[str, str] | None:
        row = conn.execute(
            select(m.form_submissions.c.ticket_id, m.form_submissions.c.digest).where(
                m.form_submissions.c.nonce == nonce
            )
        ).first()
        return (str(row[0]), str(row[1])) if row else None

    # ------------------------------------------------------------------ rate limit

    def count_form_post(self, client: str, now_ms: int, limit: int, window_ms: int) -> int:
        """Count one post of `client` unless it already made `limit` posts in the last
        `window_ms` (a sliding window); 0 if counted, else the milliseconds until one is.
        A refused post is not counted, so waiting that long always works. One short
        transaction; the client's row is locked for it, so workers never both take the
        last place."""
        key = client[:MAX_CLIENT_KEY]
        # Not `write()`: this needs the client's row only, not the counter every push waits
        # for (on SQLite the engine begins IMMEDIATE regardless).
        with self.one_writer(), self.engine.begin() as conn:
            conn.execute(self._insert_ignore({"client_key": key, "hits": "", "last_ms": now_ms}))
            text = conn.execute(
                select(m.form_rate.c.hits).where(m.form_rate.c.client_key == key).with_for_update()
            ).scalar_one()
            hits = sorted(h for h in (int(x) for x in str(text).split()) if h > now_ms - window_ms)
            if len(hits) >= limit:
                return max(1, hits[-limit] + window_ms - now_ms)
            hits.append(now_ms)
            hits.sort()
            conn.execute(
                update(m.form_rate)
                .where(m.form_rate.c.client_key == key)
                .values(hits=" ".join(str(h) for h in hits), last_ms=max(hits))
            )
        return 0

    def prune_form_rate(self, before_ms: int) -> int:
        """Forget clients whose last post is older than `before_ms` (their counts are all
        outside the window). Indexed on `last_ms`, so cheap when there is nothing to do."""
        with self.one_writer(), self.engine.begin() as conn:
            result = conn.execute(delete(m.form_rate).where(m.form_rate.c.last_ms < before_ms))
        return int(result.rowcount or 0)

    def _insert_ignore(self, values: dict[str, Any]) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return (
            dialect.insert(m.form_rate)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[m.form_rate.c.client_key])
        )
