"""Text that may take several rows, wrapped in logical order when it is drawn.

Textual wraps the text it is given. An Arabic line shaped and reordered for the terminal
(`i18n.display`) is already in visual order, so Textual would cut it from the wrong end: the
paragraph's beginning would land on its second row. `LogicalParagraph` keeps the logical text
and, at the width it is drawn at, breaks it into lines first (word boundaries, its own line
breaks kept), then shapes each line on its own; the CSS (`.-rtl`) aligns them to the right.
In English, or when the terminal does bidi itself, it is plain text that Textual wraps.
"""

from __future__ import annotations

import textwrap

from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from classroom_support.bidi_runs import ARABIC
from classroom_support.i18n import app_shapes_arabic, display
from classroom_support.textsafe import visible


def wrap_logical(text: str, width: int) -> str:
    """Break `text` into lines of at most `width` characters in logical order, keeping its own
    line breaks. Shaping then reorders each line on its own, so a right-to-left paragraph
    reads top to bottom (a terminal-wrapped shaped line would be cut from the wrong end)."""
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(
            textwrap.wrap(
                line,
                max(1, width),
                break_long_words=True,
                break_on_hyphens=False,
                replace_whitespace=False,
                drop_whitespace=True,
            )
            or [""]
        )
    return "\n".join(lines)


class LogicalParagraph(Visual):
    """A paragraph of user or translated text (data, never markup) that wraps in logical order."""

    def __init__(self, text: str, *, single_line: bool = False, limit: int | None = None) -> None:
        self.text = visible(text, single_line=single_line, limit=limit)
        self._plain = Content(self.text)
        self._by_width: dict[int, Content] = {}

    def __str__(self) -> str:
        return self.text

    def _shapes(self) -> bool:
        return app_shapes_arabic() and ARABIC.search(self.text) is not None

    def content(self, width: int) -> Content:
        """What is drawn at `width` cells: the plain text, or its lines shaped one by one."""
        if not self._shapes():
            return self._plain
        if width not in self._by_width:
            lines = wrap_logical(self.text, width).split("\n")
            self._by_width[width] = Content("\n".join(display(line) for line in lines))
        return self._by_width[width]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return Content(display(self.text)).get_optimal_width(rules, container_width)

    def get_minimal_width(self, rules: RulesMap) -> int:
        return self._plain.get_minimal_width(rules)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.content(width).get_height(rules, width)

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        return self.content(width).render_strips(width, height, style, options)
