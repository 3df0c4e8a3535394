"""The business calendar per hall (or one for all), rebuilt when sessions or closures change."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    func,
    select,
)

from classroom_support.central import models as m
from classroom_support.central.store.core import StoreCore
from classroom_support.sla import BusinessCalendar, Closure, SessionWindow


class CalendarMixin(StoreCore):
    def calendar(self, hall: str | None = None) -> BusinessCalendar:
        with self.read() as conn:
            version = (
                int(
                    conn.execute(select(func.coalesce(func.max(m.sessions.c.seq), 0))).scalar_one()
                ),
                int(
                    conn.execute(select(func.coalesce(func.max(m.closures.c.seq), 0))).scalar_one()
                ),
            )
            if version != self._calendar_version:
                self._calendars.clear()
                self._calendar_version = version
            key = hall if self.config.sessions_scope == "hall" and hall else "*"
            cal = self._calendars.get(key)
            if cal is not None:
                return cal
            q = select(m.sessions).where(m.sessions.c.deleted.is_(False))
            if key != "*":
                q = q.where(m.sessions.c.hall_code == key)
            windows = [
                SessionWindow(r.starts_at, r.ends_at, r.course, r.hall_code)
                for r in conn.execute(q)
            ]
            closed = [
                Closure(
                    date.fromisoformat(r.start_day),
                    date.fromisoformat(r.end_day),
                    r.name,
                    r.estimated,
                )
                for r in conn.execute(select(m.closures).where(m.closures.c.deleted.is_(False)))
            ]
        cal = BusinessCalendar.from_config(self.config, windows, closed)
        self._calendars[key] = cal
        return cal
