"""The staff directory on the central server: add, edit, remove (a tombstone with a new
sequence number, so laptops drop the person too), list; and each row as one device may see it.

What a device receives (`person_row_to_wire`): a person it may see (people.reaches: a hall
technician only on devices serving one of their halls, everyone else everywhere) with name,
role and halls; e-mail and language only on desks that contact people (CONTACT_ROLES). A
change to a person the device may not see arrives as a bare tombstone (the id and `deleted`),
never with a name: a technician who moved to another hall then leaves the old hall's laptop,
and a laptop that never had them drops nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update

from classroom_support.central import models as m
from classroom_support.central.storable import holds_nul
from classroom_support.central.store.core import StoreCore
from classroom_support.central.store.devices import Device
from classroom_support.central.store.errors import NotFound, StoreError
from classroom_support.kb import fold_text
from classroom_support.people import (
    Person,
    PersonError,
    canonical_role,
    check_email,
    check_halls,
    check_lang,
    check_name,
    reaches,
)
from classroom_support.permissions import CONTACT_CENTRE, MANAGER

# Device roles that receive people's e-mail addresses and languages: the desks that write to
# people. Hall laptops and Level 2 desks see names, roles and halls only.
CONTACT_ROLES = frozenset({CONTACT_CENTRE, MANAGER})
KEEP = object()  # edit_person: leave this field as it is


def _person(row: Any) -> Person:
    return Person(
        id=row.id,
        name=row.name,
        role=row.role,
        halls=tuple(h for h in row.halls.split(",") if h),
        email=row.email,
        lang=row.lang,
    )


def audience(device: Device) -> tuple[tuple[str, ...] | None, bool]:
    """(the halls the device serves, None for all; whether it sees contact details)."""
    return device.hall_filter, device.role in CONTACT_ROLES


def person_row_to_wire(row: Any, device: Device) -> dict[str, Any]:
    halls, contacts = audience(device)
    person = _person(row)
    if row.deleted or not reaches(person.role, person.halls, halls):
        return {"id": row.id, "deleted": True, "seq": row.seq}
    return {
        "id": row.id,
        "name": person.name,
        "role": person.role,
        "halls": list(person.halls),
        "email": person.email if contacts else "",
        "lang": person.lang if contacts else "",
        "deleted": False,
        "seq": row.seq,
    }


class PeopleMixin(StoreCore):
    def add_person(
        self,
        name: str,
        role: str,
        halls: Sequence[str] = (),
        email: str = "",
        lang: str = "",
    ) -> Person:
        """Validate and store a person; raises StoreError (code `bad_person`) with one line."""
        person = self._checked(str(uuid.uuid4()), name, role, halls, email, lang)
        now = self.clock.now()
        with self.write() as conn:
            head = self._lock_head(conn) + 1
            conn.execute(
                insert(m.people).values(
                    **_columns(person), created_at=now, updated_at=now, deleted=False, seq=head
                )
            )
            self._set_head(conn, head)
        return person

    def edit_person(
        self,
        person_id: str,
        *,
        name: Any = KEEP,
        role: Any = KEEP,
        halls: Any = KEEP,
        email: Any = KEEP,
        lang: Any = KEEP,
    ) -> Person:
        """Change the given fields of a (not removed) person; the rest stay."""
        with self.write() as conn:
            row = self._live_row(conn, person_id)
            was = _person(row)
            person = self._checked(
                row.id,
                was.name if name is KEEP else name,
                was.role if role is KEEP else role,
                was.halls if halls is KEEP else halls,
                was.email if email is KEEP else email,
                was.lang if lang is KEEP else lang,
            )
            if person == was:
                return person
            head = self._lock_head(conn) + 1
            conn.execute(
                update(m.people)
                .where(m.people.c.id == row.id)
                .values(**_columns(person), updated_at=self.clock.now(), seq=head)
            )
            self._set_head(conn, head)
        return person

    def remove_person(self, person_id: str) -> Person:
        """A tombstone: the row stays with a new sequence number, so laptops drop it too."""
        with self.write() as conn:
            row = self._live_row(conn, person_id)
            head = self._lock_head(conn) + 1
            conn.execute(
                update(m.people)
                .where(m.people.c.id == row.id)
                .values(deleted=True, updated_at=self.clock.now(), seq=head)
            )
            self._set_head(conn, head)
        return _person(row)

    def people(self) -> list[Person]:
        """Everyone not removed, by name."""
        with self.read() as conn:
            rows = conn.execute(select(m.people).where(m.people.c.deleted.is_(False)))
            return sorted((_person(r) for r in rows), key=lambda p: (fold_text(p.name), p.id))

    def _live_row(self, conn: Any, person_id: str) -> Any:
        """The person by id, or by a unique start of it (as `central people` shows them)."""
        wanted = person_id.strip()
        live = select(m.people).where(m.people.c.deleted.is_(False))
        row = conn.execute(live.where(m.people.c.id == wanted)).first()
        if row is None and len(wanted) >= 4:
            found = [r for r in conn.execute(live) if r.id.startswith(wanted)]
            if len(found) > 1:
                raise StoreError("ambiguous_person", f"{wanted!r} starts several people's ids")
            row = found[0] if found else None
        if row is None:
            raise NotFound("no_person", f"no person {wanted[:40]!r} (see `central people`)")
        return row

    def _checked(
        self,
        person_id: str,
        name: str,
        role: str,
        halls: Sequence[str],
        email: str,
        lang: str,
    ) -> Person:
        if holds_nul([name, role, list(halls), email, lang]):
            raise StoreError("bad_person", "the text holds U+0000 (NUL)")
        try:
            role_id = canonical_role(role, self.config)
            return Person(
                id=person_id,
                name=check_name(name),
                role=role_id,
                halls=check_halls(halls, role_id, self.config),
                email=check_email(email),
                lang=check_lang(lang),
            )
        except PersonError as exc:
            raise StoreError("bad_person", str(exc)) from None


def _columns(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "role": person.role,
        "halls": ",".join(person.halls),
        "email": person.email,
        "lang": person.lang,
    }
