"""The command line builds only the parser of the subcommand that runs (cli_checks.CommandParser):
what it prints — every command's `--help`, and argparse's usage errors — is what the parsers
built all at once print, and `--help` / `tickets list` import nothing they do not use."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from classroom_support import i18n
from classroom_support.cli import build_parser, main
from classroom_support.cli_checks import _LazySubParsers
from classroom_support.clock import FixedClock

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every subcommand's parser made by argparse's own add_parser and built at once, as the
    command line did before."""

    def add_parser(self: _LazySubParsers, name: str, **kwargs: Any) -> Any:
        build = kwargs.pop("build", None)
        made = argparse._SubParsersAction.add_parser(self, name, **kwargs)
        if build is not None:
            build(made)
        return made

    monkeypatch.setattr(_LazySubParsers, "add_parser", add_parser)


def command_paths(parser: argparse.ArgumentParser, path: list[str]) -> Iterator[list[str]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name in list(action.choices):
                made = action.parser(name) if isinstance(action, _LazySubParsers) else None
                yield from command_paths(made or action.choices[name], [*path, name])


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, str, str]:
    i18n.set_language("ar")
    try:
        code: Any = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


ALL_PATHS = list(command_paths(build_parser(), []))

USAGE_MISTAKES = [
    [],
    ["bogus"],
    ["--lang", "fr"],
    ["locate", "--bogus"],
    ["sla"],
    ["sla", "due"],
    ["sla", "due", "now", "--bogus"],
    ["tickets"],
    ["tickets", "lst"],
    ["tickets", "list", "--limit", "x"],
    ["tickets", "list", "--bogus"],
    ["--lang", "en", "tickets", "list", "--status"],
    ["tickets", "respond"],
    ["tickets", "note", "K7QD-1", "--bogus"],
    ["tickets", "add"],
    ["sync", "--bogus"],
    ["sync", "parked", "--bogus"],
    ["report", "--bogus"],
    ["central"],
    ["central", "bogus"],
    ["central", "serve", "--port", "x"],
    ["restore"],
]


def test_every_command_is_reached() -> None:
    names = {" ".join(p) for p in ALL_PATHS}
    assert {"tickets list", "tickets respond", "sla due", "sync parked", "central serve"} <= names
    assert len(ALL_PATHS) > 40


