"""Opening a store: the schema upgraded, the counter, the server's own identity, seeded
holidays and the roster from config."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Self

from sqlalchemy import (
    Connection,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from classroom_support.central import models as m
from classroom_support.central.store.core import CENTRAL, StoreCore
from classroom_support.central.store.devices import free_prefix
from classroom_support.central.store.engine import database_url, make_engine
from classroom_support.central.store.schema import upgrade_schema
from classroom_support.clock import Clock, SystemClock
from classroom_support.config import Config
from classroom_support.syncwire import (
    SEED_TIME,
    iso,
    seed_closure_id,
)

log = logging.getLogger("classroom_support.central")


class OpeningMixin(StoreCore):
    @classmethod
    def open(cls, db: str | Path, config: Config | None = None, clock: Clock | None = None) -> Self:
        store = cls(make_engine(database_url(db)), config or Config(), clock or SystemClock())
        try:
            store.bootstrap()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def bootstrap(self) -> None:
        """Upgrade the schema (schema.py: refuses a newer database); seed the counter, the
        server's own identity, the default holidays and the roster from config. Safe to run on
        every start, by several servers."""
        change = upgrade_schema(self.engine)
        if change.before != change.after or change.adopted:
            log.info("%s", change.describe())
        try:
            with self.engine.begin() as conn:
                if (
                    conn.execute(
                        select(m.counters.c.value).where(m.counters.c.name == "seq")
                    ).first()
                    is None
                ):
                    conn.execute(insert(m.counters).values(name="seq", value=0))
        except IntegrityError:
            pass  # another server process seeded it first
        with self.write() as conn:
            head = self._lock_head(conn)
            found = {r[0]: r[1] for r in conn.execute(select(m.meta.c.key, m.meta.c.value))}
            if "central_device_id" not in found:
                prefix = free_prefix(conn)
                conn.execute(
                    insert(m.meta),
                    [
                        {"key": "central_device_id", "value": str(uuid.uuid4())},
                        {"key": "central_prefix", "value": prefix},
                    ],
                )
                found = {r[0]: r[1] for r in conn.execute(select(m.meta.c.key, m.meta.c.value))}
            self.central_device_id = found["central_device_id"]
            self.central_prefix = found["central_prefix"]
            if "closures_seeded" not in found:
                for c in self.config.closures:
                    cid = seed_closure_id(c.start, c.end, c.name)
                    if conn.execute(select(m.closures.c.id).where(m.closures.c.id == cid)).first():
                        continue
                    head += 1
                    conn.execute(
                        insert(m.closures).values(
                            id=cid,
                            start_day=c.start,
                            end_day=c.end,
                            name=c.name,
                            name_ar=c.name_ar,
                            estimated=c.estimated,
                            deleted=False,
                            updated_at=SEED_TIME,
                            seq=head,
                            updated_by=CENTRAL,
                        )
                    )
                conn.execute(
                    insert(m.meta).values(key="closures_seeded", value=iso(self.clock.now()))
                )
            head = self._sync_roster(conn, head)
            self._set_head(conn, head)

    def _sync_roster(self, conn: Connection, head: int) -> int:
        current = {r.id: r for r in conn.execute(select(m.roster))}
        want = {r.id: r for r in self.config.roster}
        for rid, role in want.items():
            values = {
                "title": role.title,
                "title_ar": role.title_ar,
                "responsibility": role.responsibility,
                "contact": role.contact,
                "deleted": False,
            }
            row = current.get(rid)
            if row is not None and all(getattr(row, k) == v for k, v in values.items()):
                continue
            head += 1
            if row is None:
                conn.execute(insert(m.roster).values(id=rid, seq=head, **values))
            else:
                conn.execute(
                    update(m.roster).where(m.roster.c.id == rid).values(seq=head, **values)
                )
        for rid, row in current.items():
            if rid not in want and not row.deleted:
                head += 1
                conn.execute(
                    update(m.roster).where(m.roster.c.id == rid).values(deleted=True, seq=head)
                )
        return head
