"""`classroom-support tickets list` in a few milliseconds: a fast path for scripts.

Why this exists: scripts and cron jobs run `tickets list` often, and the normal command line
costs several interpreter start-ups before it reads a row (issue 13: at most 2x
`python -c "import sqlite3"`, measured by bench/cli_start.py). argparse, dataclasses,
pathlib, platformdirs and the config model each cost about as much as the whole budget. So
`cli.main` first hands the command line here; this module imports only the standard
library's `os`, `sys`, `sqlite3`, `datetime` and `zoneinfo`, recognises exactly
`[--config F] [--db F] [--lang L] tickets list [options]`, reads the page with the desk's own
statement shape (`queue_sql`, checked by tests/test_cli_lazy.py) on a read-only connection
(`db_plain.connect_reader`) and prints the lines `cli_tickets` prints (`list_line` is theirs).

Anything it does not recognise with certainty returns None and `cli.main` runs the normal
path, which then prints what it always printed: `--help`, any other option or spelling
(argparse's abbreviations, `--opt=value` of a flag, a value starting with "-"), `--json`, a
word search, an unknown status or language, a missing, new, migrating or `-wal`-carrying
database, a config file that does not load, and every error message. A config file that
exists is read by the normal loader (`config.load_config`), so it is checked exactly as
always; without one, the defaults below are `Config()`'s (a test checks).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported (annotations are strings)
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Sequence
    from typing import Any

# config_model.Config's defaults (a test checks), for a start without a config file.
DEFAULT_HALL = "A101"
DEFAULT_TIMEZONE = "Asia/Riyadh"
DEFAULT_LANGUAGE = "ar"
DEFAULT_ARABIC_DISPLAY = "auto"
# queue_sql's constants (a test checks), without its dataclasses.
STATUSES = ("new", "in_progress", "waiting", "resolved", "verified")
OPEN_STATUSES = ("new", "in_progress", "waiting", "resolved")
MAX_ARMS = 64
HALLS_SQL = (
    "WITH RECURSIVE h(code) AS (SELECT (SELECT min(hall_code) FROM ticket) UNION ALL "
    "SELECT (SELECT min(hall_code) FROM ticket WHERE hall_code > h.code) FROM h "
    "WHERE h.code IS NOT NULL) SELECT code FROM h WHERE code IS NOT NULL"
)
# cli_tickets.LIST_COLUMNS (a test checks).
COLUMNS = ("ref", "created_at", "status", "priority", "seat", "title", "id")

_VALUE_OPTIONS = ("--config", "--db", "--lang")  # before `tickets` and after `list`
_LIST_VALUES = ("--status", "--hall", "--search", "--limit")
_LIST_FLAGS = ("--all", "--json")


def parse(argv: Sequence[str]) -> dict[str, Any] | None:
    """The options of exactly `tickets list` (the text form, no word search), as the normal
    parser reads them; None for anything else."""
    found: dict[str, Any] = {"status": [], "all": False, "json": False}
    words = list(argv)
    i = 0
    place = "top"  # then "tickets", then "list"
    while i < len(words):
        word = words[i]
        i += 1
        if place == "top" and word == "tickets":
            place = "tickets"
            continue
        if place == "tickets":
            if word != "list":
                return None
            place = "list"
            continue
        name, eq, value = word.partition("=")
        if place == "list" and name in _LIST_FLAGS:
            if eq:
                return None
            found[name[2:]] = True
            continue
        if name not in _VALUE_OPTIONS and not (place == "list" and name in _LIST_VALUES):
            return None
        if not eq:
            if i >= len(words):
                return None
            value = words[i]
            i += 1
        if not value or value.startswith("-"):
            return None
        if name == "--status":
            if value not in STATUSES:
                return None
            found["status"].append(value)
        elif name == "--limit":
            if not (value.isascii() and value.isdigit()):
                return None
            found["limit"] = int(value)
        elif name == "--lang" and value not in ("ar", "en"):
            return None
        else:
            found[name[2:]] = value
    if place != "list" or found["json"] or found.get("search", "").strip():
        return None
    found.setdefault("limit", 1000)
    return found


def _home_dir(env: str, default: str) -> str:
    """platformdirs' Unix folder: $env if absolute, else `default` under $HOME."""
    value = os.environ.get(env, "")
    if value.startswith("/"):
        return value
    return os.path.join(os.environ["HOME"], default)


def paths(config: str | None, db: str | None) -> tuple[str, str] | None:
    """(config file, database) as config.default_paths finds them on Linux; None elsewhere
    or when only platformdirs can say (no absolute $HOME: it asks the user database)."""
    if sys.platform != "linux" or "ANDROID_DATA" in os.environ:
        return None
    if not os.environ.get("HOME", "").startswith("/"):
        return None
    if not config and not os.environ.get("CLASSROOM_SUPPORT_CONFIG"):
        folder = _home_dir("XDG_CONFIG_HOME", ".config")
        config = os.path.join(folder, "classroom-support", "config.toml")
    if not db and not os.environ.get("CLASSROOM_SUPPORT_DB"):
        folder = _home_dir("XDG_DATA_HOME", ".local/share")
        db = os.path.join(folder, "classroom-support", "classroom-support.sqlite3")
    config = config or os.environ["CLASSROOM_SUPPORT_CONFIG"]
    db = db or os.environ["CLASSROOM_SUPPORT_DB"]
    config, db = os.path.expanduser(config), os.path.expanduser(db)
    if config.startswith("~") or db.startswith("~"):
        return None
    return config, db


