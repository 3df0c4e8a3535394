"""The folder prometheus_client's multiprocess mode writes to (`PROMETHEUS_MULTIPROC_DIR`).

Standard library only, on purpose: `central serve` prepares the folder *before* anything
imports prometheus_client, because metrics without labels open their file in that folder the
moment they are defined (at import), and a file removed afterwards keeps counting unseen.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
VALUE_FILE = re.compile(r"(counter|gauge_\w+|histogram|summary)_\d+\.db")


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess_dir(workers: int = 1) -> str | None:
    """Create the folder and remove a previous run's value files (their counts would be added
    to this run's). Several workers and no folder given: a private one for this run, so that
    `/metrics` still counts every worker. Call before prometheus_client is imported."""
    folder = multiprocess_dir()
    if folder is None:
        if workers <= 1:
            return None
        folder = tempfile.mkdtemp(prefix="classroom-support-metrics-")
        os.environ[MULTIPROC_ENV] = folder  # the workers are new processes: they read it
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        return folder
    if "prometheus_client" in sys.modules:  # its files could already be in there
        raise RuntimeError("prepare the metrics folder before importing prometheus_client")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        if VALUE_FILE.fullmatch(stale.name):
            stale.unlink(missing_ok=True)
    return folder
