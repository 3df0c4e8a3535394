"""Errors the store raises for a request as a whole (the API maps `status` to HTTP)."""

from __future__ import annotations


class StoreError(Exception):
    """A request the store refuses as a whole (the API maps `status` to the HTTP status)."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Conflict(StoreError):
    status = 409


class NotFound(StoreError):
    status = 404
