"""The scripting CLI: same domain and validation as the form, --json, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classroom_support.cli import main
from classroom_support.context import open_context
from classroom_support.tickets import TicketDraft


@pytest.fixture
def paths(tmp_path: Path) -> list[str]:
    config = tmp_path / "config.toml"
    config.write_text('[ui]\nlanguage = "en"\n', encoding="utf-8")
    return ["--config", str(config), "--db", str(tmp_path / "db.sqlite3")]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_show_round_trip(capsys: pytest.CaptureFixture[str], paths: list[str]) -> None:
    code, out, err = run(
        capsys,
        "tickets",
        "add",
        *paths,
        "--title",
        "Projector [bold]dead[/]",
        "--seat",
        "12",
        "--category",
        "av",
        "--priority",
        "high",
    )
    assert code == 0, err
    ref = out.strip()
    assert "-" in ref and len(ref) <= 10

    code, out, _ = run(capsys, "tickets", "list", *paths, "--json")
    [row] = json.loads(out)
    assert (row["ref"], row["title"], row["priority"]) == (ref, "Projector [bold]dead[/]", "high")

    code, out, _ = run(capsys, "tickets", "show", ref, *paths, "--json")
    data = json.loads(out)
    assert data["events"][0]["kind"] == "created"
    assert data["events"][0]["payload"]["seat"] == "12"

    code, out, _ = run(capsys, "tickets", "show", ref, *paths)
    assert code == 0 and "Projector [bold]dead[/]" in out and "created" in out

    code, out, _ = run(capsys, "tickets", "list", *paths)
    assert ref in out


def test_lang_applies_to_the_scripting_commands(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[ui]\nlanguage = "ar"\n', encoding="utf-8")
    paths = ["--config", str(config), "--db", str(tmp_path / "db.sqlite3")]
    _code, arabic, _err = run(capsys, *paths, "tickets", "list")
    _code, english, _err = run(capsys, *paths, "--lang", "en", "tickets", "list")
    assert arabic.strip() and english.strip() and arabic != english
    assert english.strip().isascii()


def test_a_reader_that_goes_away_is_no_error(tmp_path: Path) -> None:
    """`tickets list | head -1`: no traceback, as with any Unix tool."""
    env = {**os.environ, "HOME": str(tmp_path)}
    db = ["--lang", "en", "--db", str(tmp_path / "db.sqlite3")]
    # 450 kB of JSON below: far more than a pipe holds, so the writer meets the closed end.
    # Seeded through one context (300 `tickets add` commands took minutes on a busy machine).
    ctx = open_context(None, tmp_path / "db.sqlite3")
    try:
        for _ in range(300):
            ctx.desk.create(TicketDraft(title="x" * 1500))
    finally:
        ctx.close()
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    writer = subprocess.run(
        [sys.executable, "-m", "classroom_support.cli", *db, "tickets", "list", "--json"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=120,
    )
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait(timeout=30)
    assert writer.stderr == "", writer.stderr
    assert writer.returncode == 141


def test_global_options_work_before_the_subcommand(
    capsys: pytest.CaptureFixture[str], paths: list[str]
) -> None:
    code, out, err = run(capsys, *paths, "tickets", "add", "--title", "x")
    assert code == 0, err
    code, out, _ = run(capsys, *paths, "tickets", "list", "--json")
    assert len(json.loads(out)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tickets", "add", "--title", "  "], "Problem is required"),
        (["tickets", "add", "--title", "x", "--priority", "asap"], "'asap' is not one of"),
        (
            ["tickets", "add", "--title", "x", "--channel", "phone", "--caller-number", "abc"],
            "not a phone number",
        ),
        (["tickets", "show", "NOPE-9"], "No ticket 'NOPE-9'"),
        (["tickets", "list", "--status", "lost"], "unknown status 'lost'"),
    ],
)
def test_bad_input_exits_non_zero_with_one_clear_line(
    capsys: pytest.CaptureFixture[str], paths: list[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args, *paths)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_broken_config_is_reported_and_nothing_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[sla]\nfirst_response_hours = 0\n", encoding="utf-8")
    db = tmp_path / "db.sqlite3"
    code, _out, err = run(capsys, "tickets", "list", "--config", str(config), "--db", str(db))
    assert code == 2
    assert str(config) in err and "sla.first_response_hours" in err
    assert not db.exists()  # did not start half-configured


def test_locate_prints_paths(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "locate", "--db", str(tmp_path / "x.db"))
    assert code == 0
    assert f"data:     {tmp_path / 'x.db'}" in out
    assert "config:" in out and "logs:" in out


def test_human_output_neutralises_escape_codes(
    capsys: pytest.CaptureFixture[str], paths: list[str]
) -> None:
    run(capsys, "tickets", "add", *paths, "--title", "evil \x1b[2J\x1b]0;pwned\x07 title")
    _code, out, _ = run(capsys, "tickets", "list", *paths)
    assert "\x1b" not in out and "\x07" not in out
    assert "␛[2J" in out


def test_cli_subprocess_does_not_import_textual(tmp_path: Path) -> None:
    script = (
        "import sys; from classroom_support.cli import main; "
        f"code = main(['tickets', 'add', '--db', {str(tmp_path / 'db')!r}, '--title', 'x']); "
        "assert 'textual' not in sys.modules, 'textual imported'; sys.exit(code)"
    )
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_sla_due_what_if_end_to_end(capsys: pytest.CaptureFixture[str], paths: list[str]) -> None:
    from classroom_support.cli import main as cli

    # An evening course on that day adds working time.
    from classroom_support.context import open_context
    from classroom_support.sessions import SessionDraft

    ctx = open_context(paths[1], paths[3])
    ctx.sessions.add(SessionDraft("Python 101", "Omar", "2026-11-28", "17:00", "21:00"))
    ctx.close()
    code = cli(["sla", "due", "2026-11-28T15:00", "--target", "6h", "--json", *paths])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["due"] == "2026-11-29T11:00:00+03:00"
    assert data["due_utc"] == "2026-11-29T08:00:00+00:00"
    assert [(w["source"], w["label"], w["hours"]) for w in data["windows"]] == [
        ("hours", "", "1"),
        ("session", "Python 101", "4"),
        ("hours", "", "1"),
    ]
    code = cli(["sla", "due", "2026-11-28T12:00:00+00:00", *paths])
    out = capsys.readouterr().out
    assert code == 0 and "due:    Sun 2026-12-06 11:00" in out  # 48h default, 15:00 local
    assert "course: Python 101" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sla", "due", "tomorrowish"], "not an ISO 8601 time"),
        (["sla", "due", "2026-11-28T10:00", "--target", "forever"], "not a duration"),
        (["sla", "due", "2026-11-28T10:00", "--hall", "Z9"], "not one of the halls"),
    ],
)
def test_sla_due_bad_input(
    capsys: pytest.CaptureFixture[str], paths: list[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args, *paths)
    assert code == 2 and out == "" and message in err


def test_breaches_command(
    capsys: pytest.CaptureFixture[str], paths: list[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "breaches", *paths)
    assert code == 0 and "No breaches." in out
    code, out, _ = run(capsys, "breaches", *paths, "--csv", str(tmp_path / "b.csv"))
    assert code == 0 and (tmp_path / "b.csv").read_text(encoding="utf-8-sig").startswith("ref,")
