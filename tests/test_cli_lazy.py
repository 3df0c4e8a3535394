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
    result = subprocess.run(
        [sys.executable, "-c", MODULES_PROBE.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    return seen["code"], set(seen["modules"])


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
