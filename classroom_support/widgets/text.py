"""User and server text as Content: never parsed as markup, control characters made visible."""

from __future__ import annotations

from textual.content import Content

from classroom_support.i18n import compose_runs, display, tr_runs
from classroom_support.textsafe import visible
from classroom_support.widgets.paragraph import LogicalParagraph


def data_text(text: str, *, single_line: bool = True, limit: int | None = None) -> Content:
    return Content(display(visible(text, single_line=single_line, limit=limit)))


def paragraph_text(
    text: str, *, single_line: bool = False, limit: int | None = None
) -> LogicalParagraph:
    """Like `data_text` for text that may take several rows: wrapped in logical order at the
    width it is drawn at, then each line shaped, so an Arabic paragraph begins on its first
    row (`widgets.paragraph`)."""
    return LogicalParagraph(text, single_line=single_line, limit=limit)


def runs_text(key: str, /, **values: object) -> Content:
    """A translated line whose values (names, dates, refs) each stay whole and in place in
    either direction (`i18n.tr_runs`); the values are made visible like `data_text`."""
    return Content(display(tr_runs(key, **values)))


def composed_text(runs: list[str], sep: str = " · ", limit: int | None = None) -> Content:
    """Pieces of text in a row, each whole and in order from the line's start (the right in
    Arabic), cut to `limit` characters in logical order; made visible like `data_text`."""
    return Content(display(compose_runs(runs, sep, limit)))


def fit_text(text: str, width: int) -> Content:
    """Text cut to a column `width` wide in logical order, before Arabic is shaped (so an
    Arabic title keeps its beginning), with an ellipsis only when it is cut."""
    return data_text(text, limit=width - 1 if len(text) > width else None)


def short_label(text: str, width: int) -> str:
    """A label that fits `width` cells without a cut word: whole; else without its bracketed
    aside ("Paused (waiting for trainee)" → "Paused"); else whole words and an ellipsis."""
    if len(text) <= width:
        return text
    head = text.split(" (", 1)[0]
    if head != text and len(head) <= width:
        return head
    words = text[: max(1, width - 1)]
    if " " in words and text[len(words)] != " ":
        words = words.rsplit(" ", 1)[0]
    return words.rstrip(" (,·-–—") + "…"


def label_text(text: str, width: int) -> Content:
    """`short_label` as Content: cut in logical order, then shaped (Arabic keeps its start)."""
    return data_text(short_label(text, width))
