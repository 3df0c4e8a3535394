"""Showing user and server text literally: control and bidi-override characters made visible.

The database keeps text verbatim; this is only for putting it on a screen or a terminal, where
an escape sequence could repaint the display and an RTL override could disguise a reference.
"""

from __future__ import annotations

import re

# C0 controls except tab/newline, DEL, C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates (the "Trojan Source" set).
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _control_picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ ␁ … ␛ …
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(text: str, *, single_line: bool = False, limit: int | None = None) -> str:
    """`text` with every invisible or terminal-active character replaced by a visible stand-in."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable():  # no control, bidi control, tab or newline: nothing to replace
        return text
    text = _CONTROL.sub(_control_picture, text)
    text = _BIDI_CONTROL.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)
    if single_line:
        text = text.replace("\t", " ").replace("\n", " ⏎ ")
    return text


def _one_for_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"  # C1 control, bidi embedding/override/isolate


def visible_in_place(text: str) -> str:
    """Like `visible`, one stand-in character per character, so an editing field's cursor
    index still matches what is shown (C1 and bidi controls show as U+FFFD)."""
    text = _CONTROL.sub(_one_for_one, text)
    return _BIDI_CONTROL.sub(_one_for_one, text)
