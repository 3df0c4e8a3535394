"""Configuration: policy defaults defined once, overridable by a TOML file.

The defaults below *are* the institute's published support policy (see the seed policy): the
phone number, the opening hours, the 48-working-hour first-response target, the support tiers and
the roster's three roles. Everything else in the product reads them from a `Config`.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

APP_NAME = "classroom-support"
CONFIG_ENV = "CLASSROOM_SUPPORT_CONFIG"
DB_ENV = "CLASSROOM_SUPPORT_DB"
CONFIG_FILENAME = "config.toml"
DB_FILENAME = "classroom-support.sqlite3"

LANGUAGES = ("ar", "en")
ARABIC_DISPLAY_MODES = ("auto", "terminal", "reshape")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(Exception):
    """A configuration file that cannot be used. The message names file, key and problem."""

    def __init__(self, path: Path | None, key: str | None, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = str(path) if path else "configuration"
        if key:
            super().__init__(f"{where}: key '{key}': {problem}")
        else:
            super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Hall:
    code: str
    name: str
    name_ar: str = ""


@dataclass(frozen=True)
class WeeklyWindow:
    """Open time on the given weekdays (0 = Monday), local wall-clock minutes."""

    days: tuple[int, ...]
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class SupportTier:
    id: str
    name: str
    name_ar: str
    duty: str


@dataclass(frozen=True)
class RosterRole:
    id: str
    title: str
    title_ar: str
    responsibility: str
    contact: str = ""


@dataclass(frozen=True)
class SlaTarget:
    """A target override for a priority and/or channel (None = any)."""

    priority: str | None
    channel: str | None
    first_response_hours: float | None = None
    resolution_hours: float | None = None


@dataclass(frozen=True)
class EscalationStep:
    """One rung of the ladder: who is responsible, and how long they have before the next."""

    id: str
    name: str
    name_ar: str
    tier: str
    roles: tuple[str, ...] = ()
    hours: float | None = None  # None on the top rung


@dataclass(frozen=True)
class ClosureDefault:
    start: str  # YYYY-MM-DD, local
    end: str
    name: str
    name_ar: str
    estimated: bool = False


SAUDI_HOLIDAYS: tuple[ClosureDefault, ...] = (
    ClosureDefault("2026-02-22", "2026-02-22", "Founding Day", "يوم التأسيس"),
    ClosureDefault("2026-03-19", "2026-03-22", "Eid al-Fitr", "عيد الفطر", estimated=True),
    ClosureDefault("2026-05-26", "2026-05-29", "Eid al-Adha", "عيد الأضحى", estimated=True),
    ClosureDefault("2026-09-23", "2026-09-23", "National Day", "اليوم الوطني"),
    ClosureDefault("2027-02-22", "2027-02-22", "Founding Day", "يوم التأسيس"),
    ClosureDefault("2027-03-09", "2027-03-12", "Eid al-Fitr", "عيد الفطر", estimated=True),
    ClosureDefault("2027-05-15", "2027-05-18", "Eid al-Adha", "عيد الأضحى", estimated=True),
    ClosureDefault("2027-09-23", "2027-09-23", "National Day", "اليوم الوطني"),
)

DEFAULT_LADDER: tuple[EscalationStep, ...] = (
    EscalationStep(
        "L1",
        "Level 1 - contact centre / hall technician",
        "المستوى الأول - مركز الاتصال / فني القاعة",
        "L1",
    ),
    EscalationStep(
        "L2", "Level 2 - technical support", "المستوى الثاني - الدعم الفني", "L2", hours=8
    ),
    EscalationStep(
        "managers",
        "Training-body and administrative-body managers",
        "مدير الهيئة التدريبية ومدير الهيئة الإدارية",
        "L2",
        roles=("training_body_manager", "administrative_body_manager"),
        hours=8,
    ),
    EscalationStep(
        "general_manager", "General Manager", "المدير العام", "L2", roles=("general_manager",)
    ),
)
SESSION_SCOPES = ("institute", "hall")


@dataclass(frozen=True)
class Config:
    institute_name: str = "Training Institute"
    institute_name_ar: str = "معهد التدريب"
    phone: str = "0566812777"
    whatsapp: str = "+966566812777"
    email: str = "info@khit.sa"
    country_code: str = "966"
    timezone: str = "Asia/Riyadh"
    weekly_windows: tuple[WeeklyWindow, ...] = (
        WeeklyWindow(days=(0, 1, 2, 3, 4, 5, 6), start_minute=10 * 60, end_minute=16 * 60),
    )
    first_response_hours: float = 48.0
    resolution_hours: float = 96.0  # 16 policy days of 6 working hours
    warning_fraction: float = 0.75
    warning_hours_left: float = 4.0
    sessions_scope: str = "institute"
    sla_targets: tuple[SlaTarget, ...] = ()
    escalation: tuple[EscalationStep, ...] = DEFAULT_LADDER
    closures: tuple[ClosureDefault, ...] = SAUDI_HOLIDAYS
    tiers: tuple[SupportTier, ...] = (
        SupportTier(
            "L1",
            "Level 1 - contact centre / hall technician",
            "المستوى الأول - مركز الاتصال / فني القاعة",
            "Receives every request, gives first support or routes it.",
        ),
        SupportTier(
            "L2",
            "Level 2 - technical support",
            "المستوى الثاني - الدعم الفني",
            "Completes the support work and verifies completion.",
        ),
    )
    roster: tuple[RosterRole, ...] = (
        RosterRole("general_manager", "General Manager", "المدير العام", "General supervision"),
        RosterRole(
            "training_body_manager",
            "Manager of the training body",
            "مدير الهيئة التدريبية",
            "Follow up and solve beneficiaries' problems; coordinate with trainers and trainees",
        ),
        RosterRole(
            "administrative_body_manager",
            "Manager of the administrative body",
            "مدير الهيئة الإدارية",
            "Follow up and solve beneficiaries' problems; coordinate with trainers and trainees",
        ),
    )
    halls: tuple[Hall, ...] = (
        Hall("A101", "Hall A101", "قاعة A101"),
        Hall("A102", "Hall A102", "قاعة A102"),
        Hall("B201", "Computer lab B201", "معمل الحاسب B201"),
    )
    hall: str = "A101"
    # Where trainees' phones and this laptop's sync go: the central support server.
    central_url: str = "https://support.khit.sa"
    technician: str = field(default_factory=lambda: _default_user())
    language: str = "ar"
    theme: str = "textual-dark"
    arabic_display: str = "auto"
    keymap: dict[str, str] = field(default_factory=dict)
    source: Path | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hall_named(self, code: str) -> Hall | None:
        return next((h for h in self.halls if h.code == code), None)

    @property
    def this_hall(self) -> Hall:
        found = self.hall_named(self.hall)
        assert found is not None  # guaranteed by validation
        return found


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database (containers)
        return "technician"


# --------------------------------------------------------------------------- paths


@dataclass(frozen=True)
class Paths:
    config_file: Path
    data_dir: Path
    database: Path
    log_dir: Path
    backup_dir: Path


def default_paths(config: Path | str | None = None, db: Path | str | None = None) -> Paths:
    """Where things live: explicit arguments win, then environment variables, then platformdirs."""
    import platformdirs  # deferred: only needed when paths are not given

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    config_file = Path(
        config or os.environ.get(CONFIG_ENV) or Path(dirs.user_config_dir) / CONFIG_FILENAME
    )
    data_dir = Path(dirs.user_data_dir)
    database = Path(db or os.environ.get(DB_ENV) or data_dir / DB_FILENAME)
    log_dir = Path(dirs.user_log_dir)
    return Paths(
        config_file=config_file.expanduser(),
        data_dir=data_dir,
        database=database.expanduser(),
        log_dir=log_dir,
        backup_dir=database.expanduser().parent / "backups",
    )


# --------------------------------------------------------------------------- loading


def load_config(path: Path | None) -> Config:
    """Read `path` (a missing file means all defaults). Raises ConfigError on any problem."""
    if path is None or not path.exists():
        return Config(source=None)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot be read ({exc})") from None
    return _ConfigReader(path).read(raw)


class _ConfigReader:
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
    )

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.path, key, problem)

    def read(self, raw: dict[str, Any]) -> Config:
        for key in raw:
            if key not in self.SECTIONS:
                raise self.fail(key, f"unknown section; known: {', '.join(self.SECTIONS)}")
        base = Config()
        values: dict[str, Any] = {"source": self.path}
        inst = self.table(raw, "institute")
        for key in ("name", "name_ar", "phone", "whatsapp", "email", "country_code", "timezone"):
            if key in inst:
                values["institute_" + key if key.startswith("name") else key] = self.text(
                    inst, "institute", key
                )
        self.unknown(
            inst,
            "institute",
            ("name", "name_ar", "phone", "whatsapp", "email", "country_code", "timezone"),
        )
        tz = values.get("timezone", base.timezone)
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail("institute.timezone", f"unknown time zone '{tz}'") from None
        phone = values.get("phone", base.phone)
        if not any(ch.isdigit() for ch in phone):
            raise self.fail("institute.phone", f"'{phone}' has no digits")

        hours = self.table(raw, "hours")
        self.unknown(hours, "hours", ("windows",))
        if "windows" in hours:
            values["weekly_windows"] = self.windows(hours["windows"])

        sla = self.table(raw, "sla")
        self.unknown(
            sla,
            "sla",
            (
                "first_response_hours",
                "resolution_hours",
                "warning_fraction",
                "warning_hours_left",
                "sessions_scope",
                "targets",
            ),
        )
        for key in ("first_response_hours", "resolution_hours", "warning_hours_left"):
            if key in sla:
                values[key] = self.positive(sla[key], f"sla.{key}")
        if "warning_fraction" in sla:
            v = self.positive(sla["warning_fraction"], "sla.warning_fraction")
            if v >= 1:
                raise self.fail("sla.warning_fraction", f"must be below 1, got {v!r}")
            values["warning_fraction"] = v
        if "sessions_scope" in sla:
            scope = self.text(sla, "sla", "sessions_scope")
            if scope not in SESSION_SCOPES:
                raise self.fail("sla.sessions_scope", f"must be one of {', '.join(SESSION_SCOPES)}")
            values["sessions_scope"] = scope
        if "targets" in sla:
            targets = []
            for i, t in enumerate(self.array(sla, "targets")):
                where = f"sla.targets[{i}]"
                self.unknown(
                    t, where, ("priority", "channel", "first_response_hours", "resolution_hours")
                )
                if "priority" not in t and "channel" not in t:
                    raise self.fail(where, "needs a priority, a channel or both")
                targets.append(
                    SlaTarget(
                        priority=t.get("priority"),
                        channel=t.get("channel"),
                        first_response_hours=self.positive(
                            t["first_response_hours"], f"{where}.first_response_hours"
                        )
                        if "first_response_hours" in t
                        else None,
                        resolution_hours=self.positive(
                            t["resolution_hours"], f"{where}.resolution_hours"
                        )
                        if "resolution_hours" in t
                        else None,
                    )
                )
            values["sla_targets"] = tuple(targets)

        if "escalation" in raw:
            steps = []
            for i, e in enumerate(self.array(raw, "escalation")):
                where = f"escalation[{i}]"
                self.unknown(e, where, ("id", "name", "name_ar", "tier", "roles", "hours"))
                roles = e.get("roles", [])
                if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                    raise self.fail(f"{where}.roles", "must be a list of roster role ids")
                steps.append(
                    EscalationStep(
                        id=self.text(e, where, "id"),
                        name=self.text(e, where, "name"),
                        name_ar=self.text(e, where, "name_ar", ""),
                        tier=self.text(e, where, "tier", "L2"),
                        roles=tuple(roles),
                        hours=self.positive(e["hours"], f"{where}.hours") if "hours" in e else None,
                    )
                )
            if len(steps) < 2:
                raise self.fail("escalation", "needs at least two steps (L1 and one above it)")
            for i, step in enumerate(steps[:-1]):
                if i > 0 and step.hours is None:
                    raise self.fail(f"escalation[{i}].hours", "every step but the top needs hours")
            values["escalation"] = tuple(steps)

        if "closures" in raw:
            closures = []
            for i, c in enumerate(self.array(raw, "closures")):
                where = f"closures[{i}]"
                self.unknown(c, where, ("start", "end", "name", "name_ar", "estimated"))
                start = self.iso_date(c, where, "start")
                end = self.iso_date(c, where, "end") if "end" in c else start
                if end < start:
                    raise self.fail(f"{where}.end", "is before start")
                estimated = c.get("estimated", False)
                if not isinstance(estimated, bool):
                    raise self.fail(f"{where}.estimated", "must be true or false")
                closures.append(
                    ClosureDefault(
                        start,
                        end,
                        self.text(c, where, "name"),
                        self.text(c, where, "name_ar", ""),
                        estimated,
                    )
                )
            values["closures"] = tuple(closures)

        if "tiers" in raw:
            values["tiers"] = tuple(
                SupportTier(
                    id=self.text(t, f"tiers[{i}]", "id"),
                    name=self.text(t, f"tiers[{i}]", "name"),
                    name_ar=self.text(t, f"tiers[{i}]", "name_ar", ""),
                    duty=self.text(t, f"tiers[{i}]", "duty", ""),
                )
                for i, t in enumerate(self.array(raw, "tiers"))
            )
        if "roster" in raw:
            values["roster"] = tuple(
                RosterRole(
                    id=self.text(r, f"roster[{i}]", "id"),
                    title=self.text(r, f"roster[{i}]", "title"),
                    title_ar=self.text(r, f"roster[{i}]", "title_ar", ""),
                    responsibility=self.text(r, f"roster[{i}]", "responsibility", ""),
                    contact=self.text(r, f"roster[{i}]", "contact", ""),
                )
                for i, r in enumerate(self.array(raw, "roster"))
            )
        if "halls" in raw:
            halls = tuple(
                Hall(
                    code=self.text(h, f"halls[{i}]", "code"),
                    name=self.text(h, f"halls[{i}]", "name"),
                    name_ar=self.text(h, f"halls[{i}]", "name_ar", ""),
                )
                for i, h in enumerate(self.array(raw, "halls"))
            )
            if not halls:
                raise self.fail("halls", "at least one hall is needed")
            codes = [h.code for h in halls]
            if len(set(codes)) != len(codes):
                raise self.fail("halls", "hall codes must be unique")
            values["halls"] = halls

        device = self.table(raw, "device")
        self.unknown(device, "device", ("hall", "technician"))
        if "hall" in device:
            values["hall"] = self.text(device, "device", "hall")
        if "technician" in device:
            values["technician"] = self.text(device, "device", "technician")
        halls_now = values.get("halls", base.halls)
        hall = values.get("hall", base.hall if "halls" not in values else halls_now[0].code)
        if not any(h.code == hall for h in halls_now):
            known = ", ".join(h.code for h in halls_now)
            raise self.fail("device.hall", f"'{hall}' is not one of the halls ({known})")
        values["hall"] = hall

        central = self.table(raw, "central")
        self.unknown(central, "central", ("url",))
        if "url" in central:
            url = self.text(central, "central", "url").rstrip("/")
            parts = urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.netloc:
                raise self.fail("central.url", f"'{url}' is not an http(s) address")
            values["central_url"] = url

        ui = self.table(raw, "ui")
        self.unknown(ui, "ui", ("language", "theme", "arabic_display"))
        if "language" in ui:
            lang = self.text(ui, "ui", "language")
            if lang not in LANGUAGES:
                raise self.fail("ui.language", f"must be one of {', '.join(LANGUAGES)}")
            values["language"] = lang
        if "theme" in ui:
            values["theme"] = self.text(ui, "ui", "theme")
        if "arabic_display" in ui:
            mode = self.text(ui, "ui", "arabic_display")
            if mode not in ARABIC_DISPLAY_MODES:
                raise self.fail(
                    "ui.arabic_display", f"must be one of {', '.join(ARABIC_DISPLAY_MODES)}"
                )
            values["arabic_display"] = mode

        keymap = self.table(raw, "keymap")
        for key, value in keymap.items():
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f"keymap.{key}", 'must be a key name such as "f2" or "ctrl+n"')
        values["keymap"] = dict(keymap)
        return Config(**values)

    # ---- helpers

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
        from datetime import date

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


SAMPLE_CONFIG = """\
# classroom-support configuration. Every key is optional; the defaults are the institute's policy.

