"""Text a central database cannot hold. PostgreSQL refuses U+0000 (NUL) in text columns, where
SQLite stores it, so the central server refuses it up front — per pushed item, per form, per
article — instead of failing the whole transaction with a 500 on one engine only."""

from __future__ import annotations

from typing import Any

NUL = "\x00"
NUL_REASON = "bad_text: U+0000 (NUL) cannot be stored"


def holds_nul(value: Any) -> bool:
    """True if a string anywhere in `value` (dict keys and values, lists) contains NUL.
    Iterative, so a deeply nested payload cannot exhaust the stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
