"""What running the suite in parallel (pytest-xdist, `make test`) needs from every test, and the
one check xdist would otherwise lose. Loaded as a pytest plugin from tests/conftest.py.

Each xdist worker is a pytest session of its own: session fixtures (the PostgreSQL cluster,
the in-thread central server, the migrated central templates) exist once per worker, Chromium
once per module, and any test may run beside any other. So a test shares nothing by name:

- files under `tmp_path`, never a fixed path (review artifacts such as the web screenshots are
  written under a temporary name and renamed);
- ports from the OS (`port=0`, `central_process.free_port()`), never a fixed number;
- tmux on its own socket (`tmux -S tmp_path/tmux.sock`), mounts under `tmp_path`;
- central databases from the fixtures (`central`, `central_db_url`, `new_central_db`:
  copies of a migrated template; `empty_central_db_url` for migration tests), never a
  database name of its own;
- waits are wait-until loops with generous deadlines (`central_process.START_TIMEOUT_S`) and
  short poll intervals, never a sleep that hopes something happened: the machine is busy.

Unused snapshots: run in one process, syrupy fails the run when an SVG under
`tests/__snapshots__/` belongs to no test (a test renamed or removed); under xdist it cannot
tell (each worker sees part of the tests) and says nothing. The controller here has every
collected test id, so it does that check itself when whole modules were collected.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "__snapshots__"
_collected: set[str] = set()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    _collected.update(ids)


def _whole_modules_collected(config: pytest.Config) -> bool:
    """False when tests were picked within modules (-k, -m, node ids, one engine)."""
    if config.getoption("keyword") or config.getoption("markexpr"):
        return False
    if config.getoption("--engine") != "both":
        return False
    return not any("::" in arg for arg in config.args)


def unused_snapshots(collected: set[str]) -> list[Path]:
    """SVGs in the snapshot folders of the collected modules that no collected test owns."""
    names: dict[str, set[str]] = {}
    for nodeid in collected:
        path, _, name = nodeid.partition("::")
        names.setdefault(Path(path).stem, set()).add(name.replace("::", "."))
    unused = []
    for module, tests in names.items():
        folder = SNAPSHOTS / module
        if not folder.is_dir():
            continue
        for svg in sorted(folder.glob("*.svg")):
            owner = re.sub(r"\.\d+$", "", svg.stem)  # a test's second snapshot is NAME.1
            if owner not in tests:
                unused.append(svg)
    return unused


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not _collected or hasattr(config, "workerinput") or exitstatus != 0:
        return
    if config.getoption("--snapshot-update", default=False):
        return
    if not _whole_modules_collected(config):
        return
    unused = unused_snapshots(_collected)
    if unused:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        listed = "\n".join(f"  {p.relative_to(SNAPSHOTS.parent.parent)}" for p in unused)
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(
                f"{len(unused)} snapshot(s) belong to no test (renamed or removed?); run "
                f"the module in one process with --snapshot-update, or delete them:\n{listed}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
