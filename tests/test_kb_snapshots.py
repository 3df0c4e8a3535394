"""Snapshots of the knowledge-base screens at 80×24 in both languages (fixed clock, pinned
device, the starter articles as a sync leaves them). Arabic in SVGs renders unreliably: the
Arabic text itself is checked with Pilot in test_kb_tui.py.

Update only after reading the report: `pytest tests/test_kb_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_kb_tui import add_articles, starter

SIZE = (80, 24)
LANGUAGES = ["en", "ar"]


def app_with_articles(make_app: Callable[..., Any], language: str) -> Any:
    app = make_app(language=language)
    add_articles(app.ctx, starter())
    return app


@pytest.mark.parametrize("language", LANGUAGES)
def test_kb_list(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    app = app_with_articles(make_app, language)
    assert snap_compare(app, terminal_size=SIZE, press=["k", *"wi"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_kb_reader(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    app = app_with_articles(make_app, language)
    assert snap_compare(app, terminal_size=SIZE, press=["k", *"projector", "enter"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_kb_empty(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    assert snap_compare(make_app(language=language), terminal_size=SIZE, press=["k"])
