"""Where the TUI's stylesheets are: `styles/` ships in the wheel as classroom_support/styles; in
a checkout it is at the root. app.tcss (the queue and app-wide rules) is read at start-up;
screens.tcss (every other screen) when the first such screen opens."""

from __future__ import annotations

from pathlib import Path


def styles_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "styles", here.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    raise FileNotFoundError("styles/app.tcss is missing from this installation")


def app_css() -> list[Path]:
    return [styles_dir() / "app.tcss"]


def screens_css() -> list[Path]:
    """CSS_PATH of every screen but the queue (Textual reads a path once, whoever asks)."""
    return [styles_dir() / "screens.tcss"]
