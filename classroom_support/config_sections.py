"""One reader per configuration section: `read_<section>(reader, raw, values)`.

Each checks its table of the parsed file and puts what it found into `values` (keyword arguments
for `Config`); what is absent keeps the policy default from `config_model.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from classroom_support.config_model import (
    ARABIC_DISPLAY_MODES,
    LANGUAGES,
    SESSION_SCOPES,
    ClosureDefault,
    Config,
    EscalationStep,
    Hall,
    RosterRole,
    SlaTarget,
    SupportTier,
)

if TYPE_CHECKING:
    from classroom_support.config_reader import TomlReader

Raw = dict[str, Any]
INSTITUTE_KEYS = ("name", "name_ar", "phone", "whatsapp", "email", "country_code", "timezone")
SLA_KEYS = (
    "first_response_hours",
    "resolution_hours",
    "warning_fraction",
    "warning_hours_left",
    "sessions_scope",
    "targets",
)
# Policy defaults, as class attributes of the dataclass (no instance needed).
BASE = Config


def read_institute(r: TomlReader, raw: Raw, values: Raw) -> None:
    inst = r.table(raw, "institute")
    for key in INSTITUTE_KEYS:
        if key in inst:
            values["institute_" + key if key.startswith("name") else key] = r.text(
                inst, "institute", key
            )
    r.unknown(inst, "institute", INSTITUTE_KEYS)
    tz = values.get("timezone", BASE.timezone)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail("institute.timezone", f"unknown time zone '{tz}'") from None
    phone = values.get("phone", BASE.phone)
    if not any(ch.isdigit() for ch in phone):
        raise r.fail("institute.phone", f"'{phone}' has no digits")


def read_hours(r: TomlReader, raw: Raw, values: Raw) -> None:
    hours = r.table(raw, "hours")
    r.unknown(hours, "hours", ("windows",))
    if "windows" in hours:
        values["weekly_windows"] = r.windows(hours["windows"])


def read_sla(r: TomlReader, raw: Raw, values: Raw) -> None:
    sla = r.table(raw, "sla")
    r.unknown(sla, "sla", SLA_KEYS)
    for key in ("first_response_hours", "resolution_hours", "warning_hours_left"):
        if key in sla:
            values[key] = r.positive(sla[key], f"sla.{key}")
    if "warning_fraction" in sla:
        v = r.positive(sla["warning_fraction"], "sla.warning_fraction")
        if v >= 1:
            raise r.fail("sla.warning_fraction", f"must be below 1, got {v!r}")
        values["warning_fraction"] = v
    if "sessions_scope" in sla:
        scope = r.text(sla, "sla", "sessions_scope")
        if scope not in SESSION_SCOPES:
            raise r.fail("sla.sessions_scope", f"must be one of {', '.join(SESSION_SCOPES)}")
        values["sessions_scope"] = scope
    if "targets" in sla:
        values["sla_targets"] = tuple(
            _sla_target(r, t, f"sla.targets[{i}]") for i, t in enumerate(r.array(sla, "targets"))
        )


def _sla_target(r: TomlReader, t: Raw, where: str) -> SlaTarget:
    r.unknown(t, where, ("priority", "channel", "first_response_hours", "resolution_hours"))
    if "priority" not in t and "channel" not in t:
        raise r.fail(where, "needs a priority, a channel or both")
    first = t.get("first_response_hours")
    resolution = t.get("resolution_hours")
    return SlaTarget(
        priority=t.get("priority"),
        channel=t.get("channel"),
        first_response_hours=None
        if first is None
        else r.positive(first, f"{where}.first_response_hours"),
        resolution_hours=None
        if resolution is None
        else r.positive(resolution, f"{where}.resolution_hours"),
    )


def read_escalation(r: TomlReader, raw: Raw, values: Raw) -> None:
    if "escalation" not in raw:
        return
    steps = []
    for i, e in enumerate(r.array(raw, "escalation")):
        where = f"escalation[{i}]"
        r.unknown(e, where, ("id", "name", "name_ar", "tier", "roles", "hours"))
        roles = e.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(x, str) for x in roles):
            raise r.fail(f"{where}.roles", "must be a list of roster role ids")
        steps.append(
            EscalationStep(
                id=r.text(e, where, "id"),
                name=r.text(e, where, "name"),
                name_ar=r.text(e, where, "name_ar", ""),
                tier=r.text(e, where, "tier", "L2"),
                roles=tuple(roles),
                hours=r.positive(e["hours"], f"{where}.hours") if "hours" in e else None,
            )
        )
    if len(steps) < 2:
        raise r.fail("escalation", "needs at least two steps (L1 and one above it)")
    for i, step in enumerate(steps[:-1]):
        if i > 0 and step.hours is None:
            raise r.fail(f"escalation[{i}].hours", "every step but the top needs hours")
    values["escalation"] = tuple(steps)


def read_closures(r: TomlReader, raw: Raw, values: Raw) -> None:
    if "closures" not in raw:
        return
    closures = []
    for i, c in enumerate(r.array(raw, "closures")):
        where = f"closures[{i}]"
        r.unknown(c, where, ("start", "end", "name", "name_ar", "estimated"))
        start = r.iso_date(c, where, "start")
        end = r.iso_date(c, where, "end") if "end" in c else start
        if end < start:
            raise r.fail(f"{where}.end", "is before start")
        estimated = c.get("estimated", False)
        if not isinstance(estimated, bool):
            raise r.fail(f"{where}.estimated", "must be true or false")
        closures.append(
            ClosureDefault(
                start, end, r.text(c, where, "name"), r.text(c, where, "name_ar", ""), estimated
            )
        )
    values["closures"] = tuple(closures)


def read_tiers(r: TomlReader, raw: Raw, values: Raw) -> None:
    if "tiers" in raw:
        values["tiers"] = tuple(
            SupportTier(
                id=r.text(t, f"tiers[{i}]", "id"),
                name=r.text(t, f"tiers[{i}]", "name"),
                name_ar=r.text(t, f"tiers[{i}]", "name_ar", ""),
                duty=r.text(t, f"tiers[{i}]", "duty", ""),
            )
            for i, t in enumerate(r.array(raw, "tiers"))
        )


def read_roster(r: TomlReader, raw: Raw, values: Raw) -> None:
    if "roster" in raw:
        values["roster"] = tuple(
            RosterRole(
                id=r.text(x, f"roster[{i}]", "id"),
                title=r.text(x, f"roster[{i}]", "title"),
                title_ar=r.text(x, f"roster[{i}]", "title_ar", ""),
                responsibility=r.text(x, f"roster[{i}]", "responsibility", ""),
                contact=r.text(x, f"roster[{i}]", "contact", ""),
            )
            for i, x in enumerate(r.array(raw, "roster"))
        )


def read_halls(r: TomlReader, raw: Raw, values: Raw) -> None:
    if "halls" not in raw:
        return
    halls = tuple(
        Hall(
            code=r.text(h, f"halls[{i}]", "code"),
            name=r.text(h, f"halls[{i}]", "name"),
            name_ar=r.text(h, f"halls[{i}]", "name_ar", ""),
        )
        for i, h in enumerate(r.array(raw, "halls"))
    )
    if not halls:
        raise r.fail("halls", "at least one hall is needed")
    codes = [h.code for h in halls]
    if len(set(codes)) != len(codes):
        raise r.fail("halls", "hall codes must be unique")
    values["halls"] = halls


def read_device(r: TomlReader, raw: Raw, values: Raw) -> None:
    """`[device]`: this laptop's hall (checked against `[[halls]]`, read before) and technician."""
    device = r.table(raw, "device")
    r.unknown(device, "device", ("hall", "technician"))
    if "hall" in device:
        values["hall"] = r.text(device, "device", "hall")
    if "technician" in device:
        values["technician"] = r.text(device, "device", "technician")
    halls_now = values.get("halls", BASE.halls)
    hall = values.get("hall", BASE.hall if "halls" not in values else halls_now[0].code)
    if not any(h.code == hall for h in halls_now):
        known = ", ".join(h.code for h in halls_now)
        raise r.fail("device.hall", f"'{hall}' is not one of the halls ({known})")
    values["hall"] = hall


