"""Snapshots of the managers' charts at 80×24 and 120×36 in both languages: the share within
target per hall (three halls), the breaches, the median per priority, and the empty state.
Fixed clock, pinned device, the monitor off: plotext draws the same canvas every time.

Update only after reading the report: `pytest tests/test_charts_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from report_fixture import fill_report_fixture, report_config

SIZES = [(80, 24), (120, 36)]
LANGUAGES = ["en", "ar"]


def charts_app(make_app: Callable[..., Any], language: str) -> Any:
    app = make_app(language=language, config=report_config(language))
    fill_report_fixture(app.ctx)
    return app


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_charts_share(
    snap_compare: Any, make_app: Callable[..., Any], language: str, size: tuple[int, int]
) -> None:
    assert snap_compare(charts_app(make_app, language), terminal_size=size, press=["g"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_charts_breaches(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    app = charts_app(make_app, language)
    assert snap_compare(app, terminal_size=(80, 24), press=["g", "tab"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_charts_empty(
    snap_compare: Any, make_app: Callable[..., Any], language: str, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(language=language), terminal_size=size, press=["g"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_charts_by_priority(snap_compare: Any, make_app: Callable[..., Any], language: str) -> None:
    app = charts_app(make_app, language)
    assert snap_compare(app, terminal_size=(80, 24), press=["g", "tab", "tab", "p"])
