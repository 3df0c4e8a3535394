"""Checks on the files a user names on the command line, made before anything is opened.

A path typed by hand that is wrong (a folder, a missing parent, a missing config) is a typo to
report in one line, not something to create or silently replace with defaults.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

TYPE_CHECKING = False  # typing is not imported for `--help` (annotations are strings)
if TYPE_CHECKING:
    from typing import Any, NoReturn

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


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands can be registered by name and one-line help alone:
    `add_subparsers(...).add_parser(name, help=..., build=...)` makes the subcommand's parser,
    and `build` adds its arguments, only when that subcommand is the one that parses. A
    command line then builds the one parser it runs, not every command's (some 50 parsers,
    each help text looked up through gettext) and imports no module only those others need.
    `--help` and argparse's errors print the same: they show names and one-line helps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _LazySubParsers)


class _Pending:
    """A subcommand registered with `build`, its parser not made yet."""

    def __init__(self, build: Callable[[argparse.ArgumentParser], None], kwargs: Any) -> None:
        self.build = build
        self.kwargs = kwargs


class _LazySubParsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """argparse's subparsers action, with `add_parser(..., build=...)` (CommandParser)."""

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        build = kwargs.pop("build", None)
        if build is None or kwargs.get("aliases"):
            return super().add_parser(name, **kwargs)
        if name in self._name_parser_map:
            raise argparse.ArgumentError(self, f"conflicting subparser: {name}")
        if "help" in kwargs:  # what argparse's add_parser keeps for the help and the choices
            self._choices_actions.append(self._ChoicesPseudoAction(name, (), kwargs.pop("help")))
        if kwargs.get("prog") is None:
            kwargs["prog"] = f"{self._prog_prefix} {name}"
        self._name_parser_map[name] = _Pending(build, kwargs)  # in place: the choices' order
        return None

    def parser(self, name: str) -> argparse.ArgumentParser:
        """The subcommand's parser, made and built now if it was pending."""
        found = self._name_parser_map[name]
        if isinstance(found, _Pending):
            made = self._parser_class(**found.kwargs)
            found.build(made)
            self._name_parser_map[name] = found = made
        return found  # type: ignore[no-any-return]

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        if values and values[0] in self._name_parser_map:
            self.parser(values[0])
        super().__call__(parser, namespace, values, option_string)


class OneLineParser(CommandParser):
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

    from classroom_support.i18n import tr

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
    from classroom_support.i18n import tr

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
