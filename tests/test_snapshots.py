"""Snapshots at 120×36 with a fixed clock, pinned device and no cursor blink, in both languages.

Update only after reading the report: `pytest tests/test_snapshots.py --snapshot-update` once
`--snapshot-report` shows the change is intended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

SIZE = (120, 36)
LANGUAGES = ["en", "ar"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_queue_empty(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    assert snap_compare(make_app(language=language), terminal_size=SIZE)


@pytest.mark.parametrize("language", LANGUAGES)
def test_queue_full(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    assert snap_compare(make_app(language=language, demo=True), terminal_size=SIZE)


@pytest.mark.parametrize("language", LANGUAGES)
def test_new_ticket_form(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    typed = "Projector shows no signal" if language == "en" else "جهاز العرض لا يعمل"
    assert snap_compare(
        make_app(language=language, demo=True),
        terminal_size=SIZE,
        press=["n", *typed, "tab", *"12", "tab", "1"],
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_ticket_detail(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    assert snap_compare(make_app(language=language, demo=True), terminal_size=SIZE, press=["enter"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_help(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    assert snap_compare(make_app(language=language, demo=True), terminal_size=SIZE, press=["f1"])
