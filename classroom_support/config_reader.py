"""TOML text to a `Config`: the shared checks every section uses, and the order sections are read.

Each section has its own reader function in `config_sections.py`; the checks here (`text`,
`positive`, `unknown`...) raise a `ConfigError` that names the file, the key and the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from classroom_support import config_sections as s
from classroom_support.config_mail import read_mail
from classroom_support.config_model import DAY_NAMES, Config, ConfigError, WeeklyWindow

Values = dict[str, Any]


class TomlReader:
    """Typed access to a parsed TOML file; every failure is a `ConfigError` naming the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.path, key, problem)

    def table(self, raw: dict[str, Any], key: str) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table ([section])")
        return value

    def array(self, raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = raw.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, f"must be an array of tables ([[{key}]])")
        return value

    def text(self, table: dict[str, Any], where: str, key: str, default: str | None = None) -> str:
        if key not in table:
            if default is None:
                raise self.fail(f"{where}.{key}", "is required")
            return default
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"must be text, got {value!r}")
        return value

    def unknown(self, table: dict[str, Any], where: str, known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                raise self.fail(f"{where}.{key}", f"unknown key; known: {', '.join(known)}")

    def positive(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(key, f"must be a positive number, got {value!r}")
        return float(value)

    def iso_date(self, table: dict[str, Any], where: str, key: str) -> str:
        value = table.get(key)
        if isinstance(value, date):
            return value.isoformat()
        text = self.text(table, where, key)
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise self.fail(f"{where}.{key}", f"'{text}' is not a date like 2026-09-23") from None

    def windows(self, raw: Any) -> tuple[WeeklyWindow, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("hours.windows", "must be a non-empty array of tables")
        out = []
        for i, item in enumerate(raw):
            where = f"hours.windows[{i}]"
            if not isinstance(item, dict):
                raise self.fail(where, "must be a table with days, start and end")
            days_raw = item.get("days", "all")
            if days_raw == "all":
                days: tuple[int, ...] = tuple(range(7))
            elif isinstance(days_raw, list) and all(d in DAY_NAMES for d in days_raw):
                days = tuple(DAY_NAMES.index(d) for d in days_raw)
            else:
                raise self.fail(f"{where}.days", f'must be "all" or a list of {DAY_NAMES}')
            start = self.clock_time(item, where, "start")
            end = self.clock_time(item, where, "end")
            if start == end:
                raise self.fail(where, "start and end are the same time")
            out.append(WeeklyWindow(days=days, start_minute=start, end_minute=end))
        return tuple(out)

    def clock_time(self, table: dict[str, Any], where: str, key: str) -> int:
        text = self.text(table, where, key)
        minutes = parse_clock_time(text)
        if minutes is None:
            raise self.fail(f"{where}.{key}", f"'{text}' is not a time like 10:00")
        return minutes


def parse_clock_time(text: str) -> int | None:
    """'10:00' -> 600 minutes; '24:00' allowed as end of day; None when malformed."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    hours, minutes = int(parts[0]), int(parts[1])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        return None
    return hours * 60 + minutes


SECTIONS = (
    "institute",
    "hours",
    "sla",
    "tiers",
    "roster",
    "halls",
    "device",
    "ui",
    "keymap",
    "central",
    "escalation",
    "closures",
    "mail",
)
SectionReader = Callable[[TomlReader, dict[str, Any], Values], None]


def read_config(path: Path, raw: dict[str, Any]) -> Config:
    """Check every section of a parsed file and build the `Config` (defaults for what is absent)."""
    # Read in this order: later sections check against earlier ones (device.hall against halls).
    readers: dict[str, SectionReader] = {
        "institute": s.read_institute,
        "hours": s.read_hours,
        "sla": s.read_sla,
        "escalation": s.read_escalation,
        "closures": s.read_closures,
        "tiers": s.read_tiers,
        "roster": s.read_roster,
        "halls": s.read_halls,
        "device": s.read_device,
        "central": s.read_central,
        "mail": read_mail,
        "ui": s.read_ui,
        "keymap": s.read_keymap,
    }
    reader = TomlReader(path)
    for key in raw:
        if key not in SECTIONS:
            raise reader.fail(key, f"unknown section; known: {', '.join(SECTIONS)}")
    values: Values = {"source": path}
    for read_section in readers.values():
        read_section(reader, raw, values)
    return Config(**values)
