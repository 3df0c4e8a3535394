"""Configuration: policy defaults defined once, overridable by a TOML file.

The defaults *are* the institute's published support policy (see the seed policy): the phone
number, the opening hours, the 48-working-hour first-response target, the support tiers and the
roster's three roles. Everything else in the product reads them from a `Config`.

Where things are: the shape and the defaults in `config_model.py`; reading a file in
`config_reader.py` (shared checks) with one `read_<section>` function per section in
`config_sections.py` (`[mail]` in `config_mail.py`); the commented sample file in
`config_sample.py`. This module is the front door: `load_config`, `default_paths`, and every
public name of the others.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from classroom_support.config_mail import MailConfig, MailServer
from classroom_support.config_model import (
    ARABIC_DISPLAY_MODES,
    DAY_NAMES,
    DEFAULT_LADDER,
    LANGUAGES,
    SAUDI_HOLIDAYS,
    SESSION_SCOPES,
    ClosureDefault,
    Config,
    ConfigError,
    EscalationStep,
    Hall,
    RosterRole,
    SlaTarget,
    SupportTier,
    WeeklyWindow,
)

__all__ = [
    "APP_NAME",
    "ARABIC_DISPLAY_MODES",
    "CONFIG_ENV",
    "CONFIG_FILENAME",
    "DAY_NAMES",
    "DB_ENV",
    "DB_FILENAME",
    "DEFAULT_LADDER",
    "LANGUAGES",
    "SAMPLE_CONFIG",
    "SAUDI_HOLIDAYS",
    "SESSION_SCOPES",
    "ClosureDefault",
    "Config",
    "ConfigError",
    "EscalationStep",
    "Hall",
    "MailConfig",
    "MailServer",
    "Paths",
    "RosterRole",
    "SlaTarget",
    "SupportTier",
    "WeeklyWindow",
    "default_paths",
    "load_config",
    "parse_clock_time",
]


if TYPE_CHECKING:  # at run time through __getattr__, below
    from classroom_support.config_reader import parse_clock_time
    from classroom_support.config_sample import SAMPLE_CONFIG


def __getattr__(name: str) -> Any:
    """The names of `config_reader` and `config_sample`, imported when first asked for: a
    start without a config file reads none of it (`--help`, `tickets list`, the first frame)."""
    if name == "parse_clock_time":
        from classroom_support.config_reader import parse_clock_time

        return parse_clock_time
    if name == "SAMPLE_CONFIG":
        from classroom_support.config_sample import SAMPLE_CONFIG

        return SAMPLE_CONFIG
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


APP_NAME = "classroom-support"
CONFIG_ENV = "CLASSROOM_SUPPORT_CONFIG"
DB_ENV = "CLASSROOM_SUPPORT_DB"
CONFIG_FILENAME = "config.toml"
DB_FILENAME = "classroom-support.sqlite3"


# --------------------------------------------------------------------------- paths


class Paths(NamedTuple):
    config_file: Path
    data_dir: Path
    database: Path
    log_dir: Path
    backup_dir: Path


def default_paths(config: Path | str | None = None, db: Path | str | None = None) -> Paths:
    """Where things live: explicit arguments win, then environment variables, then platformdirs."""
    import platformdirs  # deferred: only needed when paths are not given

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    config_file = Path(
        config or os.environ.get(CONFIG_ENV) or Path(dirs.user_config_dir) / CONFIG_FILENAME
    )
    data_dir = Path(dirs.user_data_dir)
    database = Path(db or os.environ.get(DB_ENV) or data_dir / DB_FILENAME)
    log_dir = Path(dirs.user_log_dir)
    return Paths(
        config_file=config_file.expanduser(),
        data_dir=data_dir,
        database=database.expanduser(),
        log_dir=log_dir,
        backup_dir=database.expanduser().parent / "backups",
    )


# --------------------------------------------------------------------------- loading


def load_config(path: Path | None) -> Config:
    """Read `path` (a missing file means all defaults). Raises ConfigError on any problem."""
    if path is None or not path.exists():
        return Config(source=None)
    import tomllib

    from classroom_support.config_reader import read_config

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot be read ({exc})") from None
    return read_config(path, raw)
