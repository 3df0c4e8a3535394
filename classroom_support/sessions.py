"""Course sessions of a hall: today's and upcoming, and the one running now."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from classroom_support.clock import Clock
from classroom_support.config import Config, parse_clock_time
from classroom_support.db import Database
from classroom_support.models import ClosureRow, CourseSession
from classroom_support.tickets import MAX_SHORT, ValidationError


def _after(now: datetime, previous: datetime) -> datetime:
    """An edit's time: now, but never before the version it edits (sync merges rows
    last-writer-wins on updated_at, so an edit must beat what it changed even if this
    laptop's clock is behind the machine that wrote that version)."""
    return max(now, previous + timedelta(microseconds=1))


@dataclass(frozen=True)
class SessionDraft:
    course: str
    trainer: str
    day: str  # YYYY-MM-DD, local
    start: str  # HH:MM, local
    end: str  # HH:MM, local; earlier than start means it ends after midnight


class SessionBook:
    def __init__(self, db: Database, clock: Clock, config: Config) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        # Told after every change: sessions are working time, so SLA deadlines move.
        # Told with the earliest instant the edit touched (deadlines before it cannot move).
        self.on_change: list[Callable[[datetime | None], object]] = []

    def _changed(self, since: datetime | None) -> None:
        for listener in self.on_change:
            listener(since)

    def to_instants(self, draft: SessionDraft) -> tuple[datetime, datetime]:
        if not draft.course.strip():
            raise ValidationError("course", "error.required")
        for name in ("course", "trainer"):
            if len(getattr(draft, name)) > MAX_SHORT:
                raise ValidationError(
                    name, "error.too_long", length=len(getattr(draft, name)), limit=MAX_SHORT
                )
        try:
            day = date.fromisoformat(draft.day.strip())
        except ValueError:
            raise ValidationError("day", "error.date", value=draft.day) from None
        start = parse_clock_time(draft.start)
        if start is None or start >= 24 * 60:
            raise ValidationError("start", "error.time", value=draft.start)
        end = parse_clock_time(draft.end)
        if end is None:
            raise ValidationError("end", "error.time", value=draft.end)
        if end == start:
            raise ValidationError("end", "error.end_equals_start")
        zone = self.config.zone
        starts = datetime.combine(day, time(0), zone) + timedelta(minutes=start)
        ends_day = day if end > start else day + timedelta(days=1)
        ends = datetime.combine(ends_day, time(0), zone) + timedelta(minutes=end)
        return starts, ends

    def add(self, draft: SessionDraft, hall_code: str | None = None) -> CourseSession:
        starts, ends = self.to_instants(draft)
        row = CourseSession(
            id=str(uuid.uuid4()),
            hall_code=hall_code or self.config.hall,
            course=draft.course,
            trainer=draft.trainer,
            starts_at=starts,
            ends_at=ends,
            updated_at=self.clock.now(),
        )
        with self.db.write() as s:
            s.add(row)
        self._changed(starts)
        return row

    def update(self, session_id: str, draft: SessionDraft) -> CourseSession:
        starts, ends = self.to_instants(draft)
        with self.db.write() as s:
            row = s.get(CourseSession, session_id)
            if row is None or row.deleted:
                raise ValidationError("course", "error.session_gone")
            since = min(row.starts_at, starts)
            row.course = draft.course
            row.trainer = draft.trainer
            row.starts_at = starts
            row.ends_at = ends
            row.updated_at = _after(self.clock.now(), row.updated_at)
            row.sync_pending = True
            s.add(row)
        self._changed(since)
        return row

    def delete(self, session_id: str) -> None:
        # A tombstone, not a DELETE: tickets keep their session label, and sync can carry it.
        since: datetime | None = None
        with self.db.write() as s:
            row = s.get(CourseSession, session_id)
            if row is not None:
                since = row.starts_at
                row.deleted = True
                row.updated_at = _after(self.clock.now(), row.updated_at)
                row.sync_pending = True
                s.add(row)
        self._changed(since)

    def overlapping(
        self, draft: SessionDraft, exclude_id: str | None = None, hall_code: str | None = None
    ) -> list[CourseSession]:
        """Sessions of the hall whose time overlaps the draft's (a hall holds one course at a
        time), so the form can warn before saving; ValidationError for a bad draft."""
        starts, ends = self.to_instants(draft)
        with self.db.read() as s:
            rows = s.exec(
                select(CourseSession)
                .where(
                    CourseSession.hall_code == (hall_code or self.config.hall),
                    col(CourseSession.deleted).is_(False),
                    CourseSession.starts_at < ends,
                    CourseSession.ends_at > starts,
                )
                .order_by(col(CourseSession.starts_at))
            ).all()
        return [r for r in rows if r.id != exclude_id]

    def upcoming(self, hall_code: str | None = None, days: int = 14) -> list[CourseSession]:
        """Sessions that end after the start of today (local) and begin within `days`."""
        now = self.clock.now()
        local_midnight = datetime.combine(
            now.astimezone(self.config.zone).date(), time(0), self.config.zone
        )
        with self.db.read() as s:
            rows = s.exec(
                select(CourseSession)
                .where(
                    CourseSession.hall_code == (hall_code or self.config.hall),
                    col(CourseSession.deleted).is_(False),
                    CourseSession.ends_at > local_midnight,
                    CourseSession.starts_at < now + timedelta(days=days),
                )
                .order_by(col(CourseSession.starts_at))
            ).all()
        return list(rows)

    def current(self, hall_code: str | None = None) -> CourseSession | None:
        now = self.clock.now()
        with self.db.read() as s:
            return s.exec(
                select(CourseSession)
                .where(
                    CourseSession.hall_code == (hall_code or self.config.hall),
                    col(CourseSession.deleted).is_(False),
                    CourseSession.starts_at <= now,
                    CourseSession.ends_at > now,
                )
                .order_by(col(CourseSession.starts_at))
            ).first()

    def get(self, session_id: str) -> CourseSession | None:
        with self.db.read() as s:
            return s.get(CourseSession, session_id)

    def next_start(self, hall_code: str | None = None) -> CourseSession | None:
        """The next session of the hall that has not started yet."""
        now = self.clock.now()
        with self.db.read() as s:
            return s.exec(
                select(CourseSession)
                .where(
                    CourseSession.hall_code == (hall_code or self.config.hall),
                    col(CourseSession.deleted).is_(False),
                    CourseSession.starts_at > now,
                )
                .order_by(col(CourseSession.starts_at))
            ).first()


