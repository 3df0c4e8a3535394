"""What the central server agrees to store: only what it can serve back to every laptop.

A pushed event's payload is free-form JSON, so its shape is checked here, once, before it is
stored: a JSON object, at most `MAX_PAYLOAD_BYTES` as UTF-8 JSON text, nested at most
`MAX_DEPTH` deep, only finite numbers, only text that is valid UTF-8. Anything else would be
stored and then break every pull page that contains it (the response serializer refuses deep
nesting, NaN and Infinity are not JSON), for every device of the hall, for good.

The same check tells pull and `central check` which rows stored by an older server cannot be
served. Headless and free of the store, so push, pull, the check and central edits share it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 32  # containers inside containers; the payload object itself is depth 1
MAX_PAYLOAD_BYTES = 64 * 1024  # as stored: UTF-8 JSON text


def _walk_problem(payload: Any) -> str:
    """The first problem found walking the value (iteratively: depth cannot overflow the
    stack here), or ""."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping | list | tuple):
            if depth > MAX_DEPTH:
                return f"too_deep: nested more than {MAX_DEPTH} levels"
            if isinstance(value, Mapping):
                for key, item in value.items():
                    if not isinstance(key, str):
                        return "not_json: an object key is not text"
                    if not _utf8(key):
                        return "bad_text: text is not valid UTF-8"
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if not _utf8(value):
                return "bad_text: text is not valid UTF-8"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return "non_finite: NaN and Infinity are not JSON numbers"
        elif value is None or isinstance(value, bool | int):
            continue
        else:
            return f"not_json: a {type(value).__name__} value"
    return ""


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def payload_problem(payload: Any) -> str:
    """Why this event payload may not be stored, as `bad_payload: ...`, or "" when it may."""
    if not isinstance(payload, Mapping):
        return "bad_payload: not an object"
    problem = _walk_problem(payload)
    if problem:
        return f"bad_payload: {problem}"
    try:
        size = len(payload_text(payload).encode("utf-8"))
    except (TypeError, ValueError):  # e.g. an integer too long to convert to text
        return "bad_payload: not JSON"
    if size > MAX_PAYLOAD_BYTES:
        return f"payload_too_large: {size} bytes (limit {MAX_PAYLOAD_BYTES})"
    return ""


def payload_text(payload: Mapping[str, Any]) -> str:
    """The stored form of a payload. `allow_nan=False`: never write NaN/Infinity as text."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False)


def load_stored_payload(text: str) -> tuple[Any, str]:
    """A payload stored as text (perhaps by an older server that checked less) and "", or
    (None, why it cannot be served). Size is not checked: it never stopped a pull."""
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        return None, "bad_payload: stored text is not JSON"
    if not isinstance(payload, Mapping):
        return None, "bad_payload: not an object"
    problem = _walk_problem(payload)
    if problem:
        return None, f"bad_payload: {problem}"
    return payload, ""


# --------------------------------------------------------------------------- 422 answers

MAX_ECHOED_ERRORS = 20
MAX_ECHOED_TEXT = 200
MAX_ECHOED_INT = 2**63


def _clean(text: Any, limit: int = MAX_ECHOED_TEXT) -> str:
    """Text safe to put in a JSON answer: no lone surrogates, bounded."""
    return str(text)[:limit].encode("utf-8", "replace").decode("utf-8")


def _scalar(value: Any) -> tuple[bool, Any]:
    """(True, value) for a value safe to echo in a JSON answer, else (False, None)."""
    if value is None or isinstance(value, bool):
        return True, value
    if isinstance(value, int):
        return abs(value) < MAX_ECHOED_INT, value
    if isinstance(value, float):
        return math.isfinite(value), value
    if isinstance(value, str):
        return True, _clean(value)
    return False, None


def echo_safe_errors(errors: Any) -> list[dict[str, Any]]:
    """Request validation errors as a 422 body that is always valid JSON.

    The default answer echoes each error's input and context; an input of `1e999999` (which
    Python's JSON parser reads as Infinity) or NaN cannot be written as JSON, and deep or huge
    inputs are not worth sending back. Only short scalar inputs are echoed."""
    out: list[dict[str, Any]] = []
    for error in list(errors)[:MAX_ECHOED_ERRORS]:
        item: dict[str, Any] = {
            "type": _clean(error.get("type", "")),
            "loc": [
                p if isinstance(p, int) and abs(p) < MAX_ECHOED_INT else _clean(p)
                for p in error.get("loc", ())
            ],
            "msg": _clean(error.get("msg", ""), 300),
        }
        ok, value = _scalar(error.get("input"))
        if ok:
            item["input"] = value
        ctx = error.get("ctx")
        if isinstance(ctx, Mapping):
            safe = {}
            for key, raw in ctx.items():
                ok, value = _scalar(raw)
                safe[_clean(key)] = value if ok else _clean(raw)
            item["ctx"] = safe
        out.append(item)
    return out
