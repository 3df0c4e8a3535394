"""The headless commands: `connect`, `sync` (exit codes, --json) and `central ...`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fault_proxy import FaultyProxy
from postgres_support import ENGINES
from sync_support import Central

from classroom_support.cli import main
from classroom_support.context import AppContext

CENTRAL_MODULES = (
    "classroom_support.central.app",
    "classroom_support.central.api",
    "classroom_support.central.store",
    "classroom_support.central.validation",
    "classroom_support.central.auth",
    "classroom_support.central.cli",
    "classroom_support.central.models",
    "classroom_support.central.schemas",
    "classroom_support.central.observability",
    "classroom_support.central.backup",
    "classroom_support.central.metrics_dir",
)


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.mark.parametrize("module", CENTRAL_MODULES)
def test_central_server_modules_never_import_textual(module: str) -> None:
    code = (
        f"import importlib, sys; importlib.import_module({module!r}); "
        "sys.exit(1 if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) "
        "else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()


@pytest.fixture
def paths(make_ctx: Callable[..., AppContext]) -> list[str]:
    ctx = make_ctx(config='[ui]\nlanguage = "en"\n[device]\ntechnician = "Sami"\n', name="cli")
    args = ["--db", str(ctx.paths.database), "--config", str(ctx.paths.config_file)]
    ctx.close()
    return args


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def narrow_to_a101(central: Central) -> None:
    """The administrator narrows every token to A101 (what a re-scoped token looks like)."""
    from classroom_support.central import models as m

    with central.store.write() as conn:
        conn.execute(m.devices.update().values(halls="A101"))


def test_sync_exit_codes_and_json(
    capsys: pytest.CaptureFixture[str],
    paths: list[str],
    central: Central,
    proxy: FaultyProxy,
    tmp_path: Path,
) -> None:
    # 2: not set up
    code, out, err = run(capsys, "sync", *paths)
    assert code == 2 and "connect" in err
    token_file = tmp_path / "token"
    token_file.write_text(central.add_device("A101", "B201", name="desk laptop"))
    code, out, _ = run(capsys, "connect", proxy.url, "--token-file", str(token_file), *paths)
    assert code == 0 and "desk laptop" in out
    run(capsys, "tickets", "add", "--title", "Projector", *paths)
    # 0: synced, with counts
    code, out, _ = run(capsys, "sync", "--json", *paths)
    data = json.loads(out)
    assert code == 0 and (data["outcome"], data["pushed"], data["parked"]) == ("ok", 1, 0)
    assert data["head"] >= 1  # the server's sequence head
    # 3: offline (the link is down), the event waits
    proxy.down = True
    run(capsys, "tickets", "add", "--title", "Wi-Fi down", *paths)
    code, out, _ = run(capsys, "sync", "--json", *paths)
    data = json.loads(out)
    assert code == 3 and (data["outcome"], data["pending"]) == ("offline", 1)
    assert data["head"] is None  # never reached: not a head of 0
    proxy.down = False
    # 4: synced, but the server refused something (a ticket filed for B201 while the token
    # still covered it, and the token narrowed to A101 before it was sent)
    run(capsys, "tickets", "add", "--title", "for another hall", "--hall", "B201", *paths)
    narrow_to_a101(central)
    code, out, _ = run(capsys, "sync", *paths)
    assert code == 4 and out.startswith("parked:") and "parked 1" in out
    code, out, _ = run(capsys, "sync", "--json", *paths)
    data = json.loads(out)
    assert code == 4 and (data["pushed"], data["parked"], data["pending"]) == (0, 1, 0)
    # 2: the token is revoked
    central.store.revoke_device(central.store.devices()[-1].id)
    code, _out, err = run(capsys, "sync", *paths)
    assert code == 2 and "token" in err


def test_connect_refuses_bad_input(
    capsys: pytest.CaptureFixture[str], paths: list[str], tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("short")
    code, _out, err = run(capsys, "connect", "https://x.example", "--token-file", str(token_file),
                          "--no-check", *paths)  # fmt: skip
    assert code == 2 and "token" in err
    token_file.write_text("t" * 43)
    code, _out, err = run(capsys, "connect", "ftp://x", "--token-file", str(token_file), *paths)
    assert code == 2 and "http" in err
    code, _out, err = run(capsys, "connect", "https://x.example", "--token-file",
                          str(tmp_path / "missing"), *paths)  # fmt: skip
    assert code == 2 and "cannot read" in err


def test_central_commands(capsys: pytest.CaptureFixture[str], central_db_url: str) -> None:
    db = central_db_url
    code, out, _ = run(capsys, "central", "add-device", "--db", db, "--hall", "A101",
                       "--hall", "B201", "--name", "lab laptop")  # fmt: skip
    assert code == 0
    token = out.split("token:")[1].split()[0]
    assert len(token) >= 40
    code, out, _ = run(capsys, "central", "devices", "--db", db, "--json")
    [device] = json.loads(out)
    assert device["halls"] == ["A101", "B201"] and device["name"] == "lab laptop"
    assert token not in out and len(device["ref_prefix"]) == 4
    code, _out, err = run(capsys, "central", "add-device", "--db", db, "--hall", "Z9")
    assert code == 2 and "unknown hall" in err
    code, out, _ = run(capsys, "central", "add-ticket", "--db", db, "--hall", "A101",
                       "--title", "Caller: projector", "--channel", "phone", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["ref"].endswith("-1")
    code, out, _ = run(capsys, "central", "revoke-device", "--db", db, device["device"])
    assert code == 0


def test_central_serve_runs_the_api(empty_central_db_url: str) -> None:
    """`central serve` on a new database: it builds the schema, then answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CLASSROOM_SUPPORT_CENTRAL_DB": empty_central_db_url}
    argv = ["central", "serve", "--port", str(port), "--sla-interval", "0"]
    server = subprocess.Popen(
        [sys.executable, "-m", "classroom_support.cli", *argv, "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).json()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert body is not None and body["status"] == "ok", server.stderr
        spec = httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5).json()
        assert {"/api/v1/sync/push", "/api/v1/sync/pull", "/api/v1/sync/hello"} <= set(
            spec["paths"]
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_parked_items_and_the_log_from_the_shell(
    capsys: pytest.CaptureFixture[str], paths: list[str], central: Central, tmp_path: Path
) -> None:
    """What F6 and `r` do in the TUI, for a cron user: list the parked items, put them back;
    and every run leaves its line in the log file the TUI writes to."""
    from classroom_support.config import default_paths
    from classroom_support.logfile import LOG_FILENAME

    token_file = tmp_path / "token"
    token_file.write_text(central.add_device("A101", "B201", name="desk laptop"))
    code, _, err = run(capsys, "connect", central.url, "--token-file", str(token_file), *paths)
    assert code == 0, err
    run(capsys, "tickets", "add", "--title", "for another hall", "--hall", "B201", *paths)
    narrow_to_a101(central)
    code, out, _ = run(capsys, "sync", *paths)
    assert code == 4 and "sync parked" in out

    code, out, _ = run(capsys, "sync", "parked", "--json", *paths)
    [item] = json.loads(out)
    assert code == 0 and item["kind"] == "event" and item["event"] == "created"
    assert item["reason"] and item["ref"]
    code, out, _ = run(capsys, "sync", "parked", *paths)
    assert code == 0 and item["ref"] in out and item["reason"] in out

    code, out, _ = run(capsys, "sync", "retry-parked", *paths)
    assert code == 4 and "1 parked item(s) will be sent again" in out  # refused again

    log_file = default_paths(None, None).log_dir / LOG_FILENAME
    text = log_file.read_text(encoding="utf-8")
    assert text.count("sync parked: pushed") == 2
    assert "1 parked item(s) put back in the outbox" in text
    code, out, _ = run(capsys, "locate", *paths)
    assert "not created" not in out.splitlines()[-1]


def test_locate_says_the_log_folder_is_not_there_yet(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "locate")
    assert code == 0 and "not created yet" in out.splitlines()[-1]
