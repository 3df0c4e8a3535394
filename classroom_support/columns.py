"""Which table columns fit a terminal width, and how wide each one is.

Pure (no Textual), so the decision is tested for any width without drawing a screen. A table
declares its columns once, in display order, as `ColumnSpec`s; `fit_columns` takes the width
the table has and the widest text each column holds right now (header included), and answers
the columns to show with their widths:

1. every column gets what its text needs, within its own minimum and maximum — no blank filler;
2. while the flexible column (the queue's Problem) has less than its minimum, the most
   expendable column still shown is dropped (lowest `drop` first; `drop=None` never goes);
3. if that is still not enough, the columns left are narrowed towards their minimum, the
   expendable ones first (a column whose text must not be cut, `narrows=False`, is not);
4. the flexible column takes all the room that is left — below its minimum only when even
   the narrowed columns leave no more (the table still fits; nothing scrolls sideways).

Adding a column is one more `ColumnSpec` in the table's tuple, with its place in the drop order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

# Textual's DataTable pads each cell by one column on both sides.
CELL_PADDING = 2
# Room kept for the table's vertical scrollbar.
SCROLLBAR = 2
# The flexible column never goes below this, even on an absurdly narrow terminal.
FLEX_FLOOR = 4


class ColumnSpec(NamedTuple):
    key: str
    label: str  # translation key of the header
    min_width: int
    max_width: int
    # Order in which narrow terminals drop the column: 1 goes first; None: always shown.
    drop: int | None = None
    # The one column that takes the room the others leave (its max_width is not used).
    flex: bool = False
    # False: its text must never be cut (a countdown), so it is not narrowed below its text.
    narrows: bool = True


def fit_columns(
    columns: Sequence[ColumnSpec],
    width: int,
    natural: Mapping[str, int] | None = None,
    *,
    reserved: int = SCROLLBAR,
) -> list[tuple[str, int]]:
    """(key, content width) of the columns to show, in declared order, for a table `width`
    cells wide. `natural` is the widest text of each column now; a column not in it asks for
    its maximum."""
    natural = natural or {}
    flex = next((c for c in columns if c.flex), None)
    widths = {c.key: max(c.min_width, _wanted(c, natural)) for c in columns}
    shown = list(columns)
    flex_min = flex.min_width if flex is not None else 0

    def room() -> int:
        """What is left for the flexible column's text."""
        used = sum(CELL_PADDING + widths[c.key] for c in shown if not c.flex)
        return width - reserved - used - (CELL_PADDING if flex is not None else 0)

    expendable = sorted((c for c in columns if c.drop is not None), key=lambda c: c.drop or 0)
    for column in expendable:
        if room() >= flex_min:
            break
        shown.remove(column)
    # Narrow what is left: the expendable ones still shown first, then from the end.
    kept = [c for c in expendable if c in shown]
    kept += [c for c in reversed(shown) if c.drop is None and not c.flex]
    kept = [c for c in kept if c.narrows]
    for column in kept:
        short = flex_min - room()
        if short <= 0:
            break
        widths[column.key] -= min(short, widths[column.key] - column.min_width)
    if flex is not None:
        widths[flex.key] = max(FLEX_FLOOR, room())
    return [(c.key, widths[c.key]) for c in shown]


def _wanted(column: ColumnSpec, natural: Mapping[str, int]) -> int:
    """What the column's text asks for: within its maximum, unless its text must not be cut
    (an Arabic countdown with a weekday, "▲3 ⏸-18س 00د ←الأربعاء 10:00", is longer than most)."""
    text = natural.get(column.key, column.max_width)
    return text if not column.narrows else min(column.max_width, text)


def total_width(layout: Sequence[tuple[str, int]], *, reserved: int = SCROLLBAR) -> int:
    """Cells a table with this layout takes, padding and scrollbar included."""
    return reserved + sum(CELL_PADDING + w for _, w in layout)
