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
