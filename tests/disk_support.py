"""Real small disks for storage-fault tests: a 2 MiB tmpfs that can be filled, freed and made
read-only. Mounting needs root (tests and CI have it); elsewhere the tests skip and say why."""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

TINY_DISK_SIZE = "2m"


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A fresh 2 MiB tmpfs, always unmounted afterwards (lazily if something still holds it)."""
    folder = tmp_path / "tiny-disk"
    folder.mkdir()
    try:
        done = _mount("-t", "tmpfs", "-o", f"size={TINY_DISK_SIZE}", "tmpfs", str(folder))
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot run mount to make a small tmpfs: {exc}")
    if done.returncode != 0:
        pytest.skip(f"mounting a small tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True, timeout=30).returncode:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def fill_disk(folder: Path) -> Path:
    """Write zeros until the file system says ENOSPC; the file is returned to free it later."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 16, 1 << 12, 1 << 9):
            block = b"\0" * chunk
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    break
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0
    return filler


def remount(folder: Path, mode: str) -> None:
    """'ro' or 'rw'."""
    done = _mount("-o", f"remount,{mode}", str(folder))
    assert done.returncode == 0, done.stderr


def truncate_wal(db_path: Path) -> None:
    """Checkpoint and empty the -wal, so the next write must grow it (a laptop whose disk
    filled up after the last checkpoint). Idle pooled connections do not prevent this."""
    conn = sqlite3.connect(db_path)
    try:
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    assert busy == 0
    assert Path(f"{db_path}-wal").stat().st_size == 0


def file_hashes(folder: Path) -> dict[str, str]:
    """Every file under `folder` (name → sha256), to show that nothing was touched."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
