"""The queue's first show skips Textual's restyle of the whole screen on resume: its widgets
were styled as they mounted, a moment before. Nothing may look different for it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.screen import Screen

from classroom_support.app import ClassroomSupportApp
from classroom_support.screens.queue import QueueScreen


def styles_of(screen: Screen[object]) -> list[tuple[str, str, str]]:
    return [
        (repr(widget), str(widget.rich_style), widget.styles.css)
        for widget in screen.walk_children(with_self=True)
    ]


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_the_queue_is_styled_once_and_as_a_full_restyle_styles_it(
    make_app: Callable[..., ClassroomSupportApp],
    monkeypatch: pytest.MonkeyPatch,
    language: str,
) -> None:
    restyled: list[str] = []
    update = Screen.update_node_styles

    def counted(screen: Screen[object], animate: bool = True) -> None:
        restyled.append(type(screen).__name__)
        update(screen, animate)

    monkeypatch.setattr(Screen, "update_node_styles", counted)
    app = make_app(language=language, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        assert "QueueScreen" not in restyled
        shown = styles_of(screen)
        update(screen, False)  # what Textual's first resume would have done
        await pilot.pause()
        assert styles_of(screen) == shown
