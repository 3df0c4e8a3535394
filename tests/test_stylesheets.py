"""Start-up parses only the queue's and the app-wide rules (styles/app.tcss); every other screen's
rules (styles/screens.tcss) come with the first such screen, so each of them must load the file."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from pathlib import Path

from textual.screen import Screen

import classroom_support.screens
from classroom_support.screens.help import HelpScreen
from classroom_support.screens.queue import QueueScreen
from classroom_support.stylesheets import screens_css, styles_dir


def our_screens() -> list[type[Screen]]:
    found: set[type[Screen]] = set()
    for info in pkgutil.iter_modules(classroom_support.screens.__path__):
        module = importlib.import_module(f"classroom_support.screens.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__.startswith("classroom_support."):
                found.add(cls)
    return sorted(found, key=lambda cls: cls.__qualname__)


def test_every_screen_but_the_queue_loads_the_screens_rules() -> None:
    screens = our_screens()
    assert QueueScreen in screens and HelpScreen in screens
    for cls in screens:
        paths = [Path(p) for p in (cls.CSS_PATH or [])]  # type: ignore[union-attr]
        if cls is QueueScreen:
            assert paths == [], "the queue's rules are in app.tcss"
        else:
            assert screens_css()[0] in paths, f"{cls.__qualname__} does not load screens.tcss"


def test_both_files_are_found_next_to_each_other() -> None:
    assert (styles_dir() / "app.tcss").is_file()
    assert screens_css()[0].is_file()
    assert screens_css()[0].parent == styles_dir()


def sources(app: object) -> set[str]:
    return {Path(read_from[0]).name for read_from in app.stylesheet.source}  # type: ignore[attr-defined]


async def test_start_reads_app_tcss_only_and_a_dialog_brings_the_rest(
    make_app: Callable[..., object],
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:  # type: ignore[attr-defined]
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)  # type: ignore[attr-defined]
        assert "app.tcss" in sources(app)
        assert "screens.tcss" not in sources(app)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)  # type: ignore[attr-defined]
        assert "screens.tcss" in sources(app)
        # The dialog's own rules are in force: the help body takes 80 % of the screen.
        assert app.screen.query_one("#help-body").styles.height.value == 80  # type: ignore[attr-defined]
