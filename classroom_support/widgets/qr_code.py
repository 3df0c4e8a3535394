"""A QR code drawn with half blocks, black on white whatever the theme, or an honest fallback.

Terminal cells are about twice as tall as wide, so one cell holds two modules stacked: one
column per module and half a row per module gives square modules. Every cell of the code and of
its 4-module quiet zone carries explicit colours (pure black #000000, pure white #FFFFFF), so no
theme, tint, selection or focus style can change what a phone camera sees. Cells that are all
light or all dark are a space on that background colour (no glyph to leave a seam between rows);
mixed cells are "▀" or "▄", black on white.

When the widget's area is too small for the whole code and its quiet zone, it draws no code: it
says so, with the size it needs, and shows the link as text instead. A code that does not scan
is worse than none.
"""

from __future__ import annotations

import textwrap

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from classroom_support.i18n import display, tr
from classroom_support.qr import QUIET_ZONE, QRMatrix, QRTooLong, qr_matrix

BLACK = "#000000"
WHITE = "#ffffff"
_LIGHT = Style(color=BLACK, bgcolor=WHITE)
_DARK = Style(color=BLACK, bgcolor=BLACK)
# (top dark, bottom dark) -> (character, style)
_CELLS: dict[tuple[bool, bool], tuple[str, Style]] = {
    (False, False): (" ", _LIGHT),
    (True, True): (" ", _DARK),
    (True, False): ("▀", _LIGHT),
    (False, True): ("▄", _LIGHT),
}
SMALLEST_SYMBOL = 21  # version 1


def code_cells(matrix: QRMatrix, scale: int = 1) -> tuple[int, int]:
    """(columns, rows) the code with its quiet zone takes at `scale` (modules per column)."""
    side = matrix.size_with_quiet_zone * scale
    return side, (side + 1) // 2


def draw(matrix: QRMatrix, scale: int = 1) -> list[list[Segment]]:
    """The code plus quiet zone as rows of segments. An odd number of module rows leaves the
    last cell's lower half light: a little more quiet zone, never a clipped module."""
    side = matrix.size_with_quiet_zone

    def dark(px: int, py: int) -> bool:
        mx, my = px // scale - QUIET_ZONE, py // scale - QUIET_ZONE
        inside = 0 <= mx < matrix.size and 0 <= my < matrix.size
        return inside and matrix.modules[my][mx]

    pixels = side * scale
    lines: list[list[Segment]] = []
    for row in range(0, pixels, 2):
        segments: list[Segment] = []
        run_key: tuple[bool, bool] | None = None
        run = 0
        for px in range(pixels):
            key = (dark(px, row), row + 1 < pixels and dark(px, row + 1))
            if key != run_key and run:
                assert run_key is not None
                char, style = _CELLS[run_key]
                segments.append(Segment(char * run, style))
                run = 0
            run_key = key
            run += 1
        if run_key is not None:
            char, style = _CELLS[run_key]
            segments.append(Segment(char * run, style))
        lines.append(segments)
    return lines


class QRCode(Widget, can_focus=False):
    """Shows `data` as a QR code centred in the widget's area, as large as `max_scale` allows.

    The error-correction level follows the room: M when the M symbol fits, else L (see
    `qr.qr_matrix`). `fits` tells whether the code is on screen.
    """

    ALLOW_SELECT = False
    DEFAULT_CSS = """
    QRCode {
        width: 1fr;
        height: 1fr;
        padding: 0;
        margin: 0;
        border: none;
        outline: none;
        opacity: 1;
        text-opacity: 1;
        tint: transparent;
        background-tint: transparent;
    }
    """

    data: reactive[str] = reactive("", layout=True)

    def __init__(
        self,
        data: str,
        *,
        max_scale: int = 1,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_scale = max(1, max_scale)
        self.set_reactive(QRCode.data, data)
        self._key: tuple[str, int, int] | None = None
        self._lines: list[Strip] = []
        self.matrix: QRMatrix | None = None
        self.scale = 0

    # ------------------------------------------------------------------ what is shown

    @property
    def fits(self) -> bool:
        """True when the whole code with its quiet zone is drawn."""
        self._layout()
        return self.matrix is not None and self.scale > 0

    def needed(self) -> tuple[int, int]:
        """(columns, rows) of the smallest code for `data` with its quiet zone."""
        try:
            return code_cells(qr_matrix(self.data, 0))  # 0: no room, so the smallest (L)
        except ValueError:
            return (0, 0)

    def _layout(self) -> None:
        width, height = self.content_size
        key = (self.data, width, height)
        if key == self._key:
            return
        self._key = key
        self.matrix, self.scale = None, 0
        room = min(width, 2 * height) - 2 * QUIET_ZONE
        matrix: QRMatrix | None = None
        if self.data and room >= SMALLEST_SYMBOL:
            try:
                matrix = qr_matrix(self.data, room)
            except QRTooLong:
                matrix = None
        if matrix is not None and matrix.size <= room:
            scale = self.max_scale
            while scale > 1 and (
                code_cells(matrix, scale)[0] > width or code_cells(matrix, scale)[1] > height
            ):
                scale -= 1
            self.matrix, self.scale = matrix, scale
            self._lines = self._code_lines(matrix, scale, width, height)
        else:
            self._lines = self._fallback_lines(width, height)

    def _code_lines(self, matrix: QRMatrix, scale: int, width: int, height: int) -> list[Strip]:
        cols, rows = code_cells(matrix, scale)
        left = (width - cols) // 2
        top = (height - rows) // 2
        base = self.rich_style
        blank = Strip.blank(width, base)
        lines = [blank] * top
        for segments in draw(matrix, scale):
            right = width - cols - left
            row = [Segment(" " * left, base), *segments, Segment(" " * right, base)]
            lines.append(Strip([s for s in row if s.text], width))
        lines += [blank] * (height - len(lines))
        return lines

    def _fallback_lines(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style
        if width <= 0 or height <= 0:
            return []
        cols, rows = self.needed()
        message = tr("qr.too_small", cols=cols, rows=rows) if cols else tr("qr.no_code")
        # Wrap in logical order, then shape each line (wrapping shaped RTL text reorders it).
        texts = [display(line) for line in textwrap.wrap(message, max(width, 1))]
        url = self.data
        texts += [url[i : i + width] for i in range(0, len(url), width)]
        lines = [Strip([Segment(text, base)]).adjust_cell_length(width, base) for text in texts]
        lines = lines[:height]
        return lines + [Strip.blank(width, base)] * (height - len(lines))

    # ------------------------------------------------------------------ Textual hooks

    def watch_data(self) -> None:
        self._key = None
        self.refresh(layout=True)

    def on_resize(self) -> None:
        self._key = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._key = None  # the blank around the code uses the theme's background

    def get_content_width(self, container: Size, viewport: Size) -> int:
        try:
            return code_cells(qr_matrix(self.data), 1)[0]
        except ValueError:
            return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        try:
            return code_cells(qr_matrix(self.data), 1)[1]
        except ValueError:
            return 1

    def render_line(self, y: int) -> Strip:
        self._layout()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.content_size.width, self.rich_style)
