"""Translations: the catalogs match; Arabic can be shaped for terminals without bidi."""

from __future__ import annotations

import re

import pytest

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
