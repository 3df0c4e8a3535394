"""Operating the central server: `/healthz` and `/readyz`, Prometheus metrics at `/metrics`,
one JSON log line per request (with a request id, and nothing a request carries), and
`central backup` while the server writes."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from central_process import START_TIMEOUT_S
from postgres_support import ENGINES, PostgresServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sync_support import Central, LiveServer, SwappableApp

from classroom_support.central import models as m
from classroom_support.central.app import CentralSettings, create_app
from classroom_support.central.observability import ACCESS_LOGGER, JsonFormatter
from classroom_support.central.store import CentralStore
from classroom_support.cli import main
from classroom_support.clock import FixedClock
from classroom_support.config import load_config
from classroom_support.tickets import TicketDraft

TOKEN_RE = re.compile(r'name="csrf" value="([^"]+)"')
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def scrape(base_url: str, **kwargs: Any) -> Samples:
    response = httpx.get(base_url + "/metrics", timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def created(device_id: str, ref: str, **payload: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "ticket_id": str(uuid.uuid4()),
        "kind": "created",
        "payload": {
            "ref": ref,
            "device_seq": int(ref.split("-")[1]),
            "hall_code": "A101",
            "title": "Projector",
            **payload,
        },
        "device_id": device_id,
        "actor": "tester",
        "occurred_at": "2026-11-28T07:30:00+00:00",
        "hlc": "1764315000000-00000",
    }


# --------------------------------------------------------------------------- probes


def test_healthz_and_readyz_answer(central: Central) -> None:
    health = httpx.get(central.url + "/healthz", timeout=30)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = httpx.get(central.url + "/readyz", timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "database": "ok", "migrations": "current"}
    # The older liveness endpoint the laptops use is still there.
    assert httpx.get(central.url + "/api/v1/health", timeout=30).json()["status"] == "ok"


def test_readyz_says_503_when_the_database_is_gone(
    central: Central, central_engine: str, central_db_url: str, request: pytest.FixtureRequest
) -> None:
    assert httpx.get(central.url + "/readyz", timeout=30).status_code == 200
    moved: Path | None = None
    if central_engine == "sqlite":
        # The pool still holds the old file open; readiness must look at the path itself.
        moved = Path(central_db_url).with_suffix(".moved")
        Path(central_db_url).rename(moved)
    else:
        name = urlsplit(central_db_url).path.lstrip("/")
        request.getfixturevalue("postgres_server").drop_database(name)
    gone = httpx.get(central.url + "/readyz", timeout=15)
    assert gone.status_code == 503, gone.text
    assert gone.json()["status"] == "unavailable"
    reason = gone.json()["database"]
    assert ("missing" in reason) if central_engine == "sqlite" else ("did not answer" in reason)
    assert gone.headers["retry-after"]
    # The process itself is fine: liveness stays green, so it is not restarted for this.
    assert httpx.get(central.url + "/healthz", timeout=30).status_code == 200
    if moved is not None:
        moved.rename(central_db_url)
        assert httpx.get(central.url + "/readyz", timeout=30).status_code == 200


# --------------------------------------------------------------------------- metrics


def test_metrics_count_requests_by_route_template_batches_and_events(central: Central) -> None:
    token = central.add_device("A101")
    before = scrape(central.url)
    with httpx.Client(
        base_url=central.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        hello = {"device_id": "dev-1", "ref_prefix": "KKKK", "issued": 0}
        assert http.post("/sync/hello", json=hello).status_code == 200
        batch = {
            "events": [
                created("dev-1", "KKKK-1"),
                created("dev-1", "KKKK-2"),
                created("dev-1", "ZZZZ-3"),
            ]
        }
        first = http.post("/sync/push", json=batch).json()
        assert [r["status"] for r in first["results"]] == ["applied", "applied", "rejected"]
        again = http.post("/sync/push", json=batch).json()
        assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate", "rejected"]
        page = http.get("/sync/pull", params={"since": 0}).json()
    ticket_id = batch["events"][0]["ticket_id"]
    assert httpx.get(f"{central.url}/status/{ticket_id}", timeout=30).status_code == 200
    no_token = httpx.post(central.url + "/form", data={"hall": "A101", "title": "x"}, timeout=30)
    assert no_token.status_code == 403
    after = scrape(central.url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "central_http_requests_total"
    assert delta(requests, method="POST", route="/api/v1/sync/hello", status="200") == 1
    assert delta(requests, method="POST", route="/api/v1/sync/push", status="200") == 2
    assert delta(requests, method="GET", route="/api/v1/sync/pull", status="200") == 1
    assert delta(requests, method="GET", route="/status/{ticket_id}", status="200") == 1
    routes = {dict(labels).get("route") for (name, labels) in after if name == requests}
    assert not any(ticket_id in str(route) for route in routes), "raw paths leak into labels"
    assert delta("central_pushed_events_total", result="applied") == 2
    assert delta("central_pushed_events_total", result="duplicate") == 2
    assert delta("central_pushed_events_total", result="rejected") == 2
    assert delta("central_events_stored_total", source="push") == 2
    assert delta("central_form_posts_total", outcome="refused") == 1
    assert delta("central_form_posts_total", outcome="accepted") == 0
    assert delta("central_push_batch_events_count") == 2
    assert delta("central_push_batch_events_sum") == 6
    pulled = sum(len(page[k]) for k in ("events", "sessions", "closures", "roster", "kb"))
    assert pulled >= 2
    assert delta("central_pull_page_items_count") == 1
    assert delta("central_pull_page_items_sum") == pulled
    assert value(after, "central_sequence_head") == central.store.head()


def test_an_oversized_push_is_counted_under_its_route(central: Central) -> None:
    before = scrape(central.url)
    big = httpx.post(
        central.url + "/api/v1/sync/push",
        content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert big.status_code == 413 and big.headers["x-request-id"]
    after = scrape(central.url)
    labels = {"method": "POST", "route": "/api/v1/sync/push", "status": "413"}
    key = "central_http_requests_total"
    assert value(after, key, **labels) - value(before, key, **labels) == 1


def test_metrics_token_when_configured(
    tmp_path: Path, clock: FixedClock, live_server: tuple[LiveServer, SwappableApp]
) -> None:
    server, swappable = live_server
    secret = tmp_path / "metrics-token"
    secret.write_text("s3cret-scrape-token\n", encoding="utf-8")
    store = CentralStore.open(tmp_path / "c.sqlite3", load_config(None), clock)
    try:
        swappable.app = create_app(
            CentralSettings(store=store, clock=clock, sla_interval=0, metrics_token_file=secret)
        )
        url = server.url + "/metrics"
        assert httpx.get(url, timeout=30).status_code == 401
        wrong = httpx.get(url, headers={"Authorization": "Bearer nope"}, timeout=30)
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        scrape(server.url, headers={"Authorization": "Bearer s3cret-scrape-token"})
        assert httpx.get(server.url + "/healthz", timeout=30).status_code == 200  # probes open
        secret.write_text("  \n", encoding="utf-8")
        with pytest.raises(ValueError, match="empty"):
            create_app(CentralSettings(store=store, clock=clock, metrics_token_file=secret))
        with pytest.raises(ValueError, match="cannot read"):
            create_app(CentralSettings(store=store, metrics_token_file=tmp_path / "nope"))
    finally:
        swappable.app = None
        store.close()


def test_request_ids_sane_ones_are_kept_others_replaced(central: Central) -> None:
    kept = httpx.get(central.url + "/healthz", headers={"X-Request-ID": "lb-7f3a.1:2"}, timeout=30)
    assert kept.headers["x-request-id"] == "lb-7f3a.1:2"
    for bad in ("has space", "x" * 65, "semi;colon", "-leading-dash"):
        answer = httpx.get(central.url + "/healthz", headers={"X-Request-ID": bad}, timeout=30)
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"]), bad
    a = httpx.get(central.url + "/healthz", timeout=30).headers["x-request-id"]
    b = httpx.get(central.url + "/healthz", timeout=30).headers["x-request-id"]
    assert a != b


def test_database_errors_carry_no_row_values(central_db_url: str, clock: FixedClock) -> None:
    """A failed statement gets logged with its traceback: the message must not hold the row."""
    store = CentralStore.open(central_db_url, load_config(None), clock)
    personal = "Layla Haddad 0551234567"
    try:
        with pytest.raises(IntegrityError) as caught, store.write() as conn:
            conn.execute(insert(m.meta).values(key="central_device_id", value=personal))
    finally:
        store.close()
    assert "Layla" not in str(caught.value) and "0551234567" not in str(caught.value)
    assert "hidden" in str(caught.value)


def test_an_unhandled_error_is_logged_with_the_request_id(
    tmp_path: Path, clock: FixedClock, live_server: tuple[LiveServer, SwappableApp]
) -> None:
    server, swappable = live_server
    store = CentralStore.open(tmp_path / "c.sqlite3", load_config(None), clock)
    app = create_app(CentralSettings(store=store, clock=clock, sla_interval=0))

    def broken(ticket_id: str) -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken/{ticket_id}", broken)
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(ACCESS_LOGGER), logging.getLogger("uvicorn.error")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    swappable.app = app
    try:
        answer = httpx.get(
            server.url + "/broken/123", headers={"X-Request-ID": "bug-1"}, timeout=30
        )
        assert answer.status_code == 500
        deadline = time.monotonic() + 10  # uvicorn logs after the answer went out
        while captured.getvalue().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        swappable.app = None
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
        store.close()
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    [access] = [x for x in lines if x["logger"] == ACCESS_LOGGER]
    assert (access["route"], access["status"], access["request_id"]) == (
        "/broken/{ticket_id}",
        500,
        "bug-1",
    )
    [error] = [x for x in lines if x["logger"] == "uvicorn.error"]
    assert error["request_id"] == "bug-1" and "RuntimeError: a bug" in error["error"]


# --------------------------------------------------------------------------- `central serve`


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path, Path]]:
    """`central serve` in its own process(es), JSON logs to a file, metrics in
    multiprocess mode (a stale file from an earlier run left in the folder); yields
    (url, token, log, metrics folder)."""
    db = tmp_path / "central.sqlite3"
    store = CentralStore.open(db, load_config(None))
    _device, token = store.add_device("hall laptop", ["A101"])
    store.close()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left over from a crashed run")
    log_path = tmp_path / "stderr.log"
    port = free_port()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    argv = ["central", "serve", "--db", str(db), "--port", str(port), "--sla-interval", "0",
            "--workers", "2"]  # fmt: skip
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "classroom_support.cli", *argv],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S  # a wait-until: seconds when idle
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"central serve did not start: {log_path.read_text()[-2000:]}")
        yield url, token, log_path, metrics_dir
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_json_logs_one_line_per_request_with_ids_and_nothing_personal(
    served: tuple[str, str, Path, Path],
) -> None:
    url, token, log_path, metrics_dir = served
    name, phone, email = "Layla Haddad", "0551234567", "layla.h@example.org"
    secret_query = "QUERYSECRET" + uuid.uuid4().hex
    sent = 1  # the start-up probe
    # A new connection per request, so that both workers get some of them.
    fresh = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=url, timeout=10, follow_redirects=False, limits=fresh) as http:
        auth = {"Authorization": f"Bearer {token}"}
        hello = {"device_id": "dev-1", "ref_prefix": "KKKK", "issued": 0}
        assert http.post("/api/v1/sync/hello", json=hello, headers=auth).status_code == 200
        event = created("dev-1", "KKKK-1", trainee_name=name, caller_number=phone)
        pushed = http.post(
            "/api/v1/sync/push",
            json={"events": [event]},
            headers={**auth, "X-Request-ID": "trace-42"},
        )
        assert pushed.status_code == 200 and pushed.headers["x-request-id"] == "trace-42"
        assert pushed.json()["results"][0]["status"] == "applied"
        assert http.get("/api/v1/sync/pull", params={"since": 0}, headers=auth).status_code == 200
        assert http.get(f"/status/{event['ticket_id']}", params={"t": secret_query}).is_success
        form = http.get("/form?hall=A101")
        csrf = TOKEN_RE.search(form.text)
        assert form.status_code == 200 and csrf is not None
        posted = http.post(
            "/form",
            data={
                "csrf": csrf.group(1),
                "hall": "A101",
                "hall_from_link": "1",
                "title": "Projector",
                "name": name,
                "contact": email,
            },
        )
        assert posted.status_code == 303, posted.text
        sent += 6
        metrics = scrape(url)
        sent += 1
    # Every process writes its values into the folder; the stale file was cleared at start.
    assert not (metrics_dir / "counter_999999.db").exists()
    assert len(list(metrics_dir.glob("histogram_*.db"))) >= 2  # the workers' own files
    route = {"method": "POST", "route": "/api/v1/sync/push", "status": "200"}
    assert value(metrics, "central_http_requests_total", **route) == 1
    assert value(metrics, "central_events_stored_total", source="push") == 1
    assert value(metrics, "central_push_batch_events_count") == 1  # made when imported
    assert value(metrics, "central_pull_page_items_count") == 1
    assert value(metrics, "central_form_posts_total", outcome="accepted") == 1
    assert value(metrics, "central_sequence_head") >= 2

    deadline = time.monotonic() + 10  # the last line is written after the answer is sent
    while time.monotonic() < deadline:
        text = log_path.read_text(encoding="utf-8")
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        access = [x for x in lines if x["logger"] == "classroom_support.central.access"]
        if len(access) >= sent:
            break
        time.sleep(0.1)
    assert len(access) == sent, access
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)
    assert not [x for x in lines if x["logger"] == "uvicorn.access"]  # ours replaces it
    for line in access:
        assert re.fullmatch(r"[0-9a-f]{32}|trace-42", line["request_id"])
        assert line["client"] == "127.0.0.1" and line["duration_ms"] >= 0
        assert {"method", "route", "status"} <= set(line)
    assert len({x["request_id"] for x in access}) == len(access)
    [push_line] = [x for x in access if x["request_id"] == "trace-42"]
    assert (push_line["method"], push_line["route"], push_line["status"]) == (
        "POST",
        "/api/v1/sync/push",
        200,
    )
    assert any(x["route"] == "/status/{ticket_id}" and x["status"] == 200 for x in access)
    for forbidden in (token, name, "Layla", phone, email, secret_query, csrf.group(1)):
        assert forbidden not in text, forbidden


# --------------------------------------------------------------------------- backup


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def backed_up(path: Path) -> tuple[int, set[str], set[str]]:
    """(head, event ids, ticket ids) of a copy, read with plain sqlite3."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        head = conn.execute("SELECT value FROM central_counter WHERE name = 'seq'").fetchone()[0]
        events = {r[0] for r in conn.execute("SELECT id FROM central_event")}
        tickets = {r[0] for r in conn.execute("SELECT id FROM central_ticket")}
    finally:
        conn.close()
    return int(head), events, tickets


