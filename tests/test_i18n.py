"""Translations: the catalogs match; Arabic can be shaped for terminals without bidi."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classroom_support import i18n
from classroom_support.locales import ar, en


def test_catalogs_have_the_same_keys() -> None:
    assert set(en.MESSAGES) == set(ar.MESSAGES)


@pytest.mark.parametrize("key", sorted(en.MESSAGES))
def test_placeholders_match(key: str) -> None:
    def fields(text: str) -> set[str]:
        return set(re.findall(r"{(\w+)}", text))

    assert fields(en.MESSAGES[key]) == fields(ar.MESSAGES[key])


def test_arabic_catalog_is_arabic() -> None:
    arabic = re.compile("[\u0600-\u06ff]")
    untranslated = [
        k
        for k, v in ar.MESSAGES.items()
        if not arabic.search(v)
        and re.search("[A-Za-z]{4,}", re.sub(r"{\w+}", "", v))
        and v not in ("English", "YYYY-MM-DD", "HH:MM")
    ]
    assert untranslated == []


def test_language_switch() -> None:
    i18n.set_language("en")
    assert i18n.tr("status.new") == "New"
    i18n.set_language("ar")
    assert i18n.tr("status.new") == "جديدة"
    assert i18n.tr("queue.saved", ref="K7QD-1") == "تم الحفظ K7QD-1"


def test_reshape_mode_shapes_and_reorders_for_display_only() -> None:
    i18n.set_arabic_display("reshape")
    logical = "جهاز العرض"
    shown = i18n.display(logical)
    assert shown != logical
    assert "\ufe8e" in shown or any("\ufe70" <= ch <= "\ufeff" for ch in shown)  # joined forms
    assert i18n.display("plain English") == "plain English"


def test_terminal_mode_leaves_text_logical() -> None:
    i18n.set_arabic_display("terminal")
    assert i18n.display("جهاز العرض") == "جهاز العرض"


def test_auto_mode_trusts_a_bidi_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    i18n.set_arabic_display("auto")
    assert i18n.app_shapes_arabic()
    monkeypatch.setenv("CLASSROOM_SUPPORT_TERMINAL_BIDI", "1")
    assert not i18n.app_shapes_arabic()


# Arabic letters, marks (harakat), tatweel, lam-alef pairs, ZWJ, digits, Latin and spaces.
ARABIC_MIX = st.lists(
    st.sampled_from(
        [chr(c) for c in range(0x0621, 0x064B)]
        + [chr(c) for c in range(0x064B, 0x0653)]
        + ["\u0640", "\u200d", "لا", "لأ", "ﷲ", "الله", " ", "1", "a", "-", "←", "…"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(ARABIC_MIX)
def test_reshape_with_settings_read_once_is_the_package_default(text: str) -> None:
    """`i18n.reshape` reads the reshaper's settings once; the letters come out the same, and
    text the package cannot shape (it raises) is shaped rather than crashing the screen."""
    import arabic_reshaper

    try:
        expected = arabic_reshaper.reshape(text)
    except IndexError:
        assert len(i18n.reshape(text)) <= len(text)
    else:
        assert i18n.reshape(text) == expected


def test_a_joiner_before_lam_alef_is_shown_not_a_crash() -> None:
    """arabic_reshaper raises IndexError on text ending in "\u200dلا"; it is shown."""
    i18n.set_language("ar")
    i18n.set_arabic_display("reshape")
    try:
        shown = i18n.display("لا بأس \u200dلا")
    finally:
        i18n.set_language("en")
        i18n.set_arabic_display("auto")
    assert "\u0644" not in shown  # every lam in a joined form: shaped
    assert "\ufefb" in shown  # the first lam-alef, a ligature


def test_the_arabic_words_taken_reversed_are_right_to_left_letters_and_spaces() -> None:
    import unicodedata

    pattern = i18n._ARABIC_WORDS.pattern
    inside = [chr(c) for c in range(0x20, 0x10000) if re.fullmatch(pattern, chr(c))]
    assert " " in inside and "\u0628" in inside and "\ufefb" in inside
    for c in inside:
        assert c == " " or (
            unicodedata.bidirectional(c) == "AL" and unicodedata.category(c)[0] == "L"
        )


ARABIC_WORDS_OR_NEAR = st.lists(
    st.sampled_from(
        [chr(c) for c in range(0x0621, 0x064B)]
        + ["لا", "الله", " ", " ", "\u064e", "\u0640", "1", "a", "(", ")", "\u200d", "؟", "."]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(ARABIC_WORDS_OR_NEAR)
def test_words_of_arabic_letters_show_as_the_bidi_algorithm_shows_them(text: str) -> None:
    """The shortcut for lines of Arabic letters and spaces (reversed) gives what python-bidi
    gives, in either interface direction; any other line goes through python-bidi."""
    from bidi.algorithm import get_display

    for rtl in (True, False):
        expected = get_display(i18n.reshape(text), base_dir="R" if rtl else None)
        assert i18n._shape(text, rtl) == expected.replace("\u200e", "").replace("\u200f", "")
