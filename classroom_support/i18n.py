"""One translation function for every user-visible string, plus Arabic display shaping.

`tr(key)` gives text in logical order (for the CLI, files, the database). `ui(key)` gives the
same text ready for a terminal: when the terminal does not do bidi itself, Arabic is reshaped
(joined letter forms) and reordered visually. Stored data and input fields stay logical.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from classroom_support import bidi_runs

LANGUAGES = ("ar", "en")


class _Catalogs(dict[str, dict[str, str]]):
    """Each language's messages (`locales/<language>.py`), imported the first time they are
    asked for: a command line or a first frame in one language reads one catalog, not both."""

    def __missing__(self, language: str) -> dict[str, str]:
        if language == "ar":
            from classroom_support.locales.ar import MESSAGES
        elif language == "en":
            from classroom_support.locales.en import MESSAGES
        else:
            raise KeyError(language)
        self[language] = MESSAGES
        return MESSAGES


CATALOGS: dict[str, dict[str, str]] = _Catalogs()

_language = "ar"
_arabic_display = "auto"
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?|\d{2}:\d{2}")
_ARABIC = bidi_runs.ARABIC
# Arabic letters (bidi class AL; logical and presentation forms) and spaces, nothing else: a
# line of only these is one right-to-left run in a paragraph of either direction (its first
# strong letter is Arabic, a space between two of them takes their direction, a space at the
# end the paragraph's), so its visual order is its reverse (a test checks every letter here).
_ARABIC_WORDS = re.compile(
    "[ \u0620-\u064a\u0671-\u06d3\ufb50-\ufbb1\ufbd3-\ufd3d\ufd50-\ufd8f"
    "\ufd92-\ufdc7\ufdf0-\ufdfb\ufe70-\ufe74\ufe76-\ufefc]+"
)


def set_language(language: str) -> None:
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    _language = language


def language() -> str:
    return _language


def set_arabic_display(mode: str) -> None:
    """'terminal': the terminal shapes and reorders; 'reshape': we do; 'auto': guess."""
    global _arabic_display
    _arabic_display = mode
    _shape.cache_clear()


def app_shapes_arabic() -> bool:
    if _arabic_display == "reshape":
        return True
    if _arabic_display == "terminal":
        return False
    # auto: a few terminals implement bidi themselves; everything else needs our help.
    if os.environ.get("CLASSROOM_SUPPORT_TERMINAL_BIDI") == "1":
        return False
    return not (
        os.environ.get("TERM_PROGRAM", "").lower() == "mlterm" or "KONSOLE_VERSION" in os.environ
    )


def tr(key: str, /, **values: object) -> str:
    """The message `key` in the current language, logical order. Unknown keys show themselves."""
    template = CATALOGS[_language].get(key)
    if template is None:
        template = CATALOGS["en"].get(key, key)
    return template.format(**values) if values else template


def tr_runs(key: str, /, **values: object) -> str:
    """`tr` with each value kept whole as a run of its own (`bidi_runs.fill`): a mixed course
    name, a date or a reference reads in place in a line of the other direction."""
    template = CATALOGS[_language].get(key)
    if template is None:
        template = CATALOGS["en"].get(key, key)
    return bidi_runs.fill(template, values, rtl=is_rtl())


def compose_runs(runs: Iterable[str], sep: str = " · ", limit: int | None = None) -> str:
    """Runs joined by `sep` in the interface's direction, each kept whole (`bidi_runs`)."""
    return bidi_runs.compose_runs(runs, rtl=is_rtl(), sep=sep, limit=limit)


def display(text: str) -> str:
    """Make `text` readable in this terminal (shaping Arabic if needed). Pure display transform."""
    if not text or not _ARABIC.search(text) or not app_shapes_arabic():
        return text
    return _shape(text, is_rtl())


class _Settings(dict[str, object]):
    """A reshaper's settings, each read once. `ArabicReshaper.reshape` asks its configparser
    section for six of them on every call, half of the call's time on a short line."""

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        return super().get(key.lower(), default)  # configparser keys are lower case

    def getboolean(self, key: str) -> bool:
        return bool(self[key.lower()])


@lru_cache(maxsize=1)
def _reshaper() -> Callable[[str], str]:
    """The package's default settings (and its environment variable, if set), read once."""
    from arabic_reshaper import ArabicReshaper

    reshaper = ArabicReshaper()
    section = reshaper.configuration
    settings = _Settings()
    for key in section:
        try:
            settings[key] = section.getboolean(key)
        except ValueError:  # not a flag (`language`)
            settings[key] = section.get(key)
    reshaper.configuration = settings
    return reshaper.reshape


def reshape(text: str) -> str:
    """Arabic letters in their joined forms; the order stays logical."""
    shape = _reshaper()
    try:
        return shape(text)
    except IndexError:
        # arabic_reshaper 3.1 drops zero-width joiners from its output but looks for
        # ligatures at the positions of the text with them: a joiner before a lam-alef near
        # the end ("\u200dلا", typed or pasted into a title) reads past the end. Without
        # the joiners (they take no cell), the letters shape.
        return shape(text.replace("\u200d", ""))


@lru_cache(maxsize=4096)
def _shape(text: str, rtl: bool) -> str:
    """Shaped and in visual order. In the Arabic interface every line with Arabic in it is a
    right-to-left paragraph (as the web pages' `dir="rtl"`): a hint that opens with a key name
    ("Tab للتنقل…") or a course named "Excel المتقدم" still reads from the right. In English
    a line takes the direction of its first strong letter."""
    # The pure-Python implementation mirrors brackets inside RTL runs (rule L4); the Rust
    # binding's get_display does not, and "(مطلوب)" would come out as ")مطلوب(".
    from bidi.algorithm import get_display

    def one_line(line: str) -> str:
        if _ARABIC_WORDS.fullmatch(line):
            shaped = reshape(line)
            if _ARABIC_WORDS.fullmatch(shaped):
                # Words of Arabic letters alone (most labels and many titles): reversed, as
                # the bidi algorithm would give them, in a tenth of its time.
                return shaped[::-1]
        # In Arabic context "2026-11-25" would be split at the hyphens and shown backwards;
        # left-to-right marks keep dates and times in one run. They, and the right-to-left
        # marks a composed line may carry, are removed afterwards.
        line = _DATE_TIME.sub(lambda m: f"\u200e{m.group()}\u200e", line)
        shown = get_display(reshape(line), base_dir="R" if rtl else None)
        return shown.replace("\u200e", "").replace("\u200f", "")

    # Each line separately: bidi reordering must not move text across line breaks.
    return "\n".join(one_line(line) for line in text.split("\n"))


def ui(key: str, /, **values: object) -> str:
    return display(tr(key, **values))


def is_rtl() -> bool:
    return _language == "ar"


def mirrored() -> bool:
    """The screen is laid out from the right: Arabic, shaped by the app. With
    `arabic_display = "terminal"` the terminal's own bidi decides, and the layout stays."""
    return is_rtl() and app_shapes_arabic()
