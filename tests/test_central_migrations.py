"""The central schema under Alembic, on SQLite and PostgreSQL: built from the scripts, a database
from before migrations recognised and stamped with its data intact and still serving laptops, a
newer database refused, a differing one left alone, and servers starting together."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from postgres_support import ENGINES, PostgresServer
from sqlalchemy import Column, Engine, MetaData, Table, func, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sync_support import (
    Central,
    LiveServer,
    SwappableApp,
    assert_converged,
    connect,
    laptop_config,
    pin,
)

from classroom_support.central import models as m
from classroom_support.central.app import CentralSettings, create_app
from classroom_support.central.kb import CentralKnowledgeBase
from classroom_support.central.store import CentralStore, database_url, make_engine
from classroom_support.central.store.schema import (
    INITIAL_REVISION,
    MIGRATION_LOCK_KEY,
    VERSION_TABLE,
    SchemaError,
    current_revision,
    head_revision,
    initial_schema,
    script_directory,
    upgrade_schema,
)
from classroom_support.cli import main
from classroom_support.clock import FixedClock
from classroom_support.config import load_config
from classroom_support.context import AppContext
from classroom_support.kb import Article
from classroom_support.tickets import TicketDraft

DATA = Path(__file__).parent / "data"
SERVERS = 4


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def central_db_url(empty_central_db_url: str) -> str:
    """The migrations are under test here: every central database starts empty."""
    return empty_central_db_url


@pytest.fixture
def engine(central_db_url: str) -> Iterator[Engine]:
    made = make_engine(database_url(central_db_url))
    yield made
    made.dispose()


@pytest.fixture
def other_db_url(
    request: pytest.FixtureRequest, central_engine: str, tmp_path: Path
) -> Iterator[str]:
    """A second empty database on the same engine."""
    if central_engine == "sqlite":
        yield str(tmp_path / "other" / "central.sqlite3")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


def schema_differences(engine: Engine, metadata: MetaData) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        return list(compare_metadata(context, metadata))


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def statements(dialect: str) -> list[str]:
    """The frozen DDL of the schema as `create_all` made it before migrations existed."""
    sql = (DATA / f"central_schema_before_migrations.{dialect}.sql").read_text(encoding="utf-8")
    lines = [line for line in sql.splitlines() if not line.startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def create_as_before_migrations(engine: Engine) -> None:
    with engine.begin() as conn:
        for statement in statements(engine.dialect.name):
            conn.exec_driver_sql(statement)


def as_before_migrations() -> list[Table]:
    """The central tables with revision 0001's columns only, typed as the code reads them
    (so rows made by today's code can be written to, and read from, an old database)."""
    frozen = initial_schema()
    view = MetaData()
    return [
        Table(
            table.name,
            view,
            *(
                Column(c.name, c.type, primary_key=c.primary_key)
                for c in table.columns
                if c.name in frozen.tables[table.name].columns
            ),
        )
        for table in m.central_metadata.sorted_tables
        if table.name in frozen.tables  # tables added by later revisions did not exist
    ]


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every central row (the columns a server had before migrations), in primary-key order."""
    out = {}
    with engine.connect() as conn:
        for table in as_before_migrations():
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [dict(r._mapping) for r in rows]
    return out


# --------------------------------------------------------------------------- the scripts


def test_one_linear_history_starting_at_the_initial_revision() -> None:
    script = script_directory()
    assert len(script.get_heads()) == 1
    assert script.get_base() == INITIAL_REVISION
    assert head_revision() == script.get_current_head()


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_revision_0001_emits_exactly_the_ddl_create_all_emitted(dialect: Any) -> None:
    """Statement for statement, what the first script creates is what every server running
    before migrations made with `create_all` (frozen in tests/data)."""
    emitted = []
    for table in initial_schema().sorted_tables:
        emitted.append(str(CreateTable(table).compile(dialect=dialect)))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            emitted.append(str(CreateIndex(index).compile(dialect=dialect)))

    def norm(statement: str) -> str:
        return " ".join(statement.split()).replace("( ", "(").replace(" )", ")")

    assert [norm(s) for s in emitted] == [norm(s) for s in statements(dialect.name)]


# --------------------------------------------------------------------------- both engines


def test_an_empty_database_upgraded_to_head_equals_the_models(engine: Engine) -> None:
    change = upgrade_schema(engine)
    assert (change.before, change.after, change.adopted) == (None, head_revision(), False)
    assert revision_of(engine) == head_revision()
    assert schema_differences(engine, m.central_metadata) == []
    again = upgrade_schema(engine)
    assert (again.before, again.after, again.backup) == (head_revision(), head_revision(), None)


def test_a_database_from_before_migrations_is_stamped_keeps_its_data_and_serves_laptops(
    central_db_url: str,
    other_db_url: str,
    live_server: tuple[LiveServer, SwappableApp],
    make_ctx: Callable[..., AppContext],
    clock: FixedClock,
) -> None:
    server, swappable = live_server
    config = load_config(None)

    def serve(store: CentralStore) -> None:
        swappable.app = create_app(CentralSettings(store=store, clock=clock, sla_interval=0))

    # A working server's data: a laptop's tickets pushed, central tickets and notes, a course
    # session, a KB article and a KB admin, a web-form ticket, devices bound. Made by today's
    # code elsewhere...
    source = CentralStore.open(other_db_url, config, clock)
    try:
        serve(source)
        ctx = make_ctx(config=laptop_config("A101"), name="hall")
        pin(ctx, "00000000-0000-4000-8000-000000000001", "HALL")
        _device, token = source.add_device("hall A101", ["A101"])
        client = connect(ctx, server.url, token)
        made = ctx.desk.create(TicketDraft(title="Projector has no signal", seat="12"))
        ctx.desk.respond(made.ref, "On my way")
        filed = source.create_ticket(
            TicketDraft(title="Web form: cannot log in", channel="web_form", hall_code="A101")
        )
        source.act(filed.ref, "note", {"text": "ملاحظة"})
        source.put_session(
            {
                "id": "s1",
                "hall_code": "A101",
                "course": "Excel",
                "trainer": "Huda",
                "starts_at": clock.now().isoformat(),
                "ends_at": clock.now().replace(hour=11).isoformat(),
                "updated_at": clock.now().isoformat(),
            }
        )
        kb = CentralKnowledgeBase(source)
        kb.put(Article("projector", "Projector", "جهاز العرض", ("av",), "Check HDMI", "تحقق"), "t")
        kb.add_admin("Mona")
        with httpx.Client(base_url=server.url, timeout=5.0) as browser:  # a trainee's web form
            page = browser.get("/form?hall=A101")
            found = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert found is not None, page.text
            form = {"csrf": found.group(1), "hall": "A101", "hall_from_link": "1"}
            sent = browser.post("/form", data={**form, "title": "No sound"})
            assert sent.status_code == 303, sent.text
        assert client.sync().outcome == "ok"
        before = dump(source.engine)
    finally:
        swappable.app = None
        source.close()
    assert all(before.values()), "a table left empty"

    # ... and copied into a database with the schema as create_all made it, no version table.
    legacy = make_engine(database_url(central_db_url))
    try:
        create_as_before_migrations(legacy)
        with legacy.begin() as conn:
            for table in as_before_migrations():
                conn.execute(table.insert(), before[table.name])
        assert VERSION_TABLE not in inspect(legacy).get_table_names()
    finally:
        legacy.dispose()

    store = CentralStore.open(central_db_url, config, clock)
    try:
        assert revision_of(store.engine) == head_revision()
        assert dump(store.engine) == before  # stamped (and upgraded), the data intact
        assert schema_differences(store.engine, m.central_metadata) == []

        serve(store)
        newer = ctx.desk.create(TicketDraft(title="PC 4 dead"))
        report = client.sync()  # the token issued before the upgrade still works
        assert report.outcome == "ok", report.message
        assert report.pushed == 1
        assert store.ticket(newer.ref).title == "PC 4 dead"
        store.act(newer.ref, "note", {"text": "after the upgrade"})
        second = make_ctx(config=laptop_config("A101"), name="second")
        pin(second, "00000000-0000-4000-8000-000000000002", "SCND")
        fresh = connect(second, server.url, store.add_device("second", ["A101"])[1])
        assert fresh.sync().outcome == "ok" and client.sync().outcome == "ok"
        assert_converged(store, [ctx, second], {"A101"})
        assert {a.slug for a in CentralKnowledgeBase(store).articles()} == {"projector"}
    finally:
        swappable.app = None
        store.close()


def test_a_database_newer_than_the_code_is_refused_in_one_line(
    engine: Engine, central_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade_schema(engine)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0099_future'"))
    with pytest.raises(SchemaError, match=rf"0099_future.*{head_revision()}"):
        upgrade_schema(engine)

    assert main(["central", "migrate", "--db", central_db_url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "0099_future" in err and head_revision() in err
    assert revision_of(engine) == "0099_future"  # left as it was


def test_central_serve_refuses_to_start_on_a_newer_database(
    engine: Engine, central_db_url: str, tmp_path: Path
) -> None:
    """The real command, as an administrator runs it: a one-line refusal and a non-zero exit
    before anything listens."""
    upgrade_schema(engine)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0099_future'"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "classroom_support.cli",
            "central",
            "serve",
            "--port",
            "0",
            "--db",
            central_db_url,
            "--sla-interval",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "0099_future" in lines[0] and head_revision() in lines[0]
    assert "Traceback" not in done.stderr


def test_an_unversioned_database_that_differs_is_refused_untouched(engine: Engine) -> None:
    create_as_before_migrations(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE central_device DROP COLUMN last_seen_at"))
    with pytest.raises(SchemaError, match="central_device lacks column last_seen_at"):
        upgrade_schema(engine)
    assert VERSION_TABLE not in inspect(engine).get_table_names()


@contextmanager
def hold_migration_lock_until_waited_for(engine: Engine, waiters: int, go: Path) -> Iterator[None]:
    """PostgreSQL: hold the migration lock, release the servers, and let go only once all of
    them queue for it, so they truly contend (bounded: fails if they never queue)."""
    with engine.connect() as holder:
        holder.execute(select(func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
        holder.commit()
        go.touch()
        waiting = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND objid = :key"
        )
        deadline = time.monotonic() + 90
        while holder.execute(waiting, {"key": MIGRATION_LOCK_KEY}).scalar() != waiters:
            holder.commit()
            assert time.monotonic() < deadline, "the servers never queued for the lock"
            time.sleep(0.05)
        yield
        holder.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
        holder.commit()


def test_servers_starting_together_on_an_empty_database_upgrade_it_once(
    central_db_url: str, engine: Engine, tmp_path: Path
) -> None:
    """Several `central migrate` processes (as servers starting at once would) released at the
    same instant on a new database: one builds the schema, the others wait and find it done."""
    go = tmp_path / "go"
    waiter = (
        "import pathlib, sys, time\n"
        f"go = pathlib.Path({str(go)!r})\n"
        "deadline = time.monotonic() + 60\n"
        "from classroom_support.cli import main\n"
        "from classroom_support.central.store import schema\n"
        "while not go.exists() and time.monotonic() < deadline:\n"
        "    time.sleep(0.005)\n"
        f"sys.exit(main(['central', 'migrate', '--db', {central_db_url!r}]))\n"
    )
    servers = [
        subprocess.Popen(
            [sys.executable, "-c", waiter],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for _ in range(SERVERS)
    ]
    try:
        if engine.dialect.name == "postgresql":
            with hold_migration_lock_until_waited_for(engine, SERVERS, go):
                pass
        else:
            go.touch()
        outcomes = [server.communicate(timeout=120) for server in servers]
    finally:
        for server in servers:
            server.kill()
            server.wait()
    assert [server.returncode for server in servers] == [0] * SERVERS, outcomes
    lines = sorted(out.strip() for out, _err in outcomes)
    head = head_revision()
    assert lines == sorted(
        [f"central schema: empty → {head}"]
        + [f"central schema: {head} → {head} (already current)"] * (SERVERS - 1)
    ), outcomes
    assert revision_of(engine) == head
    assert schema_differences(engine, m.central_metadata) == []


# --------------------------------------------------------------------------- SQLite only


def test_tables_an_older_server_never_made_are_added_after_a_backup(tmp_path: Path) -> None:
    """A server last run before the knowledge base existed: its start-up `create_all` would
    have added the KB tables; the upgrade does the same, after an online backup."""
    path = tmp_path / "central.sqlite3"
    engine = make_engine(database_url(path))
    try:
        kb_tables = {"central_kb_article", "central_admin"}
        with engine.begin() as conn:
            for statement in statements("sqlite"):
                if not any(name in statement for name in kb_tables):
                    conn.exec_driver_sql(statement)
            conn.execute(m.meta.insert().values(key="central_prefix", value="CNTR"))
        change = upgrade_schema(engine, tmp_path / "backups")
        assert change.adopted and set(change.added_tables) == kb_tables
        assert change.backup is not None and change.backup.parent == tmp_path / "backups"
        assert schema_differences(engine, m.central_metadata) == []
        copy = make_engine(database_url(change.backup))
        try:
            names = set(inspect(copy).get_table_names())
            assert not names & kb_tables and "central_meta" in names
        finally:
            copy.dispose()
    finally:
        engine.dispose()


def test_central_migrate_says_from_and_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "central.sqlite3")
    assert main(["central", "migrate", "--db", db]) == 0
    assert capsys.readouterr().out.strip() == f"central schema: empty → {head_revision()}"
    assert main(["central", "migrate", "--db", db]) == 0
    out = capsys.readouterr().out.strip()
    assert out == f"central schema: {head_revision()} → {head_revision()} (already current)"

    legacy = tmp_path / "legacy.sqlite3"
    engine = make_engine(database_url(legacy))
    create_as_before_migrations(engine)
    engine.dispose()
    assert main(["central", "migrate", "--db", str(legacy)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"central schema: unversioned (matches {INITIAL_REVISION}, stamped)")


def test_readyz_is_503_while_the_database_is_at_another_revision(
    central: Central, central_engine: str
) -> None:
    ready = httpx.get(central.url + "/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["migrations"] == "current", ready.text
    with central.store.engine.begin() as conn:  # a newer version's server migrated it
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0099_future'"))
    stale = httpx.get(central.url + "/readyz", timeout=15)
    assert stale.status_code == 503, stale.text
    assert stale.json()["migrations"] == (
        f"the database is at 0099_future, this code at {head_revision()}"
    )
    assert stale.headers["retry-after"]


def test_existing_tokens_become_hall_devices_of_their_halls(
    central_db_url: str, clock: FixedClock
) -> None:
    """0002_device_roles: every token registered before roles is a `hall` device of the halls
    it had, and keeps working."""
    from classroom_support.central.auth import hash_token

    legacy = make_engine(database_url(central_db_url))
    try:
        create_as_before_migrations(legacy)
        old_devices = Table("central_device", MetaData(), autoload_with=legacy)
        assert "role" not in old_devices.c
        with legacy.begin() as conn:
            conn.execute(
                old_devices.insert(),
                [
                    {
                        "id": f"dev-{n}",
                        "name": f"laptop {n}",
                        "halls": halls,
                        "token_hash": hash_token(f"token-{n}-" + "x" * 40),
                        "ref_prefix": prefix,
                        "device_id": None,
                        "created_at": clock.now().replace(tzinfo=None),
                        "revoked": False,
                    }
                    for n, (halls, prefix) in enumerate((("A101", "AAAA"), ("A101,B201", "BBBB")))
                ],
            )
    finally:
        legacy.dispose()

    store = CentralStore.open(central_db_url, load_config(None), clock)
    try:
        assert revision_of(store.engine) == head_revision()
        devices = {d.id: d for d in store.devices()}
        assert {(d.role, d.halls, d.all_halls) for d in devices.values()} == {
            ("hall", ("A101",), False),
            ("hall", ("A101", "B201"), False),
        }
        device = store.authenticate("token-1-" + "x" * 40)
        assert device is not None and device.role == "hall"
        assert device.covers("B201") and not device.covers("C301")
    finally:
        store.close()
