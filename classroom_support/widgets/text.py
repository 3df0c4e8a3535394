"""User and server text as Content: never parsed as markup, control characters made visible."""

from __future__ import annotations

from textual.content import Content

from classroom_support.i18n import display
from classroom_support.textsafe import visible


def data_text(text: str, *, single_line: bool = True, limit: int | None = None) -> Content:
    return Content(display(visible(text, single_line=single_line, limit=limit)))