def read_central(r: TomlReader, raw: Raw, values: Raw) -> None:
    central = r.table(raw, "central")
    r.unknown(central, "central", ("url",))
    if "url" in central:
        url = r.text(central, "central", "url").rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise r.fail("central.url", f"'{url}' is not an http(s) address")
        values["central_url"] = url


def read_ui(r: TomlReader, raw: Raw, values: Raw) -> None:
    ui = r.table(raw, "ui")
    r.unknown(ui, "ui", ("language", "theme", "arabic_display"))
    if "language" in ui:
        lang = r.text(ui, "ui", "language")
        if lang not in LANGUAGES:
            raise r.fail("ui.language", f"must be one of {', '.join(LANGUAGES)}")
        values["language"] = lang
    if "theme" in ui:
        values["theme"] = r.text(ui, "ui", "theme")
    if "arabic_display" in ui:
        mode = r.text(ui, "ui", "arabic_display")
        if mode not in ARABIC_DISPLAY_MODES:
            raise r.fail("ui.arabic_display", f"must be one of {', '.join(ARABIC_DISPLAY_MODES)}")
        values["arabic_display"] = mode


def read_keymap(r: TomlReader, raw: Raw, values: Raw) -> None:
    keymap = r.table(raw, "keymap")
    for key, value in keymap.items():
        if not isinstance(value, str) or not value.strip():
            raise r.fail(f"keymap.{key}", 'must be a key name such as "f2" or "ctrl+n"')
    values["keymap"] = dict(keymap)
