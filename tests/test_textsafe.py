from __future__ import annotations

from classroom_support.textsafe import visible


def test_controls_and_bidi_overrides_become_visible() -> None:
    assert visible("a\x1b[31mb") == "a␛[31mb"
    assert visible("nul\x00") == "nul␀"
    assert visible("\u202eabc") == "<U+202E>abc"
    assert visible("\x9b") == "<U+009B>"
    assert visible("line1\nline2", single_line=True) == "line1 ⏎ line2"
    assert visible("keep\nnewline") == "keep\nnewline"
    assert visible("x" * 10, limit=4) == "xxxx…"
    assert visible("👩‍💻 [bold]x[/]") == "👩‍💻 [bold]x[/]"


def test_visible_in_place_keeps_one_character_per_character() -> None:
    from classroom_support.textsafe import visible_in_place

    text = "P1 \x1b[31mred \u202eabc nul[\x00] \x9b 👩\u200d💻"
    shown = visible_in_place(text)
    assert len(shown) == len(text)
    assert shown == "P1 ␛[31mred \ufffdabc nul[␀] \ufffd 👩\u200d💻"


def test_printable_text_is_returned_as_is_and_equals_the_full_replacement() -> None:
    """`visible` returns printable text without running its replacements: for every character
    of the Basic Multilingual Plane (and some beyond), alone and inside a word, in both forms,
    the answer equals running every replacement."""
    import re

    from classroom_support import textsafe

    def replaced(text: str, single_line: bool, limit: int | None) -> str:
        if limit is not None and len(text) > limit:
            text = text[:limit] + "…"
        text = textsafe._CONTROL.sub(textsafe._control_picture, text)
        text = textsafe._BIDI_CONTROL.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)
        if single_line:
            text = text.replace("\t", " ").replace("\n", " ⏎ ")
        return text

    points = [*range(0x10000), 0x1F469, 0xE0001, 0xE007F, 0x10FFFD]
    for code in points:
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates are not text
        for text in (char, f"ab{char}cd", f"قاعة {char} A101"):
            for single_line in (False, True):
                for limit in (None, 3):
                    assert visible(text, single_line=single_line, limit=limit) == replaced(
                        text, single_line, limit
                    ), (hex(code), single_line, limit)
    assert re.fullmatch(r"x+…", visible("x" * 70, single_line=True, limit=60))