_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def open_db(path: str) -> sqlite3.Connection | None:
    """db_plain.open_reader for the common case, without db_files: a whole SQLite file with
    no `-wal` frames. Anything else (no file, a header that does not vouch, a `-wal` to look
    at) is None: the normal path opens it (db_plain.open_reader, db.open_database)."""
    try:
        info = os.stat(path)
        with open(path, "rb") as f:
            header = f.read(100)
        wal = os.stat(f"{path}-wal").st_size if os.path.exists(f"{path}-wal") else 0
    except OSError:
        return None
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if (
        not os.path.isfile(path)
        or len(header) < 100
        or not header.startswith(b"SQLite format 3\x00")
        or header[92:96] != header[24:28]  # the page count does not vouch for the size
        or page_size < 512
        or info.st_size < pages * page_size
        or wal > 32  # frames: db_files' checks first
    ):
        return None
    from classroom_support.db_plain import connect_reader

    real = os.fsencode(os.path.realpath(path))
    return connect_reader(
        "file://" + "".join(chr(b) if b in _URI_SAFE else f"%{b:02X}" for b in real)
    )


def page_sql(
    hall: str | None, statuses: Sequence[str], halls: Sequence[str]
) -> tuple[str, list[Any]]:
    """queue_sql.page_statements for the list's query (sort by age, no search, no key): one
    index walk per hall and status, merged in order (a test compares the statements)."""
    statuses = statuses or STATUSES
    arms: Sequence[str | None] = halls
    if len(halls) * len(statuses) > MAX_ARMS:
        arms = (None,)
    selects: list[str] = []
    params: list[Any] = []
    cols = ", ".join(COLUMNS)
    for arm in arms:
        for status in statuses:
            where = "status = ?" if arm is None else "hall_code = ? AND status = ?"
            if arm is None and hall is not None:
                where += " AND hall_code = ?"
            selects.append(f"SELECT {cols} FROM ticket WHERE {where}")
            params += [status] if arm is None else [arm, status]
            if arm is None and hall is not None:
                params.append(hall)
    sql = f"{' UNION ALL '.join(selects)} ORDER BY created_at ASC, id ASC LIMIT ?"
    return sql, params


def _shown(text: str, limit: int) -> str:
    """textsafe.visible(text, single_line=True, limit=limit), its regexes only when needed."""
    if len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable():
        return text
    from classroom_support.textsafe import visible

    return visible(text, single_line=True)


def list_line(
    zone: Any, ref: str, created_at: Any, status: str, priority: str, seat: str, title: str
) -> str:
    """One ticket as `tickets list` prints it (the normal path's `cli_tickets` too)."""
    local = created_at.astimezone(zone).isoformat(" ", "minutes")[:16]  # %Y-%m-%d %H:%M
    return (
        f"{ref:<10} {local}  {status:<11} {priority:<8} {_shown(seat, 10):<10} "
        f"{_shown(title, 60)}\n"
    )


def run(argv: Sequence[str]) -> int | None:
    """`tickets list` from the command line `argv`; its exit code, or None for the normal path."""
    args = parse(argv)
    if args is None:
        return None
    where = paths(args.get("config"), args.get("db"))
    if where is None:
        return None
    config_file, db = where
    if "config" in args and not os.path.isfile(args["config"]):  # as typed: not expanded
        return None  # the normal path says what is wrong with --config
    hall, timezone = DEFAULT_HALL, DEFAULT_TIMEZONE
    language, arabic_display = DEFAULT_LANGUAGE, DEFAULT_ARABIC_DISPLAY
    if os.path.exists(config_file):
        from pathlib import Path

        from classroom_support.config import ConfigError, load_config

        try:
            config = load_config(Path(config_file))
        except ConfigError:
            return None
        hall, timezone = config.hall, config.timezone
        language, arabic_display = config.language, config.arabic_display
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError, OSError):  # no time-zone data: the normal path says so
        return None
    conn = open_db(db)
    if conn is None:
        return None
    import sqlite3

    statuses = tuple(args["status"]) or OPEN_STATUSES
    if args["all"]:
        statuses = tuple(args["status"])
    code = None if args["all"] and not args.get("hall") else (args.get("hall") or hall)
    try:
        conn.execute("BEGIN")  # the halls and the page from one snapshot, as the desk reads
        halls = [code] if code else [r[0] for r in conn.execute(HALLS_SQL)]
        rows: list[Any] = []
        if args["limit"] > 0 and halls:
            sql, params = page_sql(code, statuses, halls)
            rows = conn.execute(sql, [*params, args["limit"]]).fetchall()
        conn.execute("COMMIT")
    except sqlite3.Error:
        return None  # nothing printed yet: the normal path reads it, or says what is wrong
    finally:
        conn.close()
    return _print(rows, zone, args.get("lang") or language, arabic_display)


def _print(rows: list[Any], zone: Any, language: str, arabic_display: str) -> int | None:
    if not rows:
        from classroom_support import i18n

        i18n.set_language(language)
        i18n.set_arabic_display(arabic_display)
        text = i18n.tr("cli.no_tickets") + "\n"
    else:
        from datetime import datetime

        at = datetime.fromisoformat  # stored naive UTC (models.UTCDateTime): read as UTC
        try:
            text = "".join(
                list_line(zone, ref, at(f"{created}+00:00"), *rest)
                for ref, created, *rest in (row[:6] for row in rows)
            )
        except (TypeError, ValueError):  # not a stored timestamp: the normal path shows it
            return None
    try:
        sys.stdout.write(text)  # one write, as cli_tickets.cmd_list
    except BrokenPipeError:
        return quiet_broken_pipe()
    except UnicodeEncodeError:  # encoded before anything is written: the normal path says it
        return None
    return 0


def quiet_broken_pipe() -> int:
    """`tickets list | head`: the reader has gone. Exit quietly, as Unix tools do; point
    stdout at /dev/null so the interpreter's final flush cannot complain either."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141