@pytest.mark.parametrize("path", ALL_PATHS, ids=lambda p: " ".join(p) or "top")
def test_every_help_is_the_eagerly_built_parsers(
    path: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    lazy = run([*path, "--help"], capsys)
    request.getfixturevalue("eager")
    assert run([*path, "--help"], capsys) == lazy
    assert lazy[0] == 0 and "usage: classroom-support" in lazy[1]


@pytest.mark.parametrize("argv", USAGE_MISTAKES, ids=lambda a: " ".join(a) or "nothing")
def test_usage_mistakes_say_what_the_eagerly_built_parsers_say(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    if argv == []:  # no command: the TUI would start; a missing --config stops it first
        argv = ["--config", str(tmp_path / "missing.toml")]
    lazy = run(argv, capsys)
    request.getfixturevalue("eager")
    assert run(argv, capsys) == lazy
    assert lazy[0] == 2 and lazy[2].strip()


MODULES_PROBE = """
import contextlib, io, sys
from classroom_support.cli import main
try:
    with contextlib.redirect_stdout(io.StringIO()):
        code = main({argv!r})
except SystemExit as exc:
    code = exc.code
modules = sorted(sys.modules)
import json
print(json.dumps({{"code": code, "modules": modules}}))
"""

# Modules only other commands (or the real context, or the ORM path) need.
OTHER_COMMANDS = [
    "classroom_support.sync_cli",
    "classroom_support.db_cli",
    "classroom_support.report_cli",
    "classroom_support.central",
    "classroom_support.clock",
    "classroom_support.config_reader",
    "classroom_support.config_sample",
    "sqlalchemy",
    "textual",
    "uuid",
    "tomllib",
]


def modules_of(argv: list[str], home: Path) -> tuple[Any, set[str]]:
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "PATH": "/usr/bin:/bin",
    }
    seen = run_probe(MODULES_PROBE, argv, env)
    return seen["code"], set(seen["modules"])


def run_probe(probe: str, argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a probe script in a fresh interpreter; what it printed last, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", probe.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_help_imports_no_command_config_catalog_or_typing(tmp_path: Path) -> None:
    code, modules = modules_of(["--help"], tmp_path)
    assert code == 0
    unused = [
        *OTHER_COMMANDS,
        "classroom_support.cli_tickets",
        "classroom_support.cli_ticket_actions",
        "classroom_support.config_model",
        "classroom_support.i18n",
        "classroom_support.locales.ar",
        "classroom_support.locales.en",
        "dataclasses",
        "json",
        "platformdirs",
        "typing",
        "zoneinfo",
    ]
    assert sorted(m for m in unused if m in modules) == []


def test_tickets_list_imports_only_its_own_path(tmp_path: Path, clock: FixedClock) -> None:
    """No config file (the defaults: Arabic), a current database: the plain reader's path."""
    from classroom_support.context import open_context

    db = tmp_path / "db.sqlite3"
    open_context(tmp_path / "none.toml", db, clock=clock).close()
    code, modules = modules_of(["--db", str(db), "tickets", "list"], tmp_path / "home")
    assert code == 0
    unused = [
        *OTHER_COMMANDS,
        "classroom_support.locales.en",  # the defaults are Arabic; English is not read
        "classroom_support.ticket_rows",
        "json",  # the text form
        "pydantic",
    ]
    assert sorted(m for m in unused if m in modules) == []
    assert "classroom_support.queue_sql" in modules  # the desk's own statements


# --------------------------------------------------------------------------- the fast path
# `tickets list` is first offered to cli_list_fast (cli.main with the process's argv): what it
# prints must be what the normal path prints (cli.main with an explicit argv), and what it does
# not recognise it must leave to the normal path, printing nothing.

ODD_TITLES = [
    "[bold]x[/]",
    "\x1b[31mred\x1b[0m and a bell\x07",
    "جهاز العرض لا يظهر صورة الحاسب، والشاشة تومض كل دقيقة تقريباً في القاعة الكبيرة",
    "‮evil override‬ and a tab\there",
    "line one\nline two",
    "Ｗｉｄｅ ｔｅｘｔ ａｎｄ ＣＪＫ 漢字 plus emoji 🙂🙂",
]
ODD_SEATS = ["PC-12", "[red]7[/]", "\x1b[2J", "مقعد طويل جداً"]


@pytest.fixture(scope="module")
def list_databases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(tickets in every status, in three halls, odd titles and seats; an empty database)."""
    import sqlite3
    from datetime import UTC, datetime, timedelta

    from classroom_support.context import open_context
    from classroom_support.tickets import TicketDraft

    folder = tmp_path_factory.mktemp("list-dbs")
    clock = FixedClock(datetime(2026, 3, 28, 22, 30, tzinfo=UTC))  # across London's DST change
    no_config = folder / "none.toml"
    ctx = open_context(no_config, folder / "tickets.sqlite3", clock=clock)
    ctx.desk.fixed_role = "level2"
    refs = []
    for i in range(24):
        clock.advance(timedelta(minutes=37))
        draft = TicketDraft(
            title=f"ticket {i}", seat=f"S{i}", hall_code=("A101", "A102", "B201")[i % 3]
        )
        refs.append(ctx.desk.create(draft).ref)
    for ref in refs[1::5]:
        ctx.desk.respond(ref, "on it")
    for ref in refs[2::5]:
        ctx.desk.pause(ref, "waiting for a part")
    for ref in refs[3::5]:
        ctx.desk.resolve(ref, "done")
    for ref in refs[4::5]:
        ctx.desk.resolve(ref, "done")
        ctx.desk.verify(ref, "checked")
    ctx.close()
    conn = sqlite3.connect(folder / "tickets.sqlite3")
    with conn:
        for i, ref in enumerate(refs[: len(ODD_TITLES) * 2]):
            conn.execute(
                "UPDATE ticket SET title = ?, seat = ? WHERE ref = ?",
                (ODD_TITLES[i % len(ODD_TITLES)], ODD_SEATS[i % len(ODD_SEATS)], ref),
            )
    conn.close()
    open_context(no_config, folder / "empty.sqlite3", clock=clock).close()
    return folder / "tickets.sqlite3", folder / "empty.sqlite3"


LIST_OPTIONS = [
    [],
    ["--all"],
    ["--status", "new"],
    ["--status", "resolved", "--status", "new", "--status", "resolved"],
    ["--status=verified"],
    ["--all", "--status", "verified"],
    ["--all", "--hall", "B201"],
    ["--hall", "A102"],
    ["--hall=B201", "--limit", "2"],
    ["--limit", "0"],
    ["--limit=3", "--all"],
    ["--search", "   "],
    ["--lang", "en", "--hall", "Z999"],
    ["--lang", "ar", "--hall", "Z999"],
    ["--lang=en"],
]
CONFIGS = {
    "none": "",
    "default file": "[ui]\nlanguage = 'en'\n[device]\nhall = 'A102'\n"
    "[institute]\ntimezone = 'Europe/London'\n",
    "--config": "[ui]\nlanguage = 'ar'\n[institute]\ntimezone = 'America/New_York'\n",
    "env": "[device]\nhall = 'B201'\n",
}


def both_paths(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, Any]:
    """(the fast path's code, stdout, stderr; the normal path's), in this process."""
    from classroom_support import cli_list_fast

    fast_code = cli_list_fast.run(argv)
    fast = (fast_code, *capsys.readouterr())
    return fast, run(argv, capsys)


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("database", ["tickets", "empty"])
def test_the_fast_list_prints_what_the_normal_path_prints(
    config: str,
    database: str,
    list_databases: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    db = list_databases[0] if database == "tickets" else list_databases[1]
    top = ["--db", str(db)]
    if config == "default file":
        default = tmp_path / "home" / ".config" / "classroom-support" / "config.toml"
        default.parent.mkdir(parents=True)
        default.write_text(CONFIGS[config], encoding="utf-8")
    elif config == "--config":
        (tmp_path / "c.toml").write_text(CONFIGS[config], encoding="utf-8")
        top = ["--config", str(tmp_path / "c.toml"), *top]
    elif config == "env":
        (tmp_path / "e.toml").write_text(CONFIGS[config], encoding="utf-8")
        monkeypatch.setenv("CLASSROOM_SUPPORT_CONFIG", str(tmp_path / "e.toml"))
    lines = 0
    for options in LIST_OPTIONS:
        for argv in ([*top, "tickets", "list", *options], ["tickets", "list", *top, *options]):
            fast, normal = both_paths(argv, capsys)
            assert fast[0] == 0, argv  # the fast path took it
            assert fast == normal, argv
            lines += fast[1].count("\n")
    if database == "tickets":
        assert lines > 100  # the matrix lists tickets, not only "no tickets"
        shown = both_paths(["--db", str(db), "tickets", "list", "--all"], capsys)[0][1]
        assert "[bold]x[/]" in shown and "␛[31mred" in shown and "<U+202E>" in shown
        assert "\x1b" not in shown and "\u202e" not in shown


def test_the_fast_list_takes_the_bench_command_through_main(
    list_databases: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`cli.main()` (the console script, `python -m`) offers the process's argv to it."""
    from classroom_support import cli_list_fast

    argv = ["--db", str(list_databases[0]), "tickets", "list", "--all"]
    taken: list[Any] = []
    monkeypatch.setattr(cli_list_fast, "run", lambda a: taken.append(a))
    monkeypatch.setattr(sys, "argv", ["classroom-support", *argv])
    assert main() == 0  # the fast path declined (the spy returns None): the normal path ran
    assert taken == [argv] and capsys.readouterr().out.strip()


DECLINED = [
    ["--help"],
    ["tickets", "list", "-h"],
    ["tickets", "list", "--help"],
    ["tickets", "list", "--json"],
    ["tickets", "list", "--search", "projector"],
    ["tickets", "list", "--lim", "5"],  # argparse's abbreviation
    ["tickets", "list", "--all=1"],
    ["tickets", "list", "--status", "bogus"],
    ["tickets", "list", "--status", "new", "--status", "closed"],
    ["tickets", "list", "--limit", "-1"],
    ["tickets", "list", "--limit", "x"],
    ["tickets", "list", "--limit", "٣"],
    ["tickets", "list", "--limit"],
    ["tickets", "list", "--hall", ""],
    ["tickets", "list", "--hall", "--all"],
    ["tickets", "list", "extra"],
    ["tickets", "list", "--"],
    ["--lang", "fr", "tickets", "list", "--lang", "en"],
    ["--demo", "tickets", "list"],
    ["tickets", "--lang", "en", "list"],
    ["tickets", "show", "X"],
    ["tickets"],
    ["list"],
    ["locate"],
    [],
]


@pytest.mark.parametrize("argv", DECLINED, ids=lambda a: " ".join(a) or "nothing")
def test_the_fast_list_leaves_anything_else_to_the_normal_path(
    argv: list[str], list_databases: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from classroom_support import cli_list_fast

    assert cli_list_fast.run(["--db", str(list_databases[0]), *argv]) is None
    assert capsys.readouterr() == ("", "")


def test_the_fast_list_leaves_files_it_is_not_sure_of_to_the_normal_path(
    list_databases: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil
    import sqlite3

    from classroom_support import cli_list_fast

    def declined(*top: str) -> bool:
        code = cli_list_fast.run([*top, "tickets", "list"])
        return code is None and capsys.readouterr() == ("", "")

    db = str(list_databases[0])
    assert declined("--db", str(tmp_path / "missing.sqlite3"))
    assert declined("--db", str(tmp_path))  # a folder
    (tmp_path / "empty-file").write_bytes(b"")
    assert declined("--db", str(tmp_path / "empty-file"))
    (tmp_path / "text").write_text("not a database\n" * 20)
    assert declined("--db", str(tmp_path / "text"))
    assert declined("--config", str(tmp_path / "missing.toml"), "--db", db)
    assert declined("--config", str(tmp_path), "--db", db)
    (tmp_path / "bad.toml").write_text("[ui]\nlanguage = 'fr'\n")
    assert declined("--config", str(tmp_path / "bad.toml"), "--db", db)
    (tmp_path / "tz.toml").write_text("[institute]\ntimezone = 'Mars/Olympus'\n")
    assert declined("--config", str(tmp_path / "tz.toml"), "--db", db)
    assert declined("--config", "~/c.toml", "--db", db)  # as typed, it is not there
    old = tmp_path / "old.sqlite3"  # another schema revision: the normal path migrates
    shutil.copy(db, old)
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001_initial'")
    assert declined("--db", str(old))
    odd = tmp_path / "odd.sqlite3"  # a timestamp the desk never stores
    shutil.copy(db, odd)
    with sqlite3.connect(odd) as conn:
        conn.execute("UPDATE ticket SET created_at = created_at || 'Z'")
    assert declined("--db", str(odd))
    cut = tmp_path / "cut.sqlite3"
    cut.write_bytes(Path(db).read_bytes()[:8192])
    assert declined("--db", str(cut))
    held = tmp_path / "held.sqlite3"  # a -wal with frames: db_files looks at it first
    shutil.copy(db, held)
    writer = sqlite3.connect(held, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE ticket SET seat = seat")
    try:
        assert Path(f"{held}-wal").stat().st_size > 32
        assert declined("--db", str(held))
    finally:
        writer.close()
    monkeypatch.delenv("HOME")  # the default paths from the user database: platformdirs'
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert declined("--db", db)


def test_the_fast_list_reads_what_the_desk_reads() -> None:
    """Its constants are the config's, queue_sql's and cli_tickets', and its statement is
    queue_sql's for the same query."""
    from classroom_support import cli_list_fast as fast
    from classroom_support import cli_tickets, queue_sql
    from classroom_support.config import Config

    defaults = Config()
    assert (defaults.hall, defaults.timezone) == (fast.DEFAULT_HALL, fast.DEFAULT_TIMEZONE)
    assert (
        defaults.language,
        defaults.arabic_display,
    ) == (fast.DEFAULT_LANGUAGE, fast.DEFAULT_ARABIC_DISPLAY)
    assert fast.STATUSES == queue_sql.STATUSES and fast.OPEN_STATUSES == queue_sql.OPEN_STATUSES
    assert (fast.MAX_ARMS, fast.HALLS_SQL) == (queue_sql.MAX_ARMS, queue_sql.HALLS_SQL)
    assert fast.COLUMNS == cli_tickets.LIST_COLUMNS
    many = [f"H{i:02d}" for i in range(20)]
    for hall, statuses, halls in [
        ("A101", queue_sql.OPEN_STATUSES, ["A101"]),
        ("B201", ("verified", "new", "new"), ["B201"]),
        (None, (), ["A101", "A102", "B201"]),
        (None, ("resolved",), ["A101", "A102"]),
        (None, (), many),  # more arms than MAX_ARMS: halls become a filter
        ("A101", queue_sql.STATUSES, ["A101"]),
    ]:
        query = queue_sql.QueueQuery(hall_code=hall, statuses=statuses, limit=7, count=False)
        (statement,) = queue_sql.page_statements(query, halls, cli_tickets.LIST_COLUMNS, None)
        sql, params = fast.page_sql(hall, statuses, halls)
        assert (sql, (*params, 7)) == (statement.sql, statement.params)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"XDG_CONFIG_HOME": "/x/conf/", "XDG_DATA_HOME": "/x/data"},
        {"XDG_CONFIG_HOME": "relative", "XDG_DATA_HOME": ""},
        {"HOME": "/"},
        {"HOME": "/home/someone/"},
        {"CLASSROOM_SUPPORT_CONFIG": "/etc/c.toml", "CLASSROOM_SUPPORT_DB": "~/d.sqlite3"},
        {"CLASSROOM_SUPPORT_CONFIG": "", "CLASSROOM_SUPPORT_DB": ""},
    ],
)
@pytest.mark.parametrize("given", [(None, None), ("~/c.toml", "rel/d.sqlite3")])
def test_the_fast_list_finds_the_files_config_finds(
    env: dict[str, str], given: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from classroom_support import cli_list_fast
    from classroom_support.config import default_paths

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    found = cli_list_fast.paths(*given)
    assert found is not None
    normal = default_paths(*given)
    assert (Path(found[0]), Path(found[1])) == (normal.config_file, normal.database)


LIST_PROBE = """
import contextlib, io, json, sys
sys.argv = ["classroom-support", *{argv!r}]
from classroom_support.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main()
print(json.dumps({{"code": code, "modules": sorted(sys.modules), "out": out.getvalue()}}))
"""


@pytest.mark.parametrize("database", ["tickets", "empty"])
def test_the_fast_list_imports_no_parser_orm_or_config_model(
    database: str, list_databases: tuple[Path, Path], tmp_path: Path
) -> None:
    """In a fresh interpreter, the way the console script and `python -m` run it."""
    db = list_databases[0] if database == "tickets" else list_databases[1]
    argv = ["--db", str(db), "tickets", "list", "--all"]
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path)}
    seen = run_probe(LIST_PROBE, argv, env)
    assert seen["code"] == 0 and seen["out"].strip()
    modules = set(seen["modules"])
    assert "classroom_support.cli_list_fast" in modules
    unused = [
        "argparse",
        "sqlalchemy",
        "sqlmodel",
        "textual",
        "pydantic",
        "dataclasses",
        "pathlib",
        "platformdirs",
        "typing",
        "classroom_support.cli_checks",
        "classroom_support.cli_tickets",
        "classroom_support.config",
        "classroom_support.config_model",
        "classroom_support.context",
        "classroom_support.db_files",
        "classroom_support.queue_sql",
    ]
    if database == "tickets":  # the empty list says so through the message catalog
        unused.append("classroom_support.i18n")
    assert sorted(m for m in unused if m in modules) == []
