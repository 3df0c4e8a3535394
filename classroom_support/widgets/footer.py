"""A footer whose binding descriptions are translation keys, shown in the current language."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from classroom_support.i18n import mirrored, ui

PALETTE = "-command-palette"
KEPT = ("quit", "help")  # binding ids the footer never leaves out


def key_width(key: FooterKey) -> int:
    """Cells a compact key takes: "k Description" and the one-cell gap after it."""
    width = cell_len(key.key_display)
    if key.description:
        width += 1 + cell_len(key.description)
    return width + 1


class RtlFooterKey(FooterKey):
    """A footer key read from the right: the key, then (to its left) what it does."""

    @classmethod
    def like(cls, key: FooterKey) -> RtlFooterKey:
        """`key` itself, not yet mounted, made a mirrored key: a copy would build the widget,
        its styles and its bindings a second time for every key, before the first frame."""
        key.__class__ = cls
        key._css_types = {base.__name__ for base in key._css_bases(cls)}
        return key  # type: ignore[return-value]

    def render(self) -> Text:
        key_style = self.get_component_rich_style("footer-key--key")
        if not self.description:
            return Text(self.key_display, style=key_style)
        description_style = self.get_component_rich_style("footer-key--description")
        text = Text.assemble(
            (self.description + " ", description_style), (self.key_display, key_style)
        )
        text.stylize_before(self.rich_style)
        return text


class LocalizedFooter(Footer):
    # Textual's compact footer gives every key a one-cell right margin, the command-palette key
    # too; docked at the right edge, that margin let the keys scrolled under it show through
    # ("paletteQ"). Without it the key ends at the edge.
    DEFAULT_CSS = """
    LocalizedFooter.-compact FooterKey.-command-palette {
        margin-right: 0;
    }
    /* Arabic from the right: the first key at the right edge, the palette key at the left. */
    LocalizedFooter.-mirrored {
        layout: horizontal-rtl;
        align-horizontal: right;
    }
    LocalizedFooter.-mirrored.-compact FooterKey {
        margin-right: 0;
        margin-left: 1;
    }
    LocalizedFooter.-mirrored FooterKey.-command-palette {
        dock: left;
        margin-left: 0;
        padding-right: 0;
        padding-left: 1;
        border-left: none;
        border-right: vkey $foreground 20%;
    }
    """

    def __init__(self) -> None:
        # Compact: the queue has many keys, and every one should be visible at 120 columns.
        super().__init__(compact=True)
        self._drawn_width = 0
        self.set_class(mirrored(), "-mirrored", update=False)  # not mounted: styled as it mounts
        # Keys from the first compose: Textual's footer composes empty and recomposes once the
        # screen says its bindings are in, which put the keys (and the layout they take) a
        # frame or two behind the rest of a new screen. `bindings_changed` recomposes only
        # when the keys differ from those drawn.
        self._bindings_ready = True
        self._drawn_keys: tuple[object, ...] = ()

    def keys_to_show(self) -> tuple[object, ...]:
        return tuple(
            (key, binding.description, binding.action, enabled, tooltip)
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or binding.action == "command_palette"
        )

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and self.keys_to_show() == self._drawn_keys:
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        keys: list[Widget] = []
        palette: list[FooterKey] = []
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # The class its `compact` watcher gives it on mount, given now: the watcher
                # then changes nothing, and no key has its styles worked out a second time.
                widget.set_class(self.compact, "-compact", update=False)
                if widget.has_class(PALETTE):
                    widget.description = ui("key.palette")
                    palette.append(widget)
                    continue
                if widget.description:
                    widget.description = ui(widget.description)
            keys.append(widget)
        self._drawn_keys = self.keys_to_show()
        # Before its first layout the footer has no size: it spans the screen.
        self._drawn_width = width = self.size.width or self.app.size.width
        if width:
            # The palette key is its left border and no gap after it; the last key's gap may
            # lie under that border.
            keys = self.fitting(keys, width + 1 - sum(key_width(p) for p in palette))
        if self.has_class("-mirrored"):
            keys = [RtlFooterKey.like(k) if isinstance(k, FooterKey) else k for k in keys]
            palette = [RtlFooterKey.like(p) for p in palette]
        yield from keys
        yield from palette

    def fitting(self, keys: list[Widget], room: int) -> list[Widget]:
        """Only whole keys: one cut in the middle ("b ▏", "k Arti▏") reads as a wrong word.
        Quit and Help stay; the screen's last keys (and the language key) give way first.
        Those left out are still in help (F1) and the command palette."""
        app_keys = {
            key
            for key, (node, binding, *_rest) in self.screen.active_bindings.items()
            if node is self.app and binding.id in KEPT
        }

        def need(widget: Widget) -> int:
            return key_width(widget) if isinstance(widget, FooterKey) else 0

        room -= sum(need(w) for w in keys if isinstance(w, FooterKey) and w.key in app_keys)
        shown: list[Widget] = []
        for widget in keys:
            if isinstance(widget, FooterKey) and widget.key in app_keys:
                shown.append(widget)
            elif room >= need(widget) > 0 or (need(widget) == 0 and room > 0):
                room -= need(widget)
                shown.append(widget)
            else:
                room = -1  # keep the order: nothing after a key that was left out
        return shown

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._drawn_width:
            self.call_after_refresh(self.recompose)