[institute]
# name = "Training Institute"
# name_ar = "معهد التدريب"
# phone = "0566812777"          # phone and WhatsApp (local form)
# whatsapp = "+966566812777"
# email = "info@khit.sa"
# timezone = "Asia/Riyadh"

[hours]
# windows = [{ days = "all", start = "10:00", end = "16:00" }]

[sla]
# first_response_hours = 48
# resolution_hours = 96
# warning_fraction = 0.75       # warn at 75 % of the target elapsed ...
# warning_hours_left = 4        # ... or 4 working hours left, whichever comes first
# sessions_scope = "institute"  # course sessions add working time for all halls, or per "hall"
# targets = [{ priority = "critical", first_response_hours = 8 }]

# [[escalation]]                # the ladder; default L1 -> L2 (8h) -> managers (8h) -> GM
# id = "L2"
# name = "Level 2 - technical support"
# tier = "L2"
# roles = []
# hours = 8

# [[closures]]                  # public holidays; default: Saudi holidays, Eids estimated
# start = "2026-09-23"
# end = "2026-09-23"
# name = "National Day"

[central]
# url = "https://support.khit.sa"   # the central support server (web form, status pages, sync)

[device]
# hall = "A101"                 # the hall this laptop serves
# technician = "name"

[ui]
# language = "ar"               # ar or en
# theme = "textual-dark"
# arabic_display = "auto"       # auto, terminal (terminal shapes Arabic itself) or reshape

[keymap]
# new-ticket = "f2"             # remap any binding id to other keys
"""
