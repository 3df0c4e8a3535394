"""A table of rows where Home and End go to the first and last row.

Textual's DataTable sends Home/End to the first/last *column* (Ctrl+Home/End to the rows);
in a list of tickets or events a user pressing End wants the last one.
"""

from __future__ import annotations

from textual.binding import Binding

from classroom_support.widgets.table import Table


class RowTable(Table):
    BINDINGS = [
        Binding("home", "first_row", show=False),
        Binding("end", "last_row", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def action_first_row(self) -> None:
        self._set_hover_cursor(False)
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self._set_hover_cursor(False)
        self.move_cursor(row=max(0, self.row_count - 1))
