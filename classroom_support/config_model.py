"""The configuration's shape and the institute's policy defaults (the seed policy, defined once).

`config.py` is the front door (load, paths); `config_reader.py` turns a TOML file into a `Config`,
one function per section in `config_sections.py` (`[mail]` in `config_mail.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from classroom_support.config_mail import MailConfig
from classroom_support.records import field, frozen_record

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


class Hall(NamedTuple):
    code: str
    name: str
    name_ar: str = ""


class WeeklyWindow(NamedTuple):
    """Open time on the given weekdays (0 = Monday), local wall-clock minutes."""

    days: tuple[int, ...]
    start_minute: int
    end_minute: int


class SupportTier(NamedTuple):
    id: str
    name: str
    name_ar: str
    duty: str


class RosterRole(NamedTuple):
    id: str
    title: str
    title_ar: str
    responsibility: str
    contact: str = ""


class SlaTarget(NamedTuple):
    """A target override for a priority and/or channel (None = any)."""

    priority: str | None
    channel: str | None
    first_response_hours: float | None = None
    resolution_hours: float | None = None


class EscalationStep(NamedTuple):
    """One rung of the ladder: who is responsible, and how long they have before the next."""

    id: str
    name: str
    name_ar: str
    tier: str
    roles: tuple[str, ...] = ()
    hours: float | None = None  # None on the top rung


class ClosureDefault(NamedTuple):
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


@frozen_record
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
    mail: MailConfig = field(default_factory=MailConfig)
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
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database (containers)
        return "technician"
