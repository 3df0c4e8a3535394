"""The headless core never imports Textual (checked in a clean interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import classroom_support

PACKAGE = Path(classroom_support.__file__).parent
# Everything except the Textual front end is headless core, and new modules join automatically.
FRONT_END = {
    "app",
    "app_calendar",
    "app_start",
    "app_sync",
    "screens",
    "terminal_driver",
    "tui",
    "widgets",
    "__main__",
}
# The mail notifications and e-mail in: imported by the server's jobs and CLI, not by the
# package itself.
MAIL = ["central.mail.sender", "central.mail_cli", "central.store.mail", "central.mail.inbound"]
HEADLESS = sorted(
    [
        f"classroom_support.{p.stem if p.is_file() else p.name}"
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
        and p.stem not in FRONT_END
        and p.name not in ("__init__.py", "migrations")
    ]
    + [f"classroom_support.{name}" for name in MAIL]
)


def test_the_named_core_is_covered() -> None:
    for name in ("sla", "sync", "tickets", "models", "db", "config", "performance_report"):
        assert f"classroom_support.{name}" in HEADLESS


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_import_textual(module: str) -> None:
    code = (
        f"import importlib, sys; importlib.import_module({module!r}); "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"{module} imported {result.stdout} {result.stderr}"


# The modules the first painted queue reads with (first_frame.py): none of them may pull in the
# ORM, the HTTP client or the scheduler, or the first frame would wait for them again.
FIRST_FRAME = ["first_frame", "plain_read", "db_plain", "queue_sql", "queue_search", "sync_status"]
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "httpx", "apscheduler")


@pytest.mark.parametrize("module", [f"classroom_support.{m}" for m in FIRST_FRAME])
def test_first_frame_module_imports_no_orm_or_http(module: str) -> None:
    code = (
        f"import importlib, sys; importlib.import_module({module!r}); "
        f"bad = sorted(m for m in {HEAVY!r} if m in sys.modules); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"{module} imported {result.stdout} {result.stderr}"


def test_sync_re_exports_the_status() -> None:
    from classroom_support import sync, sync_status

    assert sync.SyncStatus is sync_status.SyncStatus
    assert (sync.PENDING_CAP, sync.SKEW_WARNING_MS) == (
        sync_status.PENDING_CAP,
        sync_status.SKEW_WARNING_MS,
    )
