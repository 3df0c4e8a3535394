"""Text that may take several rows, wrapped in logical order when it is drawn.

Textual wraps the text it is given. An Arabic line shaped and reordered for the terminal
(`i18n.display`) is already in visual order, so Textual would cut it from the wrong end: the
paragraph's beginning would land on its second row. `LogicalParagraph` keeps the logical text
and, at the width it is drawn at, breaks it into lines first (word boundaries, its own line
breaks kept), then shapes each line on its own; the CSS (`.-rtl`) aligns them to the right.
In English, or when the terminal does bidi itself, it is plain text that Textual wraps.
"""

from __future__ import annotations

import re
import textwrap

from rich.cells import cell_len
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from classroom_support.bidi_runs import ARABIC
from classroom_support.i18n import app_shapes_arabic, display, reshape
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


def shaped_cells(text: str) -> int:
    """The cells `text` takes once shaped: joined letters (lam-alef is one), marks take none."""
    return cell_len(reshape(text)) if ARABIC.search(text) else cell_len(text)


def wrap_shaped(text: str, width: int) -> list[str]:
    """`text` broken into rows in logical order, each at most `width` cells once shaped: at
    spaces, its own line breaks kept, a word longer than a row cut."""
    width = max(1, width)
    rows: list[str] = []
    for line in text.split("\n"):
        if shaped_cells(line) <= width:
            rows.append(line)
            continue
        current = ""
        for word in re.findall(r"\s*\S+", line):
            if current and shaped_cells(current + word) > width:
                rows.append(current)
                current = word.lstrip()
            else:
                current += word
            while shaped_cells(current) > width:  # a word longer than the row
                cut = len(current) - 1
                while cut > 1 and shaped_cells(current[:cut]) > width:
                    cut -= 1
                rows.append(current[:cut])
                current = current[cut:]
        rows.append(current)
    return rows


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
            lines = wrap_shaped(self.text, width)
            # Shaped together: every row, an all-Latin one too, is a row of the same
            # right-to-left paragraph (`i18n.display` shapes each line on its own).
            self._by_width[width] = Content(display("\n".join(lines)))
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
