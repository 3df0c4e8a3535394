"""A footer whose binding descriptions are translation keys, shown in the current language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from classroom_support.i18n import ui


class LocalizedFooter(Footer):
    def __init__(self) -> None:
        # Compact: the queue has many keys, and every one should be visible at 120 columns.
        super().__init__(compact=True)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.description:
                widget.description = ui(widget.description)
            yield widget