@dataclass(frozen=True)
class ClosureDraft:
    name: str
    start: str  # YYYY-MM-DD
    end: str  # YYYY-MM-DD, empty = same day
    estimated: bool = False


class ClosureBook:
    """Public holidays and other closed days (weekly hours do not count; sessions still do)."""

    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo | None = None) -> None:
        self.db = db
        self.clock = clock
        self.zone = zone
        self.on_change: list[Callable[[datetime | None], object]] = []

    def _day_start(self, day: str) -> datetime | None:
        if self.zone is None:
            return None  # unknown zone: listeners recompute everything
        return datetime.combine(date.fromisoformat(day), time(0), self.zone)

    def validate(self, draft: ClosureDraft) -> tuple[str, str]:
        if not draft.name.strip():
            raise ValidationError("name", "error.required")
        if len(draft.name) > MAX_SHORT:
            raise ValidationError("name", "error.too_long", length=len(draft.name), limit=MAX_SHORT)
        try:
            start = date.fromisoformat(draft.start.strip())
        except ValueError:
            raise ValidationError("day", "error.date", value=draft.start) from None
        end_text = draft.end.strip() or draft.start.strip()
        try:
            end = date.fromisoformat(end_text)
        except ValueError:
            raise ValidationError("end_day", "error.date", value=draft.end) from None
        if end < start:
            raise ValidationError("end_day", "error.end_before_start")
        return start.isoformat(), end.isoformat()

    def add(self, draft: ClosureDraft) -> ClosureRow:
        start, end = self.validate(draft)
        row = ClosureRow(
            id=str(uuid.uuid4()),
            start_day=start,
            end_day=end,
            name=draft.name,
            estimated=draft.estimated,
            updated_at=self.clock.now(),
        )
        with self.db.write() as s:
            s.add(row)
        for listener in self.on_change:
            listener(self._day_start(start))
        return row

    def update(
        self, closure_id: str, draft: ClosureDraft, *, arabic_name: bool = False
    ) -> ClosureRow:
        """Change a closure's name and days. `arabic_name`: the name typed is the Arabic one
        (the one an Arabic screen shows), so the other language's name is kept. New days
        confirm the dates: an estimated holiday (a moon-sighted Eid) stops being estimated."""
        start, end = self.validate(draft)
        with self.db.write() as s:
            row = s.get(ClosureRow, closure_id)
            if row is None or row.deleted:
                raise ValidationError("name", "error.closure_gone")
            since = min(row.start_day, start)
            if (row.start_day, row.end_day) != (start, end):
                row.estimated = False
            row.start_day, row.end_day = start, end
            if arabic_name:
                row.name_ar = draft.name
            else:
                row.name = draft.name
            row.updated_at = _after(self.clock.now(), row.updated_at)
            row.sync_pending = True
            s.add(row)
        for listener in self.on_change:
            listener(self._day_start(since))
        return row

    def delete(self, closure_id: str) -> None:
        since: datetime | None = None
        with self.db.write() as s:
            row = s.get(ClosureRow, closure_id)
            if row is not None:
                since = self._day_start(row.start_day)
                row.deleted = True
                row.updated_at = _after(self.clock.now(), row.updated_at)
                row.sync_pending = True
                s.add(row)
        for listener in self.on_change:
            listener(since)

    def upcoming(self, today: date, limit: int = 200) -> list[ClosureRow]:
        with self.db.read() as s:
            return list(
                s.exec(
                    select(ClosureRow)
                    .where(
                        col(ClosureRow.deleted).is_(False), ClosureRow.end_day >= today.isoformat()
                    )
                    .order_by(col(ClosureRow.start_day))
                    .limit(limit)
                ).all()
            )
