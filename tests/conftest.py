"""Shared fixtures: every test gets its own config, database, data dirs and a fixed clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from postgres_support import copy_sqlite

from classroom_support import i18n
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext, open_context

# 10:30 in Riyadh on a Saturday: inside the default opening hours.
FIXED_NOW = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
# Live central server, fault proxy and laptops for the sync tests (tests/sync_support.py);
# headless Chromium for the web-form tests (tests/browser_support.py); a real PostgreSQL and the
# engine switch for the central tests (tests/postgres_support.py); small real disks that can be
# filled or made read-only (tests/disk_support.py); a real Dovecot IMAP server for the e-mail
# channel (tests/dovecot_support.py) and a real SMTP server (tests/smtp_support.py); what
# running in parallel asks of every test (tests/parallel_support.py).
pytest_plugins = [
    "sync_support",
    "browser_support",
    "postgres_support",
    "disk_support",
    "dovecot_support",
    "smtp_support",
    "parallel_support",
]


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No developer config, database or terminal quirk leaks into a test."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    monkeypatch.delenv("CLASSROOM_SUPPORT_CONFIG", raising=False)
    monkeypatch.delenv("CLASSROOM_SUPPORT_DB", raising=False)
    monkeypatch.delenv("CLASSROOM_SUPPORT_TERMINAL_BIDI", raising=False)
    monkeypatch.delenv("TERM_PROGRAM", raising=False)
    monkeypatch.delenv("KONSOLE_VERSION", raising=False)
    # pytest-xdist's workers carry COLUMNS=80 LINES=24, which Textual (and argparse) obey: an
    # app started in tmux at 120×36 would draw at 80×24 only when the suite runs in parallel.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    yield
    i18n.set_language("ar")
    i18n.set_arabic_display("auto")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FIXED_NOW)


@pytest.fixture(scope="session")
def laptop_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A laptop database at the head schema and nothing else, migrated once per session: a new
    context's database starts as a copy of it (the migrations' own tests open empty files)."""
    from classroom_support.db import open_database

    path = tmp_path_factory.mktemp("laptop-template") / "db.sqlite3"
    open_database(path).close()
    return path


def _config_text(language: str, config: str) -> str:
    return config or f'[ui]\nlanguage = "{language}"\n[device]\ntechnician = "Sami"\n'


@pytest.fixture
def make_ctx(
    tmp_path: Path, clock: FixedClock, laptop_db_template: Path
) -> Iterator[Callable[..., AppContext]]:
    """Open a context on a fresh database (a copy of `laptop_db_template`, or of `template`
    when given; the same `name` again reopens that database); `config` is TOML text for the
    config file."""
    opened: list[AppContext] = []

    def factory(
        language: str = "en", config: str = "", name: str = "ctx", template: Path | None = None
    ) -> AppContext:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        config_file = folder / "config.toml"
        config_file.write_text(_config_text(language, config), encoding="utf-8")
        database = folder / "db.sqlite3"
        if not database.exists():
            copy_sqlite(template or laptop_db_template, database)
        ctx = open_context(config_file, database, clock=clock)
        i18n.set_language(language)
        opened.append(ctx)
        return ctx

    yield factory
    for ctx in opened:
        ctx.close()


@pytest.fixture
def ctx(make_ctx: Callable[..., AppContext]) -> AppContext:
    return make_ctx()


def pin_device(ctx: AppContext, prefix: str = "TEST") -> None:
    """A fixed device identity, so references (and snapshots) do not depend on randomness."""
    from classroom_support.models import DeviceIdentity

    with ctx.db.write() as s:
        s.add(
            DeviceIdentity(
                id=1,
                device_id="00000000-0000-4000-8000-000000000001",
                ref_prefix=prefix,
                created_at=FIXED_NOW,
            )
        )
    ctx.desk._device = None


def set_role(ctx: AppContext, role: str, halls: str = "", all_halls: bool = False) -> None:
    """This desk's role and halls as a central server's hello would leave them."""
    from classroom_support.models import SyncState

    with ctx.db.write() as s:
        state = s.get(SyncState, 1) or SyncState(id=1)
        state.role, state.halls, state.all_halls = role, halls, all_halls
        s.add(state)


@pytest.fixture(scope="session")
def demo_db_templates(
    tmp_path_factory: pytest.TempPathFactory, laptop_db_template: Path
) -> Callable[[str, str, datetime], Path]:
    """The database `make_app(demo=True)` starts from: a pinned device and the demo's data
    (`fill_demo` is seeded, so it depends only on the config, the language and the clock),
    made once per session for each of those and copied for every test that asks."""
    made: dict[tuple[str, str, datetime], Path] = {}

    def template(language: str, config: str, now: datetime) -> Path:
        from classroom_support.demo import fill_demo

        key = (language, _config_text(language, config), now)
        if key not in made:
            folder = tmp_path_factory.mktemp("demo-template")
            config_file = folder / "config.toml"
            config_file.write_text(key[1], encoding="utf-8")
            database = folder / "db.sqlite3"
            copy_sqlite(laptop_db_template, database)
            ctx = open_context(config_file, database, clock=FixedClock(now))
            try:
                i18n.set_language(language)
                pin_device(ctx)
                fill_demo(ctx)
            finally:
                ctx.close()
            made[key] = database
        return made[key]

    return template


@pytest.fixture
def make_app(
    make_ctx: Callable[..., AppContext],
    clock: FixedClock,
    demo_db_templates: Callable[[str, str, datetime], Path],
) -> Callable[..., object]:
    from classroom_support.app import ClassroomSupportApp

    def factory(language: str = "en", config: str = "", demo: bool = False) -> ClassroomSupportApp:
        if demo:
            template = demo_db_templates(language, config, clock.now())
            ctx = make_ctx(language=language, config=config, template=template)
        else:
            ctx = make_ctx(language=language, config=config)
            pin_device(ctx)
        return ClassroomSupportApp(ctx, cursor_blink=False, monitor=False)

    return factory
