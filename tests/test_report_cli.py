"""`classroom-support report`: table (translated), JSON and CSV of the managers' figures, and
one-line errors for bad input."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from report_fixture import NOW, WEEKS, fill_report_fixture, report_config

from classroom_support import context
from classroom_support.cli import main
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext


@pytest.fixture
def desk(
    make_ctx: Callable[..., AppContext], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The fixture's database and config, and the CLI on the fixture's fixed clock."""
    ctx = make_ctx(config=report_config(), name="desk")
    fill_report_fixture(ctx)
    ctx.close()
    monkeypatch.setattr(
        context, "open_context", partial(context.open_context, clock=FixedClock(NOW))
    )
    folder = tmp_path / "desk"
    return ["--config", str(folder / "config.toml"), "--db", str(folder / "db.sqlite3")]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err and "usage" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_json(capsys: pytest.CaptureFixture[str], desk: list[str]) -> None:
    code, out, err = run(capsys, "report", *desk, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [w["start"] for w in data["weeks"]] == WEEKS
    overall = data["groups"][0]
    assert [(w["within_target"], w["breaches"]) for w in overall["weeks"]] == [
        (1, 0),
        (0, 0),
        (2, 1),
        (2, 2),
    ]
    assert overall["total"]["median_first_response_hours"] == 2.25
    assert [(g["dimension"], g["value"]) for g in data["groups"]] == [
        ("all", ""),
        ("hall", "A101"),
        ("hall", "A102"),
        ("hall", "B201"),
        ("priority", "critical"),
        ("priority", "high"),
        ("priority", "normal"),
    ]


def test_weeks_and_hall(capsys: pytest.CaptureFixture[str], desk: list[str]) -> None:
    code, out, err = run(capsys, "report", *desk, "--json", "--weeks", "12", "--hall", "A102")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["weeks"]) == 12 and data["weeks"][0]["start"] == "2026-09-06"
    assert data["hall"] == "A102"
    assert data["groups"][0]["total"]["breaches"] == 2
    assert data["groups"][0]["total"]["within_target"] == 0


def test_csv_file(capsys: pytest.CaptureFixture[str], desk: list[str], tmp_path: Path) -> None:
    target = tmp_path / "figures.csv"
    code, out, err = run(capsys, "report", *desk, "--csv", str(target))
    assert code == 0, err
    assert str(target) in out
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7 * 4
    mid = next(r for r in rows if r["dimension"] == "all" and r["week_start"] == "2026-11-15")
    assert (mid["within_target"], mid["breaches"], mid["share_within_target"]) == (
        "2",
        "1",
        "0.6667",
    )
    assert mid["median_first_response_hours"] == "2.25"


def test_csv_to_stdout(capsys: pytest.CaptureFixture[str], desk: list[str]) -> None:
    code, out, _ = run(capsys, "report", *desk, "--csv", "-", "--weeks", "1")
    assert code == 0
    rows = list(csv.reader(out.splitlines()))
    assert rows[0][0] == "dimension" and rows[1][:3] == ["all", "", "2026-11-22"]


def test_table_in_english(capsys: pytest.CaptureFixture[str], desk: list[str]) -> None:
    code, out, err = run(capsys, "--lang", "en", "report", *desk)
    assert code == 0, err
    assert "First responses, last 4 weeks" in out and "2026-11-28 10:30" in out
    lines = out.splitlines()
    start = lines.index("All tickets")
    assert lines[start + 1].split() == [
        "Week",
        "from",
        "Within",
        "target",
        "Breaches",
        "Median",
        "first",
        "response",
    ]
    assert lines[start + 2].split() == ["2026-11-01", "1/1", "100%", "0", "5h", "0m"]
    assert lines[start + 3].split() == ["2026-11-08", "—", "0", "—"]
    assert lines[start + 4].split() == ["2026-11-15", "2/3", "67%", "1", "2h", "15m"]
    assert lines[start + 5].split() == ["2026-11-22*", "2/4", "50%", "2", "2h", "0m"]
    assert lines[start + 6].split()[:3] == ["Total", "5/8", "62%"]
    assert "Awaiting a first response, not yet due: 1" in lines[start + 7]
    assert "Hall B201" in lines and "Priority: Critical" in lines


def test_table_in_arabic(capsys: pytest.CaptureFixture[str], desk: list[str]) -> None:
    code, out, err = run(capsys, "--lang", "ar", "report", *desk, "--hall", "A101")
    assert code == 0, err
    assert "الاستجابات الأولى" in out and "القاعة A101" in out and "ضمن المهلة" in out
    assert "القاعة A102" not in out


def test_no_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "--lang", "en", "report", "--db", str(tmp_path / "d.sqlite3"))
    assert code == 0, err
    assert "No first responses or breaches in these weeks." in out


@pytest.mark.parametrize("weeks", ["0", "-3", "abc", "105", "2.5"])
def test_bad_weeks(capsys: pytest.CaptureFixture[str], tmp_path: Path, weeks: str) -> None:
    db = tmp_path / "d.sqlite3"
    code, _, err = run(capsys, "--lang", "en", "report", "--db", str(db), "--weeks", weeks)
    assert code == 2 and "--weeks" in one_line(err) and f"'{weeks}'" in err
    assert not db.exists()  # refused before anything is opened


def test_bad_hall(capsys: pytest.CaptureFixture[str], desk: list[str]) -> None:
    code, _, err = run(capsys, "--lang", "en", "report", *desk, "--hall", "Z999")
    assert code == 2 and "Z999" in one_line(err) and "A101" in err


def test_json_and_csv_together(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "d.sqlite3")
    code, _, err = run(capsys, "report", "--db", db, "--json", "--csv", str(tmp_path / "x.csv"))
    assert code == 2 and "--csv" in one_line(err)
    assert not (tmp_path / "x.csv").exists()


def test_csv_path_problems(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "d.sqlite3")
    code, _, err = run(capsys, "--lang", "en", "report", "--db", db, "--csv", str(tmp_path))
    assert code == 2 and "--csv" in one_line(err) and "folder" in err
    missing = tmp_path / "no" / "r.csv"
    code, _, err = run(capsys, "--lang", "en", "report", "--db", db, "--csv", str(missing))
    assert code == 2 and "--csv" in one_line(err)
    assert not (tmp_path / "no").exists()


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    """`report | head -1`: the reader has gone before the table is written; no traceback."""
    script = (
        "import sys; from classroom_support.cli import main; "
        f"sys.exit(main(['--lang', 'en', 'report', '--db', {str(tmp_path / 'd')!r}]))"
    )
    read_end, write_end = os.pipe()
    os.close(read_end)  # a reader that has already left
    try:
        writer = subprocess.run(
            [sys.executable, "-c", script],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": str(tmp_path)},
        )
    finally:
        os.close(write_end)
    assert writer.returncode == 141, writer.stderr
    assert writer.stderr == ""
