"""The terminal parser keeps a bracketed paste verbatim, however the reads split it."""

from __future__ import annotations

from textual import events
from textual.message import Message

from classroom_support.widgets.paste_parser import VerbatimPasteParser

PASTED = "P1 \x1b[31mred\x1b[0m esc | zwj 👩\u200d💻 | rlo \u202eabc | nul[\x00] tab\tcr\r"
# What tmux 3.3 sends for `paste-buffer -p` (bytes recorded from a pane), around typed keys.
STREAM = "a\x1b[200~" + PASTED + "\x1b[201~b"


def parse(chunks: list[str]) -> list[Message]:
    parser = VerbatimPasteParser()
    messages: list[Message] = []
    for chunk in chunks:
        messages.extend(parser.feed(chunk))
    return messages


def summary(messages: list[Message]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for m in messages:
        if isinstance(m, events.Paste):
            out.append(("paste", m.text))
        elif isinstance(m, events.Key):
            out.append(("key", m.key))
    return out


def test_paste_in_one_read_is_one_verbatim_paste_event() -> None:
    assert summary(parse([STREAM])) == [("key", "a"), ("paste", PASTED), ("key", "b")]


def test_paste_split_across_reads_anywhere_after_its_start() -> None:
    start = STREAM.index(PASTED)
    for cut in range(start, len(STREAM)):
        assert summary(parse([STREAM[:cut], STREAM[cut:]])) == [
            ("key", "a"),
            ("paste", PASTED),
            ("key", "b"),
        ], cut


def test_keys_outside_a_paste_are_parsed_as_before() -> None:
    assert summary(parse(["x\t\x1b[A"])) == [("key", "x"), ("key", "tab"), ("key", "up")]
