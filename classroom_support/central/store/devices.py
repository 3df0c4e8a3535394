"""Desks (hall laptops, the contact centre, Level 2, managers): registration with a role and a
hall scope, tokens, revocation and the hello that binds a token to a laptop and settles its
reference prefix."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    insert,
    select,
    update,
)

from classroom_support.central import models as m
from classroom_support.central.auth import hash_token, new_token
from classroom_support.central.storable import NUL_REASON, holds_nul
from classroom_support.central.store.core import StoreCore
from classroom_support.central.store.errors import Conflict, NotFound, StoreError
from classroom_support.permissions import HALL, ROLES, DeviceScope
from classroom_support.tickets import (
    REF_ALPHABET,
    REF_PREFIX_LEN,
)

PREFIX_RE = re.compile(r"^[A-Z0-9]{1,8}$")


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    halls: tuple[str, ...]
    ref_prefix: str | None
    device_id: str | None
    revoked: bool = False
    role: str = HALL
    all_halls: bool = False

    def covers(self, hall: str) -> bool:
        return self.all_halls or hall in self.halls

    @property
    def hall_filter(self) -> tuple[str, ...] | None:
        """The halls to filter reads and writes by; None for every hall."""
        return None if self.all_halls else self.halls

    @property
    def scope(self) -> DeviceScope:
        return DeviceScope(role=self.role, halls=self.halls, all_halls=self.all_halls, known=True)

    def scope_json(self) -> dict[str, Any]:
        """The role and scope as hello and pull tell the laptop."""
        return {"role": self.role, "halls": list(self.halls), "all_halls": self.all_halls}


def _device(row: Any) -> Device:
    return Device(
        id=row.id,
        name=row.name,
        halls=tuple(h for h in row.halls.split(",") if h),
        ref_prefix=row.ref_prefix,
        device_id=row.device_id,
        revoked=bool(row.revoked),
        role=row.role,
        all_halls=bool(row.all_halls),
    )


def free_prefix(conn: Connection) -> str:
    used = set(conn.execute(select(m.devices.c.ref_prefix)).scalars())
    central = conn.execute(
        select(m.meta.c.value).where(m.meta.c.key == "central_prefix")
    ).scalar_one_or_none()
    used.add(central)
    for _ in range(10_000):
        prefix = "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_PREFIX_LEN))
        if prefix not in used:
            return prefix
    raise StoreError("no_prefix", "no free reference prefix left")


class DevicesMixin(StoreCore):
    def add_device(
        self,
        name: str,
        halls: Sequence[str],
        *,
        role: str = HALL,
        all_halls: bool = False,
    ) -> tuple[Device, str]:
        """Register a desk with a role over some halls (or all, including halls added later).
        Returns the device and its token (shown once, stored hashed)."""
        if role not in ROLES:
            raise StoreError("unknown_role", f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        halls = tuple(dict.fromkeys(h.strip() for h in halls if h.strip()))
        if all_halls and halls:
            raise StoreError("scope_twice", "give either halls or all halls, not both")
        if not halls and not all_halls:
            raise StoreError("no_hall", "a device needs at least one hall (or all halls)")
        known = {h.code for h in self.config.halls}
        unknown = [h for h in halls if h not in known]
        if unknown:
            raise StoreError(
                "unknown_hall",
                f"unknown hall {unknown[0]!r}; known: {', '.join(sorted(known))}",
            )
        token = new_token()
        with self.write() as conn:
            device_row = {
                "id": str(uuid.uuid4()),
                "name": name.strip() or _default_name(role, halls),
                "halls": ",".join(halls),
                "role": role,
                "all_halls": all_halls,
                "token_hash": hash_token(token),
                "ref_prefix": free_prefix(conn),
                "device_id": None,
                "created_at": self.clock.now(),
                "revoked": False,
            }
            conn.execute(insert(m.devices).values(**device_row))
        device = Device(
            id=device_row["id"],
            name=device_row["name"],
            halls=halls,
            ref_prefix=device_row["ref_prefix"],
            device_id=None,
            role=role,
            all_halls=all_halls,
        )
        return device, token

    def devices(self) -> list[Device]:
        with self.read() as conn:
            return [
                _device(r) for r in conn.execute(select(m.devices).order_by(m.devices.c.created_at))
            ]

    def revoke_device(self, device_id: str) -> None:
        with self.write() as conn:
            done = conn.execute(
                update(m.devices).where(m.devices.c.id == device_id).values(revoked=True)
            )
            if done.rowcount == 0:
                raise NotFound("no_device", f"no device {device_id}")

    def authenticate(self, token: str) -> Device | None:
        if not token or len(token) > 512:
            return None
        with self.read() as conn:
            row = conn.execute(
                select(m.devices).where(m.devices.c.token_hash == hash_token(token))
            ).first()
        if row is None or row.revoked:
            return None
        return _device(row)

    def hello(self, device: Device, device_id: str, ref_prefix: str, issued: int) -> dict[str, Any]:
        """Bind the token to the laptop's device id and settle its reference prefix."""
        prefix = ref_prefix.strip().upper()
        if holds_nul(device_id):
            raise StoreError("bad_device_id", NUL_REASON)
        if not PREFIX_RE.match(prefix):
            raise StoreError(
                "bad_prefix", f"reference prefix {ref_prefix!r} is not 1-8 letters/digits"
            )
        with self.write() as conn:
            head = self._lock_head(conn)
            row = conn.execute(select(m.devices).where(m.devices.c.id == device.id)).one()
            if row.device_id is not None and row.device_id != device_id:
                raise Conflict(
                    "device_mismatch",
                    "this token belongs to another laptop; ask for a new token for this one",
                )
            other = conn.execute(
                select(m.devices).where(
                    m.devices.c.device_id == device_id, m.devices.c.id != row.id
                )
            ).first()
            if other is not None:
                if not other.revoked:
                    raise Conflict(
                        "device_registered_elsewhere",
                        "this laptop is registered under another token; revoke that one first",
                    )
                conn.execute(
                    update(m.devices).where(m.devices.c.id == other.id).values(device_id=None)
                )
            taken = prefix == self.central_prefix or (
                conn.execute(
                    select(m.devices.c.id).where(
                        m.devices.c.ref_prefix == prefix, m.devices.c.id != row.id
                    )
                ).first()
                is not None
            )
            if not taken:
                chosen = prefix
            elif issued == 0:
                chosen = row.ref_prefix or free_prefix(conn)
            else:
                raise Conflict(
                    "prefix_taken",
                    f"reference prefix {prefix} is used by another device and this laptop has "
                    "already numbered tickets with it",
                )
            values: dict[str, Any] = {"device_id": device_id, "ref_prefix": chosen}
            if row.bound_at is None:
                values["bound_at"] = self.clock.now()
            conn.execute(update(m.devices).where(m.devices.c.id == row.id).values(**values))
        return {
            "server_time": self.clock.now(),
            "device_name": row.name,
            **_device(row).scope_json(),
            "ref_prefix": chosen,
            "head": head,
        }


def _default_name(role: str, halls: Sequence[str]) -> str:
    where = ", ".join(halls) if halls else "all halls"
    return f"laptop {where}" if role == HALL else f"{role} desk ({where})"
