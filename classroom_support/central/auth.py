"""Device tokens: 32 random bytes, shown once, stored as their SHA-256; sent as a Bearer token.

A token is scoped to its device's hall(s). Tokens never appear in logs: only `token_hint`
(the first four characters) is ever printed.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

if TYPE_CHECKING:  # pragma: no cover
    from classroom_support.central.store import Device

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """SHA-256 is enough here: the token is 256 random bits, not a password to brute-force."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_hint(token: str) -> str:
    return f"{token[:4]}…" if token else ""


# Declares the scheme in the OpenAPI document; the check itself is ours (401, not 403).
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="deviceToken",
    description="the device token printed by `classroom-support central add-device`",
)


def require_device(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),  # noqa: B008
) -> Device:
    """FastAPI dependency: the device whose token is in `Authorization: Bearer ...`, or 401."""
    store = request.app.state.store
    token = credentials.credentials if credentials is not None else ""
    device = store.authenticate(token)
    if device is None:
        raise HTTPException(
            status_code=401,
            detail={"code": "unauthorized", "message": "a valid device token is required"},
            headers={"WWW-Authenticate": "Bearer"},
        )
    return device  # type: ignore[no-any-return]
