"""Everything a front end (TUI or CLI) needs, opened in the right order from config and paths."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from classroom_support import i18n
from classroom_support.config import Config, Paths, default_paths, load_config
from classroom_support.records import record

if TYPE_CHECKING:  # `load_settings` runs before them (the first frame, `--help`, `tickets list`)
    from classroom_support.clock import Clock
    from classroom_support.db import Database
    from classroom_support.monitor import SlaService
    from classroom_support.sessions import ClosureBook, SessionBook
    from classroom_support.tickets import TicketDesk


@record
class AppContext:
    ready: ClassVar[bool] = True  # first_frame.FirstFrameContext stands in with False
    config: Config
    paths: Paths
    db: Database
    clock: Clock
    desk: TicketDesk
    sessions: SessionBook
    closures: ClosureBook
    sla: SlaService

    def close(self) -> None:
        self.db.close()


def load_settings(
    config_path: Path | str | None, db_path: Path | str | None, language: str | None = None
) -> tuple[Config, Paths]:
    """Config and paths, and the language set: `language` (`--lang`, this run only) or the
    config's. Raises ConfigError."""
    paths = default_paths(config_path, db_path)
    config = load_config(paths.config_file)
    i18n.set_language(language or config.language)
    i18n.set_arabic_display(config.arabic_display)
    return config, paths


def open_context(
    config_path: Path | str | None = None,
    db_path: Path | str | None = None,
    clock: Clock | None = None,
    language: str | None = None,
) -> AppContext:
    from classroom_support.clock import CLOCK_ANCHOR_KEY, ClockAnchor, CorrectedClock
    from classroom_support.db import open_database
    from classroom_support.models import MetaEntry
    from classroom_support.monitor import SlaService
    from classroom_support.sessions import ClosureBook, SessionBook
    from classroom_support.tickets import TicketDesk

    config, paths = load_settings(config_path, db_path, language)
    db = open_database(paths.database, paths.backup_dir)
    # The product's clock is the system clock corrected by the offset last measured against
    # the central server (sync); a test passes its own clock, plain or corrected.
    clock = clock or CorrectedClock()
    if isinstance(clock, CorrectedClock):
        with db.read() as s:
            stored = s.get(MetaEntry, CLOCK_ANCHOR_KEY)
        clock.use(ClockAnchor.from_json(stored.value) if stored else None)
    _seed_reference_data(db, config)
    desk = TicketDesk(db, clock, config)
    sla = SlaService(db, clock, config, desk)
    sla.seed_closures()
    desk.before_change = sla.catch_up
    sessions = SessionBook(db, clock, config)
    closures = ClosureBook(db, clock, config.zone)
    sessions.on_change.append(sla.calendar_changed)
    closures.on_change.append(sla.calendar_changed)
    return AppContext(
        config=config,
        paths=paths,
        db=db,
        clock=clock,
        desk=desk,
        sessions=sessions,
        closures=closures,
        sla=sla,
    )


def _seed_reference_data(db: Database, config: Config) -> None:
    """Halls and the roster from config, so they sit beside the tickets that refer to them."""
    from sqlmodel import select

    from classroom_support.models import HallRow, MetaEntry, RosterEntry

    with db.read() as s:
        halls = {h.code: (h.name, h.name_ar) for h in s.exec(select(HallRow)).all()}
        roster = {
            r.id: (r.title, r.title_ar, r.responsibility, r.contact)
            for r in s.exec(select(RosterEntry)).all()
        }
        # Once the central server has sent the roster (sync), it is theirs, not the config's.
        central_roster = s.get(MetaEntry, "roster_source") is not None
    want_halls = {h.code: (h.name, h.name_ar) for h in config.halls}
    want_roster = {r.id: (r.title, r.title_ar, r.responsibility, r.contact) for r in config.roster}
    if central_roster:
        want_roster = roster
    if halls == want_halls and roster == want_roster:
        return  # nothing changed: no write at start-up
    with db.write() as s:
        for code, (name, name_ar) in want_halls.items():
            s.merge(HallRow(code=code, name=name, name_ar=name_ar))
        for rid, (title, title_ar, resp, contact) in want_roster.items():
            s.merge(
                RosterEntry(
                    id=rid, title=title, title_ar=title_ar, responsibility=resp, contact=contact
                )
            )
        for rid in roster.keys() - want_roster.keys():
            row = s.get(RosterEntry, rid)
            if row is not None:
                s.delete(row)
