"""Checks on the files a user names on the command line, made before anything is opened.

A path typed by hand that is wrong (a folder, a missing parent, a missing config) is a typo to
report in one line, not something to create or silently replace with defaults.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from classroom_support.i18n import tr

# Options whose value may start with "-" (a negative duration): argparse would read it as an
# option and print its usage; joined as `--target=-3h` it reaches our own one-line check.
_VALUE_OPTIONS = ("--target", "--weeks")
# Free-text options of the ticket actions: "-x" is their text, but "--json" after a forgotten
# value stays an option (argparse then says the value is missing).
_TEXT_OPTIONS = ("--reason", "--summary", "--note", "--what", "--action", "--owner")


def join_dashed_values(argv: Sequence[str]) -> list[str]:
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        following = items[i + 1] if i + 1 < len(items) else ""
        if (item in _VALUE_OPTIONS and following.startswith("-")) or (
            item in _TEXT_OPTIONS and following.startswith("-") and not following.startswith("--")
        ):
            out.append(f"{item}={following}")
            i += 2
            continue
        out.append(item)
        i += 1
    return out


class UsageError(Exception):
    """A mistyped command line (missing argument, unknown option), reported by `main`."""

    def __init__(self, command: str, detail: str) -> None:
        super().__init__(detail)
        self.command = command
        self.detail = detail


class LazyParser(argparse.ArgumentParser):
    """A subcommand's parser whose arguments are added (`build`) the first time it is used: a
    command line builds the parser of the command it runs, and the others only as far as
    `--help` lists them (name and one-line help), so a start is not spent building parsers
    (and importing their modules) it does not use. What it parses and prints is unchanged."""

    def __init__(
        self,
        *args: Any,
        build: Callable[[argparse.ArgumentParser], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._build = build

    def built(self) -> LazyParser:
        """This parser with its arguments added (once)."""
        build, self._build = self._build, None
        if build is not None:
            build(self)
        return self

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        return super(LazyParser, self.built()).parse_known_args(*args, **kwargs)

    def _parse_known_args2(self, *args: Any, **kwargs: Any) -> Any:  # Python >= 3.13's path
        return super(LazyParser, self.built())._parse_known_args2(*args, **kwargs)  # type: ignore[misc]

    def format_usage(self) -> str:
        return super(LazyParser, self.built()).format_usage()

    def format_help(self) -> str:
        return super(LazyParser, self.built()).format_help()


class OneLineParser(LazyParser):
    """Raises UsageError instead of printing argparse's usage block and exiting, so `main`
    can say it in one line, in the user's language."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message)


# argparse's own messages (English only), for the usage mistakes a script meets most.
_ARGPARSE_MESSAGES = (
    (r"the following arguments are required: (?P<names>.+)", "cli.usage.required"),
    (r"unrecognized arguments: (?P<words>.+)", "cli.usage.unrecognized"),
    (r"argument (?P<option>\S+): expected one argument", "cli.usage.value"),
    (
        r"argument (?P<option>\S+): invalid choice: (?P<value>.+?) "
        r"\(choose from (?P<choices>.+)\)",
        "cli.usage.choice",
    ),
)


def usage_message(command: str, detail: str) -> str:
    """One line in the current language: what is wrong, and where the help is."""
    import re

    for pattern, key in _ARGPARSE_MESSAGES:
        match = re.fullmatch(pattern, detail)
        if match:
            detail = tr(key, **match.groupdict())
            break
    words = command.split(" ", 1)  # "classroom-support tickets respond": the program is named once
    return tr("cli.usage", command=words[-1], detail=detail, help=f"{command} --help")


def usage_language(argv: Sequence[str]) -> None:
    """Set the language for a usage error, found before the options were read: `--lang`,
    else the config's (`--config` or the default file); left as it is if neither can be read."""
    import contextlib

    from classroom_support import i18n
    from classroom_support.config import ConfigError
    from classroom_support.context import load_settings

    items = list(argv)
    values: dict[str, str] = {}
    for i, item in enumerate(items):
        for option in ("--lang", "--config"):
            if item == option and i + 1 < len(items):
                values[option] = items[i + 1]
            elif item.startswith(f"{option}="):
                values[option] = item.split("=", 1)[1]
    if values.get("--lang") in i18n.LANGUAGES:
        i18n.set_language(values["--lang"])
        return
    with contextlib.suppress(ConfigError):
        load_settings(values.get("--config"), None)


def path_problem(args: argparse.Namespace) -> str | None:
    """One line naming what is wrong with --config, --db or --csv, or None."""
    config: Path | None = getattr(args, "config", None)
    if config is not None:
        if config.is_dir():
            return tr("cli.path.is_folder", option="--config", path=config)
        if not config.exists():
            return tr("cli.path.config_missing", path=config)
    for option, path in (
        ("--db", getattr(args, "db", None)),
        ("--csv", getattr(args, "csv", None)),
    ):
        if path is None or str(path) == "-":
            continue
        path = Path(path).expanduser()
        if path.is_dir():
            return tr("cli.path.is_folder", option=option, path=path)
        parent = path.parent
        if not parent.is_dir():
            return tr("cli.path.no_parent", option=option, path=path, folder=parent)
    return None


def fail(message: str, code: int = 2) -> int:
    """One line on stderr, and the exit code to return."""
    print(f"classroom-support: {message}", file=sys.stderr)
    return code
