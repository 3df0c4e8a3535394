"""Lines composed from runs of mixed direction that read right: each run stays whole and in place.

A header such as "القاعة A101 · Excel المتقدم — Advanced Excel · 2026-12-01 12:24" strings
together pieces of both directions. Put through the bidi algorithm as one line, the neutral
separators between two Latin pieces take the Latin direction, the pieces run into one another
and brackets pair with the wrong partner. Unicode's answer is to isolate each piece
(U+2066–2069), but the pure-Python bidi implementation used for shaping (it mirrors brackets)
neither pairs brackets nor knows isolates. So each run is built the way an isolate behaves:

- inside, an embedding in the run's own direction (from its first strong character, Latin
  when it has none, as a first-strong isolate decides): its brackets and edge punctuation
  resolve within the run, so "Python للمبتدئين (Beginners)" keeps its brackets paired;
- outside, a mark of the line's direction on each side: the separator between two runs takes
  the line's direction, so the runs keep their order, read from the right in Arabic.

The result is for display only: each value is made visible first (`textsafe.visible`, so a
bidi override typed into a name shows as `<U+202E>`), and the line must not pass through
`visible` again — it would show the embeddings as such. `i18n.display` drops the controls once it
has reordered the line; a terminal that does bidi itself reads them as meant. A line without
Arabic is the plain text (English output is unchanged). Headless: no Textual.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from classroom_support.textsafe import visible

LRM = "\u200e"
RLM = "\u200f"
LRE = "\u202a"
RLE = "\u202b"
PDF = "\u202c"
CONTROLS = (LRM, RLM, LRE, RLE, PDF)
ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def is_rtl_text(text: str) -> bool:
    """True when the first strong character of `text` is right-to-left."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def isolate(text: str, *, rtl: bool) -> str:
    """`text` as one run in a line whose direction is right-to-left when `rtl`."""
    outer = RLM if rtl else LRM
    inner = RLE if is_rtl_text(text) else LRE
    return f"{outer}{inner}{text}{PDF}{outer}"


def compose_runs(
    runs: Iterable[str], *, rtl: bool, sep: str = " · ", limit: int | None = None
) -> str:
    """The runs joined by `sep`, each kept whole and in order from the line's start (the right
    in Arabic). Without Arabic anywhere, the plain join. With `limit`, a line longer than that
    is cut to `limit` characters in logical order and "…" added."""
    pieces = [visible(r, single_line=True) for r in runs]
    plain = sep.join(pieces)
    if not ARABIC.search(plain):
        return plain if limit is None or len(plain) <= limit else plain[:limit] + "…"
    if limit is not None:
        pieces = cut_runs(pieces, sep, limit)
    return (RLM if rtl else LRM) + sep.join(isolate(p, rtl=rtl) for p in pieces)


def cut_runs(runs: list[str], sep: str, limit: int) -> list[str]:
    """The runs as `textsafe.visible(..., limit=)` cuts their join: the first `limit`
    characters, then "…" (at the end of the last run kept)."""
    if len(sep.join(runs)) <= limit:
        return runs
    kept: list[str] = []
    room = limit
    for run in runs:
        room -= len(sep) if kept else 0
        if room <= 0:
            break
        kept.append(run[:room])
        room -= len(run)
    if kept:
        kept[-1] += "…"
    return kept


def fill(template: str, values: Mapping[str, object], *, rtl: bool) -> str:
    """`template.format(**values)` with each value a run of its own: a Latin course name, a
    date or a reference keeps its place among the template's words. Without Arabic in the
    result, the plain format."""
    safe = {k: visible(str(v), single_line=True) for k, v in values.items()}
    plain = template.format(**safe)
    if not ARABIC.search(plain):
        return plain
    runs = {k: isolate(v, rtl=rtl) for k, v in safe.items()}
    return (RLM if rtl else LRM) + template.format(**runs)


def strip_controls(text: str) -> str:
    """`text` without the marks and embeddings this module adds."""
    return "".join(c for c in text if c not in CONTROLS)
