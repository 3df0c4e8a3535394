"""Where each character of an edited line is shown: the logical↔visual map of one bidi line.

A field keeps its value in logical (typed) order; a terminal without bidi shows cells left to
right. `visual_line` says which cells show which characters: the Unicode bidi algorithm (UBA,
UAX #9) for one paragraph with no explicit embeddings — field text shows bidi controls as
stand-ins (`textsafe.visible_in_place`), so they never take effect — with bracket pairs (N0),
trailing whitespace (L1), reordering (L2) and mirrored glyphs in right-to-left runs (L4); and
Arabic shaped as `i18n.display` shapes labels (joined forms, the lam-alef ligature).

python-bidi's Rust `get_display` gives only the reordered string (no per-character map), and
its pure-Python algorithm has no bracket pairing, so the few rules a single line needs are here.

The map is built from clusters, not characters: a mark, ZWJ or variation selector stays in the
cell of the character it belongs to, so a cursor never lands between them and an emoji sequence
is not reversed. Every position of the value is a cursor slot: the cell of the character after
it, or for the end the `end` cell next to the last character typed.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import NamedTuple

# Paired brackets (Bidi_Paired_Bracket), opening → closing; enough for typed text.
_PAIRS = dict(
    zip(
        "([{⁅⁽₍⌈⌊〈❨❪❬❮❰❲❴⟦⟨⟪〈《「『【〔（［｛",
        ")]}⁆⁾₎⌉⌋〉❩❫❭❯❱❳❵⟧⟩⟫〉》」』】〕）］｝",
        strict=True,
    )
)
_CLOSING = {closing: opening for opening, closing in _PAIRS.items()}
# Rule L4: shown as their mirror image in a right-to-left run.
_MIRROR = {**_PAIRS, **_CLOSING, "<": ">", ">": "<", "«": "»", "»": "«", "‹": "›", "›": "‹"}
# Embeddings, overrides and isolates: shown as stand-ins, so they are ordinary neutrals here.
_EXPLICIT = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
_NEUTRAL = {"B", "S", "WS", "ON"}
_ZWJ = "\u200d"
_LAM = "\u0644"
# Lam followed by these alefs is one glyph: (isolated, final) forms.
_LAM_ALEF = {
    "\u0622": ("\ufef5", "\ufef6"),
    "\u0623": ("\ufef7", "\ufef8"),
    "\u0625": ("\ufef9", "\ufefa"),
    "\u0627": ("\ufefb", "\ufefc"),
}
_LAM_INITIAL, _LAM_MEDIAL = "\ufedf", "\ufee0"
_DOTTED_CIRCLE = "\u25cc"  # carries a mark typed with nothing before it


def bidi_type(char: str) -> str:
    kind = unicodedata.bidirectional(char)
    if kind in _EXPLICIT:
        return "ON"
    return kind or "L"


def first_strong_is_rtl(text: str) -> bool | None:
    """Rules P2–P3: the direction of the first strong character, None when there is none."""
    for char in text:
        kind = bidi_type(char)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return None


def has_rtl(text: str) -> bool:
    return any(bidi_type(char) in ("R", "AL", "AN") for char in text)


def embedding_levels(text: str, rtl: bool) -> list[int]:
    """The resolved level of each character of one line with base direction `rtl`."""
    base = 1 if rtl else 0
    original = [bidi_type(c) for c in text]
    # X9: boundary neutrals take no part; they get their neighbour's level at the end.
    kept = [i for i, kind in enumerate(original) if kind != "BN"]
    types = [original[i] for i in kept]
    chars = [text[i] for i in kept]
    embedding = "R" if rtl else "L"
    _resolve_weak(types, embedding)
    _resolve_brackets(chars, types, [original[i] for i in kept], embedding)
    _resolve_neutrals(types, embedding)
    levels = [base] * len(text)
    for i, kind in zip(kept, types, strict=True):
        if base == 0:
            levels[i] = {"R": 1, "AN": 2, "EN": 2}.get(kind, 0)
        else:
            levels[i] = 2 if kind in ("L", "EN", "AN") else 1
    previous = base
    for i, kind in enumerate(original):
        if kind == "BN":
            levels[i] = previous
        previous = levels[i]
    # L1: separators and the whitespace before them or at the end of the line.
    trailing = True
    for i in range(len(text) - 1, -1, -1):
        kind = original[i]
        if kind in ("S", "B"):
            levels[i] = base
            trailing = True
        elif trailing and (kind in ("WS", "BN") or unicodedata.bidirectional(text[i]) in _EXPLICIT):
            levels[i] = base
        else:
            trailing = False
    return levels


def _resolve_weak(types: list[str], sos: str) -> None:
    """Rules W1–W7, in place."""
    previous = sos
    for i, kind in enumerate(types):  # W1
        if kind == "NSM":
            types[i] = "ON" if previous in _EXPLICIT else previous
        previous = types[i]
    strong = sos
    for i, kind in enumerate(types):  # W2, W3
        if kind in ("L", "R", "AL"):
            strong = kind
        if kind == "EN" and strong == "AL":
            types[i] = "AN"
    for i, kind in enumerate(types):
        if kind == "AL":
            types[i] = "R"
    for i in range(1, len(types) - 1):  # W4
        before, kind, after = types[i - 1], types[i], types[i + 1]
        if kind == "ES" and before == after == "EN":
            types[i] = "EN"
        elif kind == "CS" and before == after and before in ("EN", "AN"):
            types[i] = before
    i = 0
    while i < len(types):  # W5
        if types[i] != "ET":
            i += 1
            continue
        end = i
        while end < len(types) and types[end] == "ET":
            end += 1
        if (i > 0 and types[i - 1] == "EN") or (end < len(types) and types[end] == "EN"):
            types[i:end] = ["EN"] * (end - i)
        i = end
    for i, kind in enumerate(types):  # W6
        if kind in ("ES", "ET", "CS"):
            types[i] = "ON"
    strong = sos
    for i, kind in enumerate(types):  # W7
        if kind in ("L", "R"):
            strong = kind
        elif kind == "EN" and strong == "L":
            types[i] = "L"


def _strong(kind: str) -> str | None:
    """Direction for the neutral rules: numbers count as right-to-left."""
    if kind == "L":
        return "L"
    if kind in ("R", "EN", "AN"):
        return "R"
    return None


def _bracket_pairs(chars: list[str], types: list[str]) -> list[tuple[int, int]]:
    """BD16: the paired brackets, by opening position."""
    stack: list[tuple[str, int]] = []
    pairs: list[tuple[int, int]] = []
    for i, char in enumerate(chars):
        if types[i] != "ON":
            continue
        if char in _PAIRS:
            if len(stack) == 63:
                break
            stack.append((_PAIRS[char], i))
        elif char in _CLOSING:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == char:
                    pairs.append((stack[depth][1], i))
                    del stack[depth:]
                    break
    return sorted(pairs)


def _resolve_brackets(
    chars: list[str], types: list[str], original: list[str], embedding: str
) -> None:
    """Rule N0: a bracket pair takes the direction of what it encloses and its context."""
    opposite = "L" if embedding == "R" else "R"
    for opening, closing in _bracket_pairs(chars, types):
        inside = {_strong(kind) for kind in types[opening + 1 : closing]}
        if embedding in inside:
            direction = embedding
        elif opposite in inside:
            before = embedding  # sos
            for kind in reversed(types[:opening]):
                if _strong(kind):
                    before = _strong(kind) or embedding
                    break
            direction = opposite if before == opposite else embedding
        else:
            continue
        for at in (opening, closing):
            types[at] = direction
            follower = at + 1
            while follower < len(types) and original[follower] == "NSM":
                types[follower] = direction
                follower += 1


def _resolve_neutrals(types: list[str], embedding: str) -> None:
    """Rules N1–N2, in place."""
    i = 0
    while i < len(types):
        if types[i] not in _NEUTRAL:
            i += 1
            continue
        end = i
        while end < len(types) and types[end] in _NEUTRAL:
            end += 1
        before = _strong(types[i - 1]) if i > 0 else embedding
        after = _strong(types[end]) if end < len(types) else embedding
        direction = before if before == after else embedding
        types[i:end] = [direction or embedding] * (end - i)
        i = end


def visual_order(levels: list[int]) -> list[int]:
    """Rule L2: the logical indices in the order they are shown, left to right."""
    order = list(range(len(levels)))
    if not levels:
        return order
    highest = max(levels)
    lowest_odd = min(level for level in levels if level % 2) if any(x % 2 for x in levels) else 0
    for level in range(highest, max(lowest_odd, 1) - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] < level:
                i += 1
                continue
            end = i
            while end < len(order) and levels[order[end]] >= level:
                end += 1
            order[i:end] = reversed(order[i:end])
            i = end
    return order


def clusters(text: str) -> list[tuple[int, int]]:
    """Spans [start, end) that are shown and edited as one: a character and its marks."""
    spans: list[tuple[int, int]] = []
    for i, char in enumerate(text):
        joins = spans and (
            _attaches(char) or (text[i - 1] == _ZWJ and unicodedata.category(char) != "Zs")
        )
        if joins:
            spans[-1] = (spans[-1][0], i + 1)
        else:
            spans.append((i, i + 1))
    return spans


def _attaches(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc", "Cf")
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or 0xE0100 <= code <= 0xE01EF
    )


class Cell(NamedTuple):
    """One place on screen: `text` as shown, for the logical characters [start, end)."""

    text: str
    start: int
    end: int

    @property
    def is_end(self) -> bool:
        return self.start == self.end


class VisualLine(NamedTuple):
    """The cells of a line left to right, with one `end` cell (a blank) for the cursor."""

    cells: tuple[Cell, ...]
    rtl: bool

    @property
    def text(self) -> str:
        return "".join(cell.text for cell in self.cells if not cell.is_end)

    def slot_of(self, position: int) -> int:
        """The cell the cursor at logical `position` is drawn on."""
        for slot, cell in enumerate(self.cells):
            if cell.start <= position < cell.end:
                return slot
        return next(slot for slot, cell in enumerate(self.cells) if cell.is_end)

    def position_of(self, slot: int) -> int:
        """The logical position a cursor on cell `slot` stands for."""
        slot = max(0, min(slot, len(self.cells) - 1))
        return self.cells[slot].start

    def moved(self, position: int, step: int) -> int:
        """The position `step` cells to the right (negative: to the left) of `position`."""
        return self.position_of(self.slot_of(position) + step)


def visual_line(text: str, *, rtl: bool | None = None, shape: bool = True) -> VisualLine:
    """The cells showing `text` (one line, already free of controls).

    `rtl` is the paragraph direction; None takes the first strong character's (LTR if none),
    as a browser's `dir=auto` field does. `shape` joins Arabic letters as the labels are.
    """
    return _visual_line(text, first_strong_is_rtl(text) or False if rtl is None else rtl, shape)


@lru_cache(maxsize=256)
def _visual_line(text: str, rtl: bool, shape: bool) -> VisualLine:
    spans = clusters(text)
    if not spans:
        return VisualLine((Cell(" ", 0, 0),), rtl)
    char_levels = embedding_levels(text, rtl)
    levels = [char_levels[start] for start, _ in spans]
    bases = [text[start] for start, _ in spans]
    shown = _shaped(bases) if shape else list(bases)
    for i, level in enumerate(levels):
        if level % 2 and bases[i] in _MIRROR:
            shown[i] = _MIRROR[bases[i]]
    for i, (start, end) in enumerate(spans):
        rest = text[start + 1 : end]
        if unicodedata.category(bases[i]) not in ("Mn", "Me", "Mc", "Cf"):
            shown[i] += rest
        else:
            shown[i] = _DOTTED_CIRCLE + bases[i] + rest
    order = visual_order(levels)
    cells: list[Cell] = []
    at = 0
    while at < len(order):
        i = order[at]
        lam = order[at + 1] if at + 1 < len(order) else -1
        ligature = _LAM_ALEF.get(bases[i]) if shape and lam == i - 1 else None
        if ligature and shown[lam][0] in (_LAM_INITIAL, _LAM_MEDIAL):
            # In a right-to-left run the alef is shown just left of its lam: one glyph.
            glyph = ligature[0] if shown[lam][0] == _LAM_INITIAL else ligature[1]
            marks = shown[lam][1:] + shown[i][1:]
            cells.append(Cell(glyph + marks, spans[lam][0], spans[i][1]))
            at += 2
            continue
        cells.append(Cell(shown[i], *spans[i]))
        at += 1
    last = spans[-1][0]
    at = next(n for n, cell in enumerate(cells) if cell.start <= last < cell.end)
    cells.insert(at if levels[-1] % 2 else at + 1, Cell(" ", len(text), len(text)))
    return VisualLine(tuple(cells), rtl)


def _shaped(bases: list[str]) -> list[str]:
    """Each character in its joined form, one for one (letters only; others break joins)."""
    from arabic_reshaper.letters import LETTERS_ARABIC

    letters = [b in LETTERS_ARABIC and b != _ZWJ for b in bases]
    skeleton = "".join(b if letter else " " for b, letter in zip(bases, letters, strict=True))
    if not skeleton.strip():
        return list(bases)
    joined = _reshaper().reshape(skeleton)
    assert len(joined) == len(bases)
    return [joined[i] if letter else bases[i] for i, letter in enumerate(letters)]


@lru_cache(maxsize=1)
def _reshaper() -> object:
    from arabic_reshaper import ArabicReshaper

    return ArabicReshaper(
        configuration={
            "delete_harakat": False,
            "delete_tatweel": False,
            "support_zwj": False,
            "support_ligatures": False,
        }
    )
