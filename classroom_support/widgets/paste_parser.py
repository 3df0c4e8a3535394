"""Reading a bracketed paste from the terminal verbatim.

Textual's terminal parser handles an ESC inside a bracketed paste as the start of a key
sequence: the pasted `P1 \\e[31mred…` came out as keys typed *during* the paste (the ESC as
`^`) followed by a Paste event holding the rest, so the text was reordered; it also drops
NUL from pastes. The Linux driver's parser is replaced by this one, which takes everything
between the paste markers as the text of one Paste event. Whether a control character may be
stored is the form's and the database's business (stored verbatim, shown with `visible`).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual._xterm_parser import XTermParser
from textual.message import Message

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"


def _partial_end(data: str) -> int:
    """Length of the longest tail of `data` that could begin the end marker."""
    for size in range(min(len(PASTE_END) - 1, len(data)), 0, -1):
        if PASTE_END.startswith(data[-size:]):
            return size
    return 0


class VerbatimPasteParser(XTermParser):
    """Keys as Textual parses them; a paste (start marker within one read) kept verbatim."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._paste: list[str] | None = None
        self._held = ""  # the start of what may be the end marker, split across reads

    def feed(self, data: str) -> Iterable[Message]:
        if not data:  # end of input
            if self._paste is not None:
                yield events.Paste("".join(self._paste) + self._held)
                self._paste = None
            yield from super().feed(data)
            return
        while data:
            if self._paste is None:
                start = data.find(PASTE_START)
                if start < 0:
                    yield from super().feed(data)
                    return
                if start:
                    yield from super().feed(data[:start])
                self._paste = []
                data = data[start + len(PASTE_START) :]
                continue
            data = self._held + data
            self._held = ""
            end = data.find(PASTE_END)
            if end < 0:
                keep = _partial_end(data)
                self._paste.append(data[: len(data) - keep])
                self._held = data[len(data) - keep :]
                return
            self._paste.append(data[:end])
            yield events.Paste("".join(self._paste))
            self._paste = None
            data = data[end + len(PASTE_END) :]


def install() -> None:
    """Make the Linux driver read pastes with `VerbatimPasteParser`.

    The driver builds its parser from its module's `XTermParser` name and offers no hook, so
    the name is pointed at the subclass (idempotent; other drivers are left alone).
    """
    from textual.drivers import linux_driver

    linux_driver.XTermParser = VerbatimPasteParser  # type: ignore[misc]
