"""A real PostgreSQL for the central tests, and the switch that runs a test on both engines.

Loaded as a pytest plugin from tests/conftest.py. Debian's server binaries
(`/usr/lib/postgresql/*/bin`, the highest version) are started once per session in a temporary
directory, listening only on a unix socket there, and only when a test first asks for it; the
server is stopped at session end whatever happened. Each test gets its own database.

Central databases start at the head schema: the migrations run once per session (and per
engine) into a template — a SQLite file, a PostgreSQL database — and each test gets a copy
(`CREATE DATABASE … TEMPLATE`, SQLite's backup API), not a fresh run of every script. Tests of
the migrations themselves, or of opening a new database, ask for `empty_central_db_url`.

Opting in: a test module that wants its central tests on both engines overrides the
`central_engine` fixture with `@pytest.fixture(params=ENGINES)`; `central_db_url` (and the
`central` fixture in sync_support.py, which uses it) then runs once per engine. Choose with
`--engine sqlite|postgresql|both` (default both) or `-m "not postgresql"`.
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import psycopg

BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 60
ENGINE_NAMES = ("sqlite", "postgresql")
OWNER_FILE = "owner.pid"  # the pytest process a cluster belongs to
ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


def find_bindir() -> Path | None:
    """The newest installed server's bin directory, or None."""
    found: list[tuple[tuple[int, ...], Path]] = []
    for path in Path("/").glob(BIN_GLOB.lstrip("/")):
        version = tuple(int(p) for p in re.findall(r"\d+", path.parent.name))
        if version and (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            found.append((version, path))
    return max(found)[1] if found else None


def _as_server_user() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root but `runuser` is missing")
    return [runuser, "-u", "postgres", "--"]


class PostgresServer:
    """One throw-away cluster: initdb, pg_ctl start, CREATE/DROP DATABASE, pg_ctl stop."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        # Tests run without fsync (throw-away data); the load bench wants real commits.
        self.durable = durable
        # Short path: a unix socket path must stay under ~100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="cs-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.user = "postgres"
        self._numbers = itertools.count(1)
        self._running = False

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*_as_server_user(), *args],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({result.returncode}): "
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}{log}"
            )

    def start(self) -> None:
        (self.root / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            *([] if self.durable else ["--no-sync"]),
        )
        fast = [
            "-c fsync=off",  # throw-away data: durability is not under test here
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
        ]
        options = " ".join(
            [
                "-c listen_addresses=''",
                f"-k {self.root}",  # the unix socket lives in our temp dir
                *([] if self.durable else fast),
                "-c shared_buffers=16MB" if not self.durable else "-c shared_buffers=128MB",
                "-c max_connections=200",
            ]
        )
        self._running = True  # from here on, stop() must run even if the start fails
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        )

    def stop(self) -> None:
        if self._running:
            self._running = False
            try:
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
                )
            except (RuntimeError, subprocess.TimeoutExpired):
                self._run(
                    str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"
                )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@/{database}?host={self.root}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg

        return psycopg.connect(
            host=str(self.root), user=self.user, dbname="postgres", autocommit=True
        )

    def create_database(self) -> str:
        name = f"test_{next(self._numbers)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def copy_database(self, source: str) -> str:
        """A new database with `source`'s contents (a backup as of now); nobody may be
        connected to `source` meanwhile. Dropped at session end with the cluster."""
        name = f"test_{next(self._numbers)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(bindir: Path) -> None:
    """Stop the clusters of test sessions that died without cleaning up (SIGKILL, power cut):
    their owner process is gone. Clusters of sessions still running are left alone."""
    for root in Path("/tmp").glob("cs-pg-*"):
        try:
            owner = int((root / OWNER_FILE).read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        if (root / "data" / "postmaster.pid").exists():
            subprocess.run(
                [
                    *_as_server_user(),
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(root / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                timeout=START_TIMEOUT_S,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="central database engine(s) for the tests that run on both (default: both)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: runs on a real PostgreSQL (started by tests/postgres_support.py)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.getoption("--engine")
    if wanted == "both":
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("central_engine") if callspec is not None else None
        (drop if engine is not None and engine != wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Started on first use; stopped (and its files removed) at session end."""
    bindir = find_bindir()
    reason = ""
    if bindir is None:
        reason = (
            f"PostgreSQL server binaries not found ({BIN_GLOB}/initdb): apt-get install postgresql"
        )
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            reason = "the psycopg driver is missing: pip install -e '.[pg]'"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    assert bindir is not None
    reap_orphans(bindir)
    server = PostgresServer(bindir)
    atexit.register(server.stop)  # even if pytest is interrupted past the fixture teardown
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_DFL:  # a plain `kill` would skip both: stop the cluster first

        def stop_then_die(signum: int, _frame: FrameType | None) -> None:
            server.stop()
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

        signal.signal(signal.SIGTERM, stop_then_die)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        atexit.unregister(server.stop)
        if previous is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture
def postgres_db_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh empty database for this test, dropped afterwards."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


TEMPLATE_DATABASE = "central_template"


def _upgrade(url: str) -> None:
    """Run the central migrations to head on `url` and close every connection to it."""
    from classroom_support.central.store.engine import database_url, make_engine
    from classroom_support.central.store.schema import upgrade_schema

    engine = make_engine(database_url(url))
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_central_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite central database at the head schema and nothing else, made once per session."""
    path = tmp_path_factory.mktemp("central-template") / "central.sqlite3"
    _upgrade(str(path))
    return path


@pytest.fixture(scope="session")
def postgres_central_template(postgres_server: PostgresServer) -> str:
    """The name of a PostgreSQL database at the head schema, made once per session; nobody stays
    connected to it, so `CREATE DATABASE … TEMPLATE` can copy it."""
    with postgres_server._admin() as conn:
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DATABASE}"')
    _upgrade(postgres_server.url(TEMPLATE_DATABASE))
    return TEMPLATE_DATABASE


def copy_sqlite(source: Path, target: Path) -> None:
    """`target` becomes a copy of the SQLite database `source` (pages, header and all)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


@pytest.fixture
def central_engine() -> str:
    """The engine of the central database; a module overrides this with `params=ENGINES`."""
    return "sqlite"


@pytest.fixture
def central_db_url(request: pytest.FixtureRequest, central_engine: str, tmp_path: Path) -> str:
    """What `CentralStore.open` takes: a SQLite file path or a PostgreSQL URL, of a new database
    already at the head schema (a copy of the session's template; see the module docstring)."""
    copy = _template_copier(request, central_engine)
    return copy(tmp_path / "central" / "central.sqlite3")


@pytest.fixture
def empty_central_db_url(
    request: pytest.FixtureRequest, central_engine: str, tmp_path: Path
) -> str:
    """A new, empty central database (no tables): for tests of the migrations and of what
    opening a new database does."""
    if central_engine == "postgresql":
        return str(request.getfixturevalue("postgres_db_url"))
    assert central_engine == "sqlite", central_engine
    return str(tmp_path / "empty-central" / "central.sqlite3")


def _template_copier(request: pytest.FixtureRequest, engine: str) -> Callable[[Path], str]:
    """Makes copies of the engine's template: SQLite at the path given, PostgreSQL as a new
    database dropped when the test ends."""
    if engine == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        template: str = request.getfixturevalue("postgres_central_template")

        def copy_postgres(_sqlite_path: Path) -> str:
            name = server.copy_database(template)
            request.addfinalizer(lambda: server.drop_database(name))
            return server.url(name)

        return copy_postgres
    assert engine == "sqlite", engine
    source: Path = request.getfixturevalue("sqlite_central_template")

    def copy(sqlite_path: Path) -> str:
        copy_sqlite(source, sqlite_path)
        return str(sqlite_path)

    return copy


@pytest.fixture
def new_central_db(
    request: pytest.FixtureRequest, central_engine: str, tmp_path: Path
) -> Callable[[], str]:
    """A factory of new central databases at the head schema on the test's engine, for tests
    that need several (one per Hypothesis example); PostgreSQL ones are dropped afterwards."""

    copy = _template_copier(request, central_engine)

    def new() -> str:
        folder = Path(tempfile.mkdtemp(prefix="central-", dir=tmp_path))
        return copy(folder / "central.sqlite3")

    return new
