"""Configuration: policy defaults defined once; a broken file names file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from classroom_support.config import Config, ConfigError, default_paths, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_policy() -> None:
    c = Config()
    assert c.phone == "0566812777" and c.whatsapp == "+966566812777"
    assert c.email == "info@khit.sa"
    assert c.timezone == "Asia/Riyadh"
    assert c.first_response_hours == 48
    [window] = c.weekly_windows
    assert window.days == (0, 1, 2, 3, 4, 5, 6)
    assert (window.start_minute, window.end_minute) == (600, 960)
    assert [t.id for t in c.tiers] == ["L1", "L2"]
    assert [r.id for r in c.roster] == [
        "general_manager",
        "training_body_manager",
        "administrative_body_manager",
    ]
    assert all(not r.contact for r in c.roster)  # titles only, no personal data
    assert c.this_hall.code == "A101"


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml").phone == "0566812777"


def test_a_full_file_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[institute]
name = "KHIT"
phone = "0500000000"
[hours]
windows = [{ days = ["sun", "mon"], start = "08:00", end = "12:00" },
           { days = "all", start = "22:00", end = "02:00" }]
[sla]
first_response_hours = 24
[[halls]]
code = "L1"
name = "Lab 1"
[device]
hall = "L1"
technician = "Sami"
[ui]
language = "en"
arabic_display = "terminal"
[keymap]
new-ticket = "f2"
""",
    )
    c = load_config(path)
    assert (c.institute_name, c.phone, c.first_response_hours) == ("KHIT", "0500000000", 24.0)
    assert c.weekly_windows[0].days == (6, 0)
    assert (c.weekly_windows[1].start_minute, c.weekly_windows[1].end_minute) == (1320, 120)
    assert c.hall == "L1" and c.technician == "Sami" and c.language == "en"
    assert c.keymap == {"new-ticket": "f2"}
    assert c.source == path


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[ui\nlanguage = 1", None, "not valid TOML"),
        ('[ui]\nlanguage = "fr"', "ui.language", "must be one of ar, en"),
        ('[ui]\ncolour = "red"', "ui.colour", "unknown key"),
        ("[colours]\nx = 1", "colours", "unknown section"),
        ("[sla]\nfirst_response_hours = -3", "sla.first_response_hours", "positive number"),
        ('[sla]\nfirst_response_hours = "48h"', "sla.first_response_hours", "positive number"),
        ('[institute]\ntimezone = "Mars/Olympus"', "institute.timezone", "unknown time zone"),
        (
            '[hours]\nwindows = [{ start = "25:00", end = "16:00" }]',
            "hours.windows[0].start",
            "not a time",
        ),
        ('[device]\nhall = "Z9"', "device.hall", "is not one of the halls"),
        ('[[halls]]\nname = "no code"', "halls[0].code", "is required"),
        ("[keymap]\nnew-ticket = 3", "keymap.new-ticket", "key name"),
    ],
)
def test_broken_config_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str | None, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert problem in message
    if key:
        assert f"key '{key}'" in message


def test_paths_follow_arguments_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLASSROOM_SUPPORT_CONFIG", str(tmp_path / "env.toml"))
    assert default_paths().config_file == tmp_path / "env.toml"
    assert default_paths(tmp_path / "arg.toml").config_file == tmp_path / "arg.toml"
    assert default_paths(db=tmp_path / "x.db").database == tmp_path / "x.db"
    assert str(default_paths().database).startswith(str(tmp_path))  # XDG dirs are isolated
