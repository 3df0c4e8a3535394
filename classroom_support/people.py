"""The staff directory: who works at which rung of the support chain. Headless and pure.

The central server keeps the directory (`central add-person`); laptops hold a read-only copy
pulled with the rest of the reference data. The same rules serve both sides:

- A person's **role** is one of the ids the configuration already has: `technician` (a hall
  technician, tier L1, tied to one or more halls), a support tier (`L1` the contact centre,
  `L2` technical support) or a roster role (`general_manager`, `training_body_manager`,
  `administrative_body_manager`). The escalation ladder's rungs name a tier or roster roles,
  so every rung finds its people by role (`responsible`).
- **Who sees whom**: a hall technician only reaches devices that serve one of their halls;
  everyone on the other rungs reaches every device (the escalations screen names them).
  E-mail and language, which only the contact centre and managers use, are sent to those
  desks alone (central/store/people.py decides per device).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from classroom_support.config import Config, EscalationStep
from classroom_support.kb import fold_text

TECHNICIAN = "technician"
LANGS = ("ar", "en")
MAX_NAME = 200
MAX_EMAIL = 254
# One address, no display name: local@domain.tld, nothing a mail header could split on.
EMAIL_RE = re.compile(r"^[^@\s,;<>\"()\[\]\\]+@[^@\s,;<>\"()\[\]\\]+\.[^@\s,;<>\"()\[\]\\.]+$")


class PersonError(ValueError):
    """Input the directory refuses; the message is one line that says what to give instead."""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str
    halls: tuple[str, ...] = ()
    email: str = ""  # "" where the device may not see it
    lang: str = ""


def role_ids(config: Config) -> tuple[str, ...]:
    """Every role a person may hold: hall technician, the tiers, the roster's roles."""
    ids = [TECHNICIAN, *(t.id for t in config.tiers), *(r.id for r in config.roster)]
    return tuple(dict.fromkeys(ids))


def role_tier(role: str, config: Config) -> str | None:
    """The support tier a role works in (a technician is Level 1); None for roster roles."""
    if role == TECHNICIAN:
        return config.tiers[0].id if config.tiers else None
    return role if role in {t.id for t in config.tiers} else None


def role_title(role: str, config: Config, arabic: bool) -> str:
    """The role's name in the language shown (config titles; the technician's from the
    catalogs); the id itself when the configuration no longer knows it."""
    if role == TECHNICIAN:
        from classroom_support.i18n import tr

        return tr("people.role.technician")
    for tier in config.tiers:
        if tier.id == role:
            return tier.name_ar if arabic and tier.name_ar else tier.name
    for entry in config.roster:
        if entry.id == role:
            return entry.title_ar if arabic and entry.title_ar else entry.title
    return role


def canonical_role(text: str, config: Config) -> str:
    """The role id for what was typed: case and `-`/`_` do not matter (`l2`, `general-manager`)."""
    wanted = text.strip().casefold().replace("-", "_")
    for role in role_ids(config):
        if role.casefold().replace("-", "_") == wanted:
            return role
    raise PersonError(f"unknown role {text.strip()[:40]!r}; roles: {', '.join(role_ids(config))}")


def check_name(text: str) -> str:
    name = " ".join(text.split())  # one line, single spaces
    if not name:
        raise PersonError("a person needs a name (--name)")
    if len(name) > MAX_NAME:
        raise PersonError(f"the name is {len(name)} characters; at most {MAX_NAME}")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise PersonError("the name holds control characters")
    return name


def check_email(text: str) -> str:
    email = text.strip()
    if not email:
        return ""
    if len(email) > MAX_EMAIL or not EMAIL_RE.match(email):
        raise PersonError(f"{email[:60]!r} is not an e-mail address (name@example.org)")
    return email


def check_lang(text: str) -> str:
    lang = text.strip().lower()
    if lang and lang not in LANGS:
        raise PersonError(f"unknown language {text.strip()[:20]!r}; languages: ar, en")
    return lang


