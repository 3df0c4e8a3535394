"""styles/ ships inside the wheel and an installed app finds it (built and run from the wheel)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_styles_and_migrations_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    [wheel] = list(dist.glob("classroom_support-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "classroom_support/styles/app.tcss" in names
    assert "classroom_support/styles/screens.tcss" in names
    assert "classroom_support/migrations/versions/0001_initial.py" in names
    for part in ("env.py", "script.py.mako", "versions/0001_initial.py"):  # the central schema's
        assert f"classroom_support/central/migrations/{part}" in names
    # The central server's web pages and the starter knowledge base ship too.
    assert "classroom_support/central/web/templates/form.html" in names
    assert "classroom_support/central/web/static/web.css" in names
    assert "classroom_support/kb_articles/projector-no-signal.md" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    entry_points = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith("entry_points.txt")))
        .decode()
    )
    assert "classroom-support = classroom_support.cli:main" in entry_points

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # Run the real app headless from the unpacked wheel (not the checkout): it must find its
    # styles, create its database and paint the queue.
    script = f"""
import asyncio, sys
import classroom_support
assert classroom_support.__file__.startswith({str(site)!r}), classroom_support.__file__
from classroom_support.app import ClassroomSupportApp
from classroom_support.stylesheets import styles_dir
from classroom_support.context import open_context
assert str(styles_dir()).startswith({str(site)!r}), styles_dir()
ctx = open_context(None, {str(tmp_path / "db.sqlite3")!r})
app = ClassroomSupportApp(ctx)
async def main():
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "QueueScreen"
        print("painted", len(app.stylesheet.rules) > 0)
asyncio.run(main())
"""
    env = {**os.environ, "PYTHONPATH": str(site), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "painted True" in result.stdout