def test_backup_is_consistent_while_a_writer_writes(
    tmp_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "central.sqlite3"
    store = CentralStore.open(db, load_config(None), clock)
    written: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set() and len(written) < 2000:
                ticket = store.create_ticket(
                    TicketDraft(title=f"PC {len(written)}", hall_code="A101", channel="phone")
                )
                written.append(ticket.id)
        except BaseException as exc:
            errors.append(exc)

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 60
        while len(written) < count and not errors and time.monotonic() < deadline:
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(20)
        target = tmp_path / "backups" / "central-copy.sqlite3"
        target.parent.mkdir()
        code, out, err = run(capsys, "central", "backup", "--db", str(db), "--to", str(target))
        at_backup = len(written)
        wait_for(at_backup + 20)  # the writer went on after the copy was taken
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert code == 0, err
    assert out.count("\n") == 1 and str(target) in out and "integrity ok" in out
    head, events, tickets = backed_up(target)
    # One snapshot: exactly the source's rows up to the copy's head, nothing torn.
    source = {e["id"]: e["seq"] for e in store.events()}
    assert events == {eid for eid, seq in source.items() if seq <= head}
    assert 20 <= len(tickets) < len(written)
    assert tickets == {t.id for t in store.tickets() if t.id in tickets}
    assert tickets == {e["ticket_id"] for e in store.events() if e["seq"] <= head}
    copy = CentralStore.open(target, load_config(None), clock)  # it opens as a server database
    try:
        assert {t.id for t in copy.tickets()} == tickets and copy.head() == head
    finally:
        copy.close()

    before = target.read_bytes()
    code, out, err = run(capsys, "central", "backup", "--db", str(db), "--to", str(target))
    assert code == 1 and out == "" and err.count("\n") == 1 and "--force" in err
    assert target.read_bytes() == before
    code, out, err = run(
        capsys, "central", "backup", "--db", str(db), "--to", str(target), "--force"
    )
    assert code == 0, err
    assert backed_up(target)[2] == set(written) == {t.id for t in store.tickets()}
    assert not [p for p in target.parent.iterdir() if p != target]  # no temporary left behind
    store.close()


def test_backup_and_serve_refusals_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    code, out, err = run(
        capsys, "central", "backup", "--db", str(missing), "--to", str(tmp_path / "b")
    )
    assert code == 1 and err.count("\n") == 1 and "no database" in err
    assert not missing.exists() and not (tmp_path / "b").exists()  # nothing created
    db = tmp_path / "central.sqlite3"
    CentralStore.open(db, load_config(None)).close()
    code, _out, err = run(
        capsys, "central", "backup", "--db", str(db), "--to", str(tmp_path / "no" / "dir" / "b")
    )
    assert code == 1 and err.count("\n") == 1 and "no folder" in err
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    code, _out, err = run(
        capsys, "central", "backup", "--db", str(other), "--to", str(tmp_path / "c")
    )
    assert code == 1 and "not a central server database" in err
    assert not (tmp_path / "c").exists()
    code, _out, err = run(
        capsys, "central", "serve", "--db", str(db), "--metrics-token-file", str(tmp_path / "t")
    )
    assert code == 2 and err.count("\n") == 1 and "cannot read the metrics token file" in err
    url = "postgresql+psycopg://support@db.internal/central"
    code, out, err = run(capsys, "central", "backup", "--db", url, "--to", str(tmp_path / "d"))
    assert code == 2 and out == "" and err.count("\n") == 1 and "pg_dump" in err


@pytest.mark.postgresql
def test_the_documented_pg_dump_and_pg_restore_bring_back_the_tickets(
    postgres_server: PostgresServer, postgres_db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """README, Backups: the commands given for PostgreSQL, run as written (libpq URL = the
    server's URL without `+psycopg`)."""
    store = CentralStore.open(postgres_db_url, load_config(None), clock)
    try:
        for n in range(3):
            store.create_ticket(TicketDraft(title=f"PC {n}", hall_code="A101", channel="phone"))
        tickets = {t.id: t.model_dump() for t in store.tickets()}
        head = store.head()
    finally:
        store.close()
    dump = tmp_path / "central.dump"
    libpq = postgres_db_url.replace("postgresql+psycopg://", "postgresql://")
    tool = postgres_server.bindir
    subprocess.run(
        [str(tool / "pg_dump"), "--format=custom", "--file", str(dump), libpq],
        check=True,
        capture_output=True,
        timeout=60,
    )
    name = postgres_server.create_database()
    try:
        restored_url = postgres_server.url(name)
        subprocess.run(
            [str(tool / "pg_restore"), "--clean", "--if-exists", "--dbname",
             restored_url.replace("postgresql+psycopg://", "postgresql://"), str(dump)],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        restored = CentralStore.open(restored_url, load_config(None), clock)
        try:
            assert {t.id: t.model_dump() for t in restored.tickets()} == tickets
            assert restored.head() == head and len(tickets) == 3
        finally:
            restored.close()
    finally:
        postgres_server.drop_database(name)


def test_backup_finds_the_database_as_the_service_unit_gives_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy/: the database comes from CLASSROOM_SUPPORT_CENTRAL_DB, a path or a URL."""
    db = tmp_path / "central.sqlite3"
    store = CentralStore.open(db, load_config(None))
    ticket = store.create_ticket(TicketDraft(title="PC 4", hall_code="A101", channel="phone"))
    store.close()
    for n, given in enumerate((str(db), f"sqlite:///{db}")):
        monkeypatch.setenv("CLASSROOM_SUPPORT_CENTRAL_DB", given)
        target = tmp_path / f"copy-{n}.sqlite3"
        code, out, err = run(capsys, "central", "backup", "--to", str(target))
        assert code == 0 and out.startswith(f"backup written to {target}"), err
        assert ticket.id in backed_up(target)[2]
