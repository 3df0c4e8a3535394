"""Read QR codes off what a screen shows, with a real decoder (zxing-cpp).

The cells come from the running app's compositor — the same composited lines Textual writes to
the terminal and exports as a screenshot: every widget, overlay and filter already applied. Each
cell becomes two pixels stacked (terminal cells are about twice as tall as wide): its top and
bottom halves, coloured by what the character shows there:

- " " is its background, "█" its foreground, "▀" foreground over background, "▄" the reverse;
- "▌"/"▐" cover half the cell: half foreground and half background in both halves;
- any other glyph is mostly background with some ink: 30 % foreground in both halves.

Reverse video swaps the colours; dim pulls the foreground half-way to the background; a missing
colour is the terminal's default (light text on black). The picture is scaled up and handed to
zxing-cpp, which looks for QR codes anywhere in it, as a phone would in a photo of the screen.
Inverted (light-on-dark) codes are not accepted: the product promises dark on light.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import zxingcpp
from PIL import Image
from rich.cells import cell_len
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.app import App

RGB = tuple[int, int, int]
DEFAULT_FG: RGB = (229, 229, 229)
DEFAULT_BG: RGB = (0, 0, 0)
INK = 0.3  # how much of an ordinary glyph's cell is ink
PIXELS = 4  # image pixels per module side


@dataclass(frozen=True)
class Cell:
    char: str
    fg: RGB
    bg: RGB
    top: RGB
    bottom: RGB


def _blend(a: RGB, b: RGB, amount: float) -> RGB:
    """`amount` of b over a."""
    return (
        round(a[0] + (b[0] - a[0]) * amount),
        round(a[1] + (b[1] - a[1]) * amount),
        round(a[2] + (b[2] - a[2]) * amount),
    )


def _rgb(color: Color | None, default: RGB) -> RGB:
    if color is None or color.is_default:
        return default
    triplet = color.get_truecolor()
    return (triplet.red, triplet.green, triplet.blue)


def halves(char: str, fg: RGB, bg: RGB) -> tuple[RGB, RGB]:
    """The colours of a cell's top and bottom halves."""
    if char == " " or char == "":
        return bg, bg
    if char == "█":
        return fg, fg
    if char == "▀":
        return fg, bg
    if char == "▄":
        return bg, fg
    if char in "▌▐":
        mixed = _blend(bg, fg, 0.5)
        return mixed, mixed
    inked = _blend(bg, fg, INK)
    return inked, inked


def cell_of(char: str, style: Style | None) -> Cell:
    style = style or Style()
    fg = _rgb(style.color, DEFAULT_FG)
    bg = _rgb(style.bgcolor, DEFAULT_BG)
    if style.reverse:
        fg, bg = bg, fg
    if style.dim:
        fg = _blend(fg, bg, 0.5)
    top, bottom = halves(char, fg, bg)
    return Cell(char, fg, bg, top, bottom)


def cells_from_segments(lines: Iterable[Iterable[Segment]], width: int) -> list[list[Cell]]:
    """One row of cells per line; a wide character fills two cells; rows padded to `width`."""
    rows = []
    for line in lines:
        row: list[Cell] = []
        for segment in line:
            if segment.control:
                continue
            for char in segment.text:
                cell = cell_of(char, segment.style)
                row.extend([cell] * max(cell_len(char), 1 if char else 0))
        blank = cell_of(" ", None)
        rows.append((row + [blank] * width)[:width])
    return rows


def screen_cells(app: App[object]) -> list[list[Cell]]:
    """What the screen shows now: the compositor's full update, as export_screenshot takes it."""
    screen = app.screen
    update = screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines = [[seg for strip in chops for seg in strip] for chops in update.strips]  # type: ignore[union-attr]
    return cells_from_segments(lines, app.size.width)


