"""A footer whose binding descriptions are translation keys, shown in the current language.

Textual's footer makes each key a widget of its own; the queue's footer had fourteen, more than
half the widgets of the first screen, each composed, styled (with two component classes),
mounted, laid out and drawn before the first frame. Here the keys are one widget,
`FooterKeyRow`, that draws them as Textual's keys look (it is a `FooterKey`, so the same rules
style it) and maps a click or the pointer to the key under it; only the command-palette key,
docked at the edge, stays a key of its own.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.events import Resize
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from classroom_support.i18n import mirrored, ui

PALETTE = "-command-palette"
KEPT = ("quit", "help")  # binding ids the footer never leaves out
DIM = Style(dim=True)  # a disabled key (FooterKey.-disabled: text-style dim)


class FooterEntry(NamedTuple):
    """One key as the footer shows it (what a FooterKey widget held)."""

    key: str
    key_display: str
    description: str  # translated
    action: str
    enabled: bool
    tooltip: str


def key_width(key: FooterEntry | FooterKey) -> int:
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
        its styles and its bindings a second time, before the first frame."""
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


class FooterKeyRow(FooterKey):
    """The footer's keys in one widget: each drawn as a compact `FooterKey` draws itself, with
    the one-cell gap its margin left between keys (the footer's own background); from the
    right, first key rightmost, in Arabic. The pointer highlights the key under it and shows
    its tooltip; a click presses that key (a disabled one rings the bell)."""

    COMPONENT_CLASSES = FooterKey.COMPONENT_CLASSES | {"footer-key-row--hover"}
    DEFAULT_CSS = """
    FooterKeyRow {
        pointer: pointer;
        & > .footer-key-row--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
    }
    """
    # Hover is the key's under the pointer, not the whole row's (FooterKey:hover restyles it).
    _PSEUDO_CLASSES = {**FooterKey._PSEUDO_CLASSES, "hover": lambda widget: False}

    def __init__(self, entries: list[FooterEntry], *, rtl: bool) -> None:
        super().__init__("", "", "", "")
        self.entries = entries
        self.rtl = rtl
        self.hovered: int | None = None

    def drawn(self) -> list[int]:
        """The entries' indexes from the left edge."""
        order = list(range(len(self.entries)))
        return order[::-1] if self.rtl else order

    def spans(self) -> list[tuple[int, int, int]]:
        """(first column, column after it, entry index) of each key, from the left edge; the
        gap between two keys is the column after one of them."""
        spans, start = [], 0
        for index in self.drawn():
            end = start + key_width(self.entries[index]) - 1
            spans.append((start, end, index))
            start = end + 1
        return spans

    def entry_at(self, x: int) -> int | None:
        """The entry drawn at column `x` of the row (None for a gap)."""
        return next((index for start, end, index in self.spans() if start <= x < end), None)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        kpad = self.get_component_styles("footer-key--key").padding
        dpad = self.get_component_styles("footer-key--description").padding
        base = self.rich_style
        row = Text(end="", no_wrap=True)
        for n, index in enumerate(self.drawn()):
            entry = self.entries[index]
            if n:
                row.append(" ")  # drawn by render_lines
            if self.rtl and not entry.description:
                piece = Text(entry.key_display, style=key_style)  # as RtlFooterKey draws it
            elif self.rtl:
                piece = Text.assemble(
                    (entry.description + " ", description_style), (entry.key_display, key_style)
                )
            elif entry.description:
                piece = Text.assemble(
                    (f"{' ' * kpad.left}{entry.key_display}{' ' * kpad.right}", key_style),
                    (f"{' ' * dpad.left}{entry.description}{' ' * dpad.right}", description_style),
                )
            else:
                piece = Text.assemble((entry.key_display, key_style))
            if not (self.rtl and not entry.description):
                piece.stylize_before(base if entry.enabled else base + DIM)
            if index == self.hovered:
                piece.stylize(self.get_component_rich_style("footer-key-row--hover"))
            row.append_text(piece)
        return row

    def render_lines(self, crop: Region) -> list[Strip]:
        # A gap is the footer's own blank cell, as between two key widgets: its background,
        # and no colour of text (render() draws it with the keys' base style).
        lines = super().render_lines(crop)
        parent = self.parent
        blank = Style(bgcolor=(parent if isinstance(parent, Widget) else self).rich_style.bgcolor)
        gaps = [end - crop.x for _, end, _ in self.spans()[:-1] if crop.x <= end < crop.right]
        if not gaps:
            return lines
        cuts = sorted({c for x in gaps for c in (x, x + 1)})
        out: list[Strip] = []
        for line in lines:
            # Strip.divide keeps what lies before the last cut: the line's end is the last.
            pieces = list(line.divide([*cuts, line.cell_length]))
            starts = [0, *cuts]
            out.append(
                Strip.join(
                    Strip([Segment(" ", blank)], 1) if start in gaps else piece
                    for start, piece in zip(starts, pieces, strict=False)
                )
            )
        return out

    def _hover(self, index: int | None) -> None:
        if index != self.hovered:
            self.hovered = index
            tooltip = self.entries[index].tooltip if index is not None else ""
            self.tooltip = tooltip or None
            self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self.entry_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._hover(None)

    def on_mouse_down(self, event: events.MouseDown) -> None:  # type: ignore[override]
        index = self.entry_at(event.x)
        if index is None:
            return
        entry = self.entries[index]
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()


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

    def entries(self) -> list[FooterEntry]:
        """The keys Textual's footer would show (one per action, the first binding for it),
        translated. Binding groups are not used here: each key is shown on its own."""
        seen: set[str] = set()
        entries: list[FooterEntry] = []
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            entries.append(
                FooterEntry(
                    binding.key,
                    self.app.get_key_display(binding),
                    ui(binding.description) if binding.description else "",
                    binding.action,
                    enabled,
                    tooltip,
                )
            )
        return entries

    def palette_key(self) -> FooterKey | None:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if found is None:
            return None
        _node, binding, enabled, _tooltip = found
        key = FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            ui("key.palette"),
            binding.action,
            classes=PALETTE,
            disabled=not enabled,
            tooltip=binding.tooltip or binding.description,
        )
        # The class its `compact` watcher gives it on mount, given now: no second styling.
        key.set_class(self.compact, "-compact", update=False)
        return key

    def compose(self) -> ComposeResult:
        entries = self.entries()
        palette = self.palette_key()
        self._drawn_keys = self.keys_to_show()
        # Before its first layout the footer has no size: it spans the screen.
        self._drawn_width = width = self.size.width or self.app.size.width
        if width:
            # The palette key is its left border and no gap after it; the last key's gap may
            # lie under that border.
            entries = self.fitting(entries, width + 1 - (key_width(palette) if palette else 0))
        rtl = self.has_class("-mirrored")
        if entries:
            row = FooterKeyRow(entries, rtl=rtl)
            row.set_class(self.compact, "-compact", update=False)
            yield row
        if palette is not None:
            yield RtlFooterKey.like(palette) if rtl else palette

    def fitting(self, entries: list[FooterEntry], room: int) -> list[FooterEntry]:
        """Only whole keys: one cut in the middle ("b ▏", "k Arti▏") reads as a wrong word.
        Quit and Help stay; the screen's last keys (and the language key) give way first.
        Those left out are still in help (F1) and the command palette."""
        app_keys = {
            key
            for key, (node, binding, *_rest) in self.screen.active_bindings.items()
            if node is self.app and binding.id in KEPT
        }
        room -= sum(key_width(e) for e in entries if e.key in app_keys)
        shown: list[FooterEntry] = []
        for entry in entries:
            if entry.key in app_keys:
                shown.append(entry)
            elif room >= key_width(entry):
                room -= key_width(entry)
                shown.append(entry)
            else:
                room = -1  # keep the order: nothing after a key that was left out
        return shown

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._drawn_width:
            self.call_after_refresh(self.recompose)