def check_halls(halls: Iterable[str], role: str, config: Config) -> tuple[str, ...]:
    """Known hall codes, each once; a hall technician needs at least one."""
    wanted = tuple(dict.fromkeys(h.strip() for h in halls if h.strip()))
    known = {h.code for h in config.halls}
    for hall in wanted:
        if hall not in known:
            raise PersonError(f"unknown hall {hall[:40]!r}; halls: {', '.join(sorted(known))}")
    if role == TECHNICIAN and not wanted:
        raise PersonError("a hall technician needs at least one hall (--hall)")
    return wanted


def reaches(role: str, halls: Sequence[str], device_halls: Sequence[str] | None) -> bool:
    """Whether a device serving `device_halls` (None: every hall) may see this person at all:
    a hall technician only where one of their halls is served, anyone else everywhere."""
    if role != TECHNICIAN or device_halls is None:
        return True
    return bool(set(halls) & set(device_halls))


def responsible(
    step: EscalationStep, hall: str, people: Iterable[Person], config: Config
) -> list[Person]:
    """The people a rung of the ladder reaches for a ticket of `hall`, by name: the rung's
    roster roles when it names some, else its tier (technicians only of that hall)."""
    if step.roles:
        order = {r: i for i, r in enumerate(step.roles)}
        found = [p for p in people if p.role in order]
        return sorted(found, key=lambda p: (order[p.role], fold_text(p.name)))
    found = [
        p
        for p in people
        if role_tier(p.role, config) == step.tier and (p.role != TECHNICIAN or hall in p.halls)
    ]
    return sorted(found, key=lambda p: (p.role != TECHNICIAN, fold_text(p.name)))


def responsible_names(
    step: EscalationStep, hall: str, people: Iterable[Person], config: Config, arabic: bool
) -> list[str]:
    """Who a rung reaches: for each of its roster roles the names of the people holding it,
    else the role's title; for a tier rung the names, else the rung's name."""
    people = list(people)
    if step.roles:
        parts: list[str] = []
        for role in step.roles:
            names = [p.name for p in people if p.role == role]
            parts.extend(names or [role_title(role, config, arabic)])
        return list(dict.fromkeys(parts))
    names = [p.name for p in responsible(step, hall, people, config)]
    return names or [step.name_ar if arabic and step.name_ar else step.name]


def responsible_text(
    step: EscalationStep, hall: str, people: Iterable[Person], config: Config, arabic: bool
) -> str:
    return ", ".join(responsible_names(step, hall, people, config, arabic))


def for_hall(people: Iterable[Person], hall: str, config: Config) -> list[Person]:
    """The directory in the order an assignment wants it: the hall's technicians, then the
    tiers, then the roster's roles, alphabetical within each."""
    ranks = {role: i for i, role in enumerate(role_ids(config))}

    def key(p: Person) -> tuple[int, int, str]:
        own = 0 if p.role == TECHNICIAN and hall in p.halls else 1
        return (own, ranks.get(p.role, len(ranks)), fold_text(p.name))

    return sorted(people, key=key)


def matches(person: Person, query: str, role_text: str = "") -> bool:
    """Every typed word occurs in the name, the role (id or title) or a hall, ignoring case,
    Arabic diacritics and letter variants (the knowledge base's folding)."""
    words = fold_text(query).split()
    haystack = fold_text(" ".join((person.name, person.role, role_text, *person.halls)))
    return all(w in haystack for w in words)


# --------------------------------------------------------------------------- on the laptop


def local_people(db: Any) -> list[Person]:
    """The laptop's synced copy of the directory (table `person`), readable offline."""
    from sqlmodel import select

    from classroom_support.models import PersonRow

    with db.read() as s:
        rows = s.exec(select(PersonRow)).all()
    people = [
        Person(
            id=r.id,
            name=r.name,
            role=r.role,
            halls=tuple(h for h in r.halls.split(",") if h),
            email=r.email,
            lang=r.lang,
        )
        for r in rows
    ]
    return sorted(people, key=lambda p: (fold_text(p.name), p.id))