def image_of(cells: Sequence[Sequence[Cell]], pixels: int = PIXELS) -> Image.Image:
    """A greyscale picture: each cell `pixels` wide and 2 × `pixels` tall."""
    height = len(cells) * 2
    width = max((len(r) for r in cells), default=0)
    data = bytearray()
    for row in cells:
        for half in ("top", "bottom"):
            for cell in row:
                r, g, b = getattr(cell, half)
                data.append(round(0.299 * r + 0.587 * g + 0.114 * b))
    small = Image.frombytes("L", (width, height), bytes(data))
    return small.resize((width * pixels, height * pixels), Image.Resampling.NEAREST)


def decode_image(image: Image.Image) -> list[str]:
    results = zxingcpp.read_barcodes(
        image,
        formats=zxingcpp.BarcodeFormat.QRCode,
        try_rotate=False,
        try_invert=False,
    )
    return sorted(r.text for r in results if r.valid)


def decode_cells(cells: Sequence[Sequence[Cell]]) -> list[str]:
    return decode_image(image_of(cells))


def decode_screen(app: App[object]) -> list[str]:
    """Every QR code a camera would read off the app's screen now, sorted."""
    return decode_cells(screen_cells(app))


def screen_text(cells: Sequence[Sequence[Cell]]) -> str:
    return "\n".join("".join(c.char for c in row).rstrip() for row in cells)


# --------------------------------------------------------------------------- a real terminal

_SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def _xterm256(index: int) -> RGB:
    base16 = [
        (0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128), (128, 0, 128),
        (0, 128, 128), (192, 192, 192), (128, 128, 128), (255, 0, 0), (0, 255, 0),
        (255, 255, 0), (0, 0, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]  # fmt: skip
    if index < 16:
        return base16[index]
    if index < 232:
        index -= 16
        levels = (0, 95, 135, 175, 215, 255)
        return (levels[index // 36], levels[(index // 6) % 6], levels[index % 6])
    grey = 8 + 10 * (index - 232)
    return (grey, grey, grey)


def cells_from_ansi(text: str, width: int) -> list[list[Cell]]:
    """Parse `tmux capture-pane -e -p` output (text with SGR sequences) into cells."""
    rows: list[list[Cell]] = []
    fg: RGB | None = None
    bg: RGB | None = None
    reverse = dim = False
    for line in text.split("\n"):
        row: list[Cell] = []
        pos = 0
        for match in [*_SGR.finditer(line), None]:
            chunk = line[pos : match.start() if match else len(line)]
            for char in chunk:
                f, b = fg or DEFAULT_FG, bg or DEFAULT_BG
                if reverse:
                    f, b = b, f
                if dim:
                    f = _blend(f, b, 0.5)
                top, bottom = halves(char, f, b)
                row.extend([Cell(char, f, b, top, bottom)] * max(cell_len(char), 1))
            if match is None:
                break
            pos = match.end()
            params = [int(p) if p else 0 for p in re.split("[;:]", match.group(1))] or [0]
            i = 0
            while i < len(params):
                p = params[i]
                if p == 0:
                    fg = bg = None
                    reverse = dim = False
                elif p == 2:
                    dim = True
                elif p == 22:
                    dim = False
                elif p == 7:
                    reverse = True
                elif p == 27:
                    reverse = False
                elif 30 <= p <= 37 or 90 <= p <= 97:
                    fg = _xterm256(p - 30 if p < 90 else p - 90 + 8)
                elif 40 <= p <= 47 or 100 <= p <= 107:
                    bg = _xterm256(p - 40 if p < 100 else p - 100 + 8)
                elif p == 39:
                    fg = None
                elif p == 49:
                    bg = None
                elif p in (38, 48) and i + 1 < len(params):
                    if params[i + 1] == 5 and i + 2 < len(params):
                        value = _xterm256(params[i + 2])
                        i += 2
                    elif params[i + 1] == 2 and i + 4 < len(params):
                        value = (params[i + 2], params[i + 3], params[i + 4])
                        i += 4
                    else:
                        break
                    if p == 38:
                        fg = value
                    else:
                        bg = value
                i += 1
        blank = Cell(" ", DEFAULT_FG, bg or DEFAULT_BG, bg or DEFAULT_BG, bg or DEFAULT_BG)
        rows.append((row + [blank] * width)[:width])
    return rows
