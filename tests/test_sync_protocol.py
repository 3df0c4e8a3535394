"""Sync against a real central server (uvicorn on 127.0.0.1): round trips, idempotency, per-event
results, hall scoping, auth, limits, the commit-ordered cursor, rows, SLA, skew, retries."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_proxy import FaultyProxy
from postgres_support import ENGINES, PostgresServer
from sqlmodel import select
from sync_support import (
    Central,
    LiveServer,
    Sleeps,
    SwappableApp,
    assert_converged,
    assert_projection_is_fold,
    connect,
    laptop_config,
    parked_ids,
    pin,
    sync_until_quiet,
    unacked,
)

from classroom_support.central.app import CentralSettings, create_app
from classroom_support.central.store import CentralStore
from classroom_support.clock import FixedClock
from classroom_support.config import load_config
from classroom_support.context import AppContext, open_context
from classroom_support.models import (
    ClosureRow,
    MetaEntry,
    RosterEntry,
    SyncState,
    Ticket,
    TicketEvent,
)
from classroom_support.sessions import SessionDraft
from classroom_support.sync import SyncClient, parse_retry_after, token_path
from classroom_support.tickets import TicketDraft, TicketNotFound

Laptop = tuple[AppContext, SyncClient]


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """Every central store in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def laptop(make_ctx: Callable[..., AppContext], central: Central) -> Callable[..., Laptop]:
    count = iter(range(1, 100))

    def make(
        prefix: str, hall: str = "A101", token_halls: tuple[str, ...] | None = None, **kw: Any
    ) -> Laptop:
        n = next(count)
        ctx = make_ctx(config=laptop_config(hall), name=f"laptop{n}")
        pin(ctx, f"00000000-0000-4000-8000-{n:012d}", prefix)
        token = central.add_device(*(token_halls or (hall,)), name=f"laptop {n}")
        return ctx, connect(ctx, central.url, token, **kw)

    return make


def api(central: Central, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=central.url + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5.0,
    )


def wire_event(device_id: str, **fields: Any) -> dict[str, Any]:
    base = {
        "id": str(uuid.uuid4()),
        "ticket_id": str(uuid.uuid4()),
        "kind": "created",
        "payload": {},
        "device_id": device_id,
        "actor": "tester",
        "occurred_at": "2026-11-28T07:30:00+00:00",
        "hlc": "1764315000000-00000",
    }
    base.update(fields)
    return base


def created(device_id: str, ref: str, hall: str = "A101", **fields: Any) -> dict[str, Any]:
    payload = {"ref": ref, "device_seq": int(ref.split("-")[1]), "hall_code": hall, "title": "t"}
    return wire_event(device_id, payload=payload, **fields)


# --------------------------------------------------------------------------- round trips


def test_round_trip_both_ways(laptop: Callable[..., Laptop], central: Central) -> None:
    ctx, client = laptop("LAPA")
    a = ctx.desk.create(TicketDraft(title="Projector has no signal", seat="12", category="av"))
    ctx.desk.respond(a.ref, "On my way")
    b = ctx.desk.create(TicketDraft(title="جهاز العرض لا يعمل", priority="high"))
    ctx.desk.add_note(b.ref, "ملاحظة [bold]x[/]")
    web = central.store.create_ticket(
        TicketDraft(title="Web form: cannot log in", channel="web_form", hall_code="A101")
    )
    other_hall = central.store.create_ticket(
        TicketDraft(title="B201 PC broken", channel="phone", hall_code="B201")
    )
    assert unacked(ctx) == 4

    report = client.sync()
    assert report.outcome == "ok", report.message
    assert (report.pushed, report.duplicates, report.parked_total) == (4, 0, 0)
    assert report.pulled == 5  # its own four come back, plus the web-form ticket
    assert report.exit_code == 0 and report.pending == 0
    assert central.store.ticket(a.ref).status == "in_progress"
    local = ctx.desk.get(web.ref)
    assert (local.title, local.channel, local.origin_device) == (
        "Web form: cannot log in",
        "web_form",
        central.store.central_device_id,
    )
    with pytest.raises(TicketNotFound):
        ctx.desk.get(other_hall.ref)  # another hall's ticket never reaches this laptop
    assert_converged(central.store, [ctx], {"A101"})

    # Level 2 verifies centrally; the laptop sees it on the next pull. Nothing else moves.
    ctx.desk.resolve(a.ref, "cable reseated")
    client.sync()
    central.store.act(a.ref, "verified", {"note": "checked"})
    again = client.sync()
    assert (again.pushed, again.pulled) == (0, 1)
    assert ctx.desk.get(a.ref).status == "verified"
    quiet = client.sync()
    assert (quiet.pushed, quiet.pulled, quiet.duplicates) == (0, 0, 0)
    assert_converged(central.store, [ctx], {"A101"})


def test_push_is_idempotent_and_answers_per_event(central: Central) -> None:
    token = central.add_device("A101")
    with api(central, token) as http:
        hello = http.post(
            "/sync/hello", json={"device_id": "dev-1", "ref_prefix": "KKKK", "issued": 0}
        )
        assert hello.status_code == 200 and hello.json()["ref_prefix"] == "KKKK"
        first = created("dev-1", "KKKK-1")
        note = wire_event(
            "dev-1",
            ticket_id=first["ticket_id"],
            kind="note",
            payload={"text": "hi"},
            hlc="1764315000001-00000",
        )
        bad_kind = wire_event("dev-1", ticket_id=first["ticket_id"], kind="teleported")
        batch = {"events": [first, note, bad_kind]}
        one = http.post("/sync/push", json=batch).json()
        assert [r["status"] for r in one["results"]] == ["applied", "applied", "rejected"]
        assert one["results"][2]["reason"].startswith("unknown_kind")
        seqs = [r["seq"] for r in one["results"][:2]]
        assert seqs[1] == seqs[0] + 1 and one["head"] == seqs[1]
        # The same batch again (a lost answer, a double delivery): nothing new, same numbers.
        two = http.post("/sync/push", json=batch).json()
        assert [r["status"] for r in two["results"]] == ["duplicate", "duplicate", "rejected"]
        assert [r["seq"] for r in two["results"][:2]] == seqs
        assert two["head"] == one["head"]
        # A different copy of a stored id: the stored one is canonical and comes back.
        changed = dict(note, payload={"text": "edited"})
        three = http.post("/sync/push", json={"events": [changed]}).json()
        assert three["results"][0]["status"] == "duplicate"
        assert three["results"][0]["canonical"]["payload"] == {"text": "hi"}
    assert len(central.store.events()) == 2


def test_event_validation_reasons(central: Central) -> None:
    token = central.add_device("A101")
    with api(central, token) as http:
        http.post("/sync/hello", json={"device_id": "dev-1", "ref_prefix": "KKKK", "issued": 0})
        ok = created("dev-1", "KKKK-1")
        cases = {
            "wrong_device": created("someone-else", "KKKK-2"),
            "forbidden_hall": created("dev-1", "KKKK-3", hall="B201"),
            "wrong_prefix": created("dev-1", "ZZZZ-4"),
            "bad_hlc": created("dev-1", "KKKK-5", hlc="yesterday"),
            "naive_time": created("dev-1", "KKKK-6", occurred_at="2026-11-28T07:30:00"),
            "bad_payload": wire_event("dev-1", payload={"ref": "KKKK-7", "hall_code": "A101"}),
            "unknown_ticket": wire_event("dev-1", kind="note", payload={"text": "x"}),
            "ref_taken": created("dev-1", "KKKK-1"),
            "payload_too_large": wire_event(
                "dev-1", ticket_id=ok["ticket_id"], kind="note", payload={"text": "x" * 70_000}
            ),
        }
        body = {"events": [ok, *cases.values()]}
        results = http.post("/sync/push", json=body).json()["results"]
    assert results[0]["status"] == "applied"
    for (reason, _), result in zip(cases.items(), results[1:], strict=True):
        assert result["status"] == "rejected", reason
        assert result["reason"].startswith(reason), (reason, result["reason"])


# --------------------------------------------------------------------------- security


def test_401_without_a_valid_token(laptop: Callable[..., Laptop], central: Central) -> None:
    with httpx.Client(base_url=central.url + "/api/v1", timeout=5.0) as http:
        assert http.get("/sync/pull").status_code == 401
        assert http.post("/sync/push", json={"events": []}).status_code == 401
        wrong = http.get("/sync/pull", headers={"Authorization": "Bearer " + "x" * 43})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        assert http.get("/health").status_code == 200  # liveness needs no token
    _ctx, client = laptop("LAPA")
    device = central.store.devices()[-1]
    central.store.revoke_device(device.id)
    report = client.sync()
    assert (report.outcome, report.exit_code) == ("unauthorized", 2)


def test_a_device_can_neither_read_nor_write_another_halls_tickets(
    laptop: Callable[..., Laptop], central: Central
) -> None:
    ctx_a, client_a = laptop("AAAA", hall="A101")
    ctx_b, client_b = laptop("BBBB", hall="B201")
    b_ticket = ctx_b.desk.create(TicketDraft(title="B201 projector"))
    assert client_b.sync().outcome == "ok"
    # Laptop A tries to write into B201: a new ticket there, and a note on B's ticket.
    sneaky = ctx_a.desk.create(TicketDraft(title="filed for B201", hall_code="B201"))
    with ctx_a.db.write() as s:  # forge an event on B's ticket id in A's database
        s.add(Ticket(**ctx_b.desk.get(b_ticket.ref).model_dump()))
        s.flush()
        s.add(
            TicketEvent(
                id=str(uuid.uuid4()),
                ticket_id=b_ticket.id,
                kind="note",
                payload='{"text": "hello from A101"}',
                device_id=ctx_a.desk.device.device_id,
                actor="mallory",
                occurred_at=ctx_a.clock.now(),
                hlc="9000000000000-00000",
            )
        )
    report = client_a.sync()
    assert (report.outcome, report.exit_code, report.parked_total) == ("parked", 4, 2)
    reasons = {p.reason.split(":")[0] for p, _e, _r in client_a.parked()}
    assert reasons == {"forbidden_hall", "unknown_ticket"}
    assert central.store.ticket(b_ticket.ref).event_count == 1
    with pytest.raises(TicketNotFound):
        central.store.ticket(sneaky.ref)
    # Reading: A's pulls never contain B201 events, whatever the cursor.
    token_a = central.add_device("A101")
    with api(central, token_a) as http:
        http.post("/sync/hello", json={"device_id": "dev-x", "ref_prefix": "XXXX", "issued": 0})
        page = http.get("/sync/pull", params={"since": 0, "limit": 1000}).json()
    assert b_ticket.id not in {e["ticket_id"] for e in page["events"]}


def test_request_size_and_batch_limits(
    live_server: tuple[LiveServer, SwappableApp],
    central_db_url: str,
    clock: FixedClock,
    make_ctx: Callable[..., AppContext],
) -> None:
    server, swappable = live_server
    store = CentralStore.open(central_db_url, load_config(None), clock)
    swappable.app = create_app(
        CentralSettings(
            store=store, clock=clock, sla_interval=0, max_body_bytes=20_000, max_batch=3
        )
    )
    try:
        _device, token = store.add_device("small", ["A101"])
        with httpx.Client(
            base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}
        ) as http:
            big = http.post("/sync/push", content=b"{" + b" " * 30_000 + b"}")
            assert big.status_code == 413 and big.json()["detail"]["code"] == "body_too_large"

            def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
                yield b'{"events": ['
                for _ in range(100):
                    yield b" " * 1000
                yield b"]}"

            chunked = http.post("/sync/push", content=chunks())
            assert chunked.status_code == 413
            http.post("/sync/hello", json={"device_id": "d", "ref_prefix": "QQQQ", "issued": 0})
            many = {"events": [created("d", f"QQQQ-{i}") for i in range(1, 5)]}
            too_many = http.post("/sync/push", json=many)
            assert too_many.status_code == 413 and too_many.json()["detail"]["code"] == (
                "batch_too_large"
            )
        # The client splits a refused batch until it fits, and parks only the one event that
        # cannot fit at all (with the reason).
        ctx = make_ctx(config=laptop_config(), name="small")
        pin(ctx, "00000000-0000-4000-8000-0000000000aa", "SMAL")
        _d2, token2 = store.add_device("small laptop", ["A101"])
        client = connect(ctx, server.url, token2, batch_size=8)
        refs = [ctx.desk.create(TicketDraft(title=f"t{i}")).ref for i in range(6)]
        ctx.desk.add_note(refs[0], "n" * 10_000)  # 10 kB: fits once split off
        ctx.desk.add_note(refs[1], "ن" * 10_000)  # 20 kB of UTF-8: never fits
        report = client.sync()
        assert (report.outcome, report.pushed, report.parked_total) == ("parked", 7, 1)
        [(parked, event, ref)] = client.parked()
        assert (event is not None, ref) == (True, refs[1])
        assert parked.status_code == 413 and "body_too_large" in parked.reason
    finally:
        swappable.app = None
        store.close()


def test_token_file_is_private_and_never_printed(
    make_ctx: Callable[..., AppContext],
    central: Central,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from classroom_support.cli import main

    ctx = make_ctx(config=laptop_config(), name="cli")
    db = ctx.paths.database
    config = ctx.paths.config_file
    ctx.close()
    token = central.add_device("A101", name="cli laptop")
    source = db.parent / "token.txt"
    source.write_text(token + "\n")
    caplog.set_level("DEBUG")
    code = main(["connect", central.url, "--token-file", str(source), "--db", str(db),
                 "--config", str(config)])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert token not in out.out + out.err + caplog.text
    assert token[:4] + "…" in out.out and "cli laptop" in out.out
    saved = token_path(db)
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    assert saved.read_text().strip() == token
    with sqlite3.connect(db) as conn:  # the URL is in the database, the token is not
        assert conn.execute("SELECT central_url FROM sync_state").fetchone() == (central.url,)
    # Not in any byte of the database files (iterdump cannot read the contentless search
    # tables; the raw pages hold every row, and freed pages too).
    for part in db.parent.glob(db.name + "*"):
        if part != saved and part.is_file():
            assert token.encode() not in part.read_bytes(), part.name


def test_tls_certificates_are_verified_by_default(
    make_ctx: Callable[..., AppContext], tmp_path: Path
) -> None:
    """A server with a self-signed certificate is refused (treated as not reachable)."""
    import shutil
    import socket
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    handshakes: list[str] = []

    def serve_once() -> None:
        listener.settimeout(5)
        try:
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError) as exc:
            handshakes.append(type(exc).__name__)
        finally:
            listener.close()

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    ctx = make_ctx(config=laptop_config(), name="tls")
    client = SyncClient(ctx.db, ctx.config, ctx.clock, sleep=Sleeps(), attempts=1)
    assert client.verify is True
    client.configure(f"https://127.0.0.1:{port}", "t" * 43)
    report = client.sync()
    thread.join(timeout=10)
    assert report.outcome == "offline" and "CERTIFICATE_VERIFY_FAILED" in report.message
    assert handshakes  # the server saw the handshake fail


# --------------------------------------------------------------------------- the cursor


def test_sequence_is_assigned_in_commit_order_under_concurrent_pushes(
    central: Central,
) -> None:
    """Writers push concurrently while a reader follows the cursor: the reader sees every
    event exactly once, and every page's sequence numbers are gap-free up to its cursor."""
    writers = 4
    per_writer = 12
    tokens = [central.add_device("A101") for _ in range(writers)]
    reader_token = central.add_device("A101")
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with api(central, tokens[i]) as http:
                prefix = f"W{i}WW"
                device = f"dev-w{i}"
                http.post(
                    "/sync/hello", json={"device_id": device, "ref_prefix": prefix, "issued": 0}
                )
                for n in range(1, per_writer + 1):
                    r = http.post("/sync/push", json={"events": [created(device, f"{prefix}-{n}")]})
                    assert r.json()["results"][0]["status"] == "applied"
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    seen: list[int] = []
    cursor = 0
    with api(central, reader_token) as http:
        http.post("/sync/hello", json={"device_id": "reader", "ref_prefix": "RDRR", "issued": 0})
        for _ in range(2000):
            page = http.get("/sync/pull", params={"since": cursor, "limit": 5}).json()
            seen += [e["seq"] for e in page["events"]]
            assert page["cursor"] >= cursor
            cursor = page["cursor"]
            done = not any(t.is_alive() for t in threads) and not page["has_more"]
            if done and len(seen) == writers * per_writer:
                break
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert sorted(seen) == seen and len(set(seen)) == len(seen) == writers * per_writer
    everything = {e["seq"] for e in central.store.events()}
    assert set(seen) == everything


def test_pages_cover_events_and_rows_without_gaps(central: Central, clock: FixedClock) -> None:
    token = central.add_device("A101")
    with api(central, token) as http:
        http.post("/sync/hello", json={"device_id": "d", "ref_prefix": "PAGE", "issued": 0})
        for n in range(1, 12):
            http.post("/sync/push", json={"events": [created("d", f"PAGE-{n}")]})
            central.store.put_session(
                {
                    "id": f"s{n}",
                    "hall_code": "A101",
                    "course": f"Course {n}",
                    "starts_at": (clock.now() + timedelta(hours=n)).isoformat(),
                    "ends_at": (clock.now() + timedelta(hours=n + 1)).isoformat(),
                    "updated_at": clock.now().isoformat(),
                }
            )
        items: list[tuple[str, int]] = []
        cursor = 0
        pages = 0
        while True:
            page = http.get("/sync/pull", params={"since": cursor, "limit": 4}).json()
            pages += 1
            batch = [("e", e["seq"]) for e in page["events"]] + [
                (t[0], r["seq"]) for t in ("sessions", "closures", "roster") for r in page[t]
            ]
            assert len(batch) <= 4
            items += batch
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        assert cursor == page["head"]
    seqs = [s for _k, s in items]
    assert len(seqs) == len(set(seqs)) == page["head"]  # every change exactly once
    assert sum(1 for k, _s in items if k == "e") == 11 and pages == -(-page["head"] // 4)


def backup_of(store: CentralStore, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A copy of the central database as it is now: what a restore from backup brings back."""
    if store.is_sqlite:
        backup = tmp_path / "backup.sqlite3"
        with (
            sqlite3.connect(store.engine.url.database or "") as src,
            sqlite3.connect(backup) as dst,
        ):
            src.backup(dst)
        return str(backup)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    store.engine.dispose()  # CREATE DATABASE ... TEMPLATE needs the source to be idle
    copy = server.copy_database(store.engine.url.database or "")
    return server.url(copy)


def test_server_restored_from_a_backup_gets_everything_again(
    laptop: Callable[..., Laptop],
    central: Central,
    live_server: Any,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    ctx, client = laptop("REST")
    ctx.desk.create(TicketDraft(title="before the backup"))
    assert client.sync().outcome == "ok"
    backup = backup_of(central.store, tmp_path, request)
    for i in range(3):
        ctx.desk.create(TicketDraft(title=f"after the backup {i}"))
    assert client.sync().outcome == "ok"
    before = client.state().cursor
    # Disaster: the server comes back from the backup and forgets the last three tickets.
    _server, swappable = live_server
    restored = CentralStore.open(backup, load_config(None), ctx.clock)
    swappable.app = create_app(CentralSettings(store=restored, clock=ctx.clock, sla_interval=0))
    try:
        assert restored.head() < before
        report = client.sync()
        assert report.outcome == "ok", report.message
        assert "restored" in report.message
        assert len(restored.tickets()) == 4 and unacked(ctx) == 0
        assert_converged(restored, [ctx], {"A101"})
    finally:
        swappable.app = central.app
        restored.close()


# --------------------------------------------------------------------------- identity


def test_reference_prefix_collisions_are_refused_or_avoided(
    laptop: Callable[..., Laptop], central: Central
) -> None:
    ctx_a, client_a = laptop("SAME")
    ctx_a.desk.create(TicketDraft(title="first laptop"))
    assert client_a.sync().outcome == "ok"
    # A second laptop that happened to draw the same prefix but has numbered nothing yet:
    # the server gives it another one before it numbers anything.
    ctx_b, client_b = laptop("SAME")
    assert client_b.sync().outcome == "ok"
    new_prefix = ctx_b.desk.device.ref_prefix
    assert new_prefix != "SAME"
    assert ctx_b.desk.create(TicketDraft(title="second laptop")).ref == f"{new_prefix}-1"
    # A third one that already numbered tickets with the taken prefix is refused (bad setup).
    ctx_c, client_c = laptop("SAME")
    ctx_c.desk.create(TicketDraft(title="third laptop"))
    report = client_c.sync()
    assert (report.outcome, report.exit_code) == ("conflict", 2)
    assert "prefix_taken" in report.message
    assert unacked(ctx_c) == 1  # kept, not parked: it goes up once the setup is fixed


def test_a_token_belongs_to_one_laptop(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    token = central.add_device("A101")
    first = make_ctx(config=laptop_config(), name="one")
    pin(first, "00000000-0000-4000-8000-000000000101", "ONEE")
    second = make_ctx(config=laptop_config(), name="two")
    pin(second, "00000000-0000-4000-8000-000000000102", "TWOO")
    assert connect(first, central.url, token).sync().outcome == "ok"
    report = connect(second, central.url, token).sync()
    assert report.outcome == "conflict" and "device_mismatch" in report.message


# --------------------------------------------------------------------------- rows


def test_sessions_and_closures_merge_last_writer_wins_with_tombstones(
    laptop: Callable[..., Laptop], central: Central, clock: FixedClock
) -> None:
    ctx_a, client_a = laptop("SESA")
    ctx_b, client_b = laptop("SESB")
    draft = SessionDraft("Networks", "Huda", "2026-11-29", "17:00", "19:00")
    row = ctx_a.sessions.add(draft)
    holiday = ctx_a.closures.upcoming(clock.now().date())[0]
    clock.advance(timedelta(minutes=1))
    ctx_a.closures.delete(holiday.id)
    sync_until_quiet([client_a, client_b])
    assert ctx_b.sessions.get(row.id) is not None and ctx_b.sessions.get(row.id).course == (
        "Networks"
    )
    with ctx_b.db.read() as s:
        assert s.get(ClosureRow, holiday.id).deleted
    # Both edit the same session while cut off; B's edit is later and wins everywhere.
    clock.advance(timedelta(minutes=1))
    ctx_a.sessions.update(
        row.id, SessionDraft("Networks (A)", "Huda", "2026-11-29", "17:00", "19:00")
    )
    clock.advance(timedelta(minutes=1))
    ctx_b.sessions.update(
        row.id, SessionDraft("Networks (B)", "Huda", "2026-11-29", "17:00", "20:00")
    )
    sync_until_quiet([client_a, client_b])
    for ctx in (ctx_a, ctx_b):
        got = ctx.sessions.get(row.id)
        assert got is not None and (got.course, got.sync_pending) == ("Networks (B)", False)
    [server_row] = [r for r in central.store.session_rows() if r["id"] == row.id]
    assert server_row["course"] == "Networks (B)"
    # A central edit of an older version loses against the laptop's newer one, and says so.
    stale = dict(
        server_row, course="stale", updated_at=(clock.now() - timedelta(days=1)).isoformat()
    )
    assert central.store.put_session(stale)["status"] == "superseded"
    # A delete (tombstone) from the centre reaches both laptops; the calendar notices.
    clock.advance(timedelta(minutes=1))
    central.store.put_session(dict(server_row, deleted=True, updated_at=clock.now().isoformat()))
    report = client_a.sync()
    assert report.calendar_changed
    assert ctx_a.sessions.get(row.id).deleted


def test_a_laptop_edit_with_a_slow_clock_still_beats_what_it_edited(
    laptop: Callable[..., Laptop], central: Central, clock: FixedClock
) -> None:
    ctx, client = laptop("SLOW")
    start = clock.now()
    central.store.put_session(
        {
            "id": "s-central",
            "hall_code": "A101",
            "course": "From the centre",
            "starts_at": (start + timedelta(days=1)).isoformat(),
            "ends_at": (start + timedelta(days=1, hours=2)).isoformat(),
            "updated_at": (start + timedelta(hours=1)).isoformat(),  # written "in the future"
        }
    )
    client.sync()
    ctx.sessions.delete("s-central")  # the laptop's clock says an hour earlier
    assert client.sync().outcome == "ok"
    [row] = [r for r in central.store.session_rows() if r["id"] == "s-central"]
    assert row["deleted"]


def test_roster_comes_from_the_centre_once_it_has_sent_one(
    make_ctx: Callable[..., AppContext],
    live_server: tuple[LiveServer, SwappableApp],
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    server, swappable = live_server
    cfg = tmp_path / "central.toml"
    cfg.write_text(
        '[[roster]]\nid = "general_manager"\ntitle = "Director General"\n'
        'title_ar = "المدير العام"\n'
        '[[roster]]\nid = "quality"\ntitle = "Quality lead"\ntitle_ar = "مسؤول الجودة"\n',
        encoding="utf-8",
    )
    store = CentralStore.open(tmp_path / "c.sqlite3", load_config(cfg), clock)
    swappable.app = create_app(CentralSettings(store=store, clock=clock, sla_interval=0))
    try:
        ctx = make_ctx(config=laptop_config(), name="roster")
        pin(ctx, "00000000-0000-4000-8000-0000000000ee", "ROST")
        _d, token = store.add_device("r", ["A101"])
        assert connect(ctx, server.url, token).sync().rows_pulled >= 2
        path, db = ctx.paths.config_file, ctx.paths.database
        ctx.close()
        reopened = open_context(path, db, clock=clock)  # start-up must not put config's back
        try:
            with reopened.db.read() as s:
                titles = {r.id: r.title for r in s.exec(select(RosterEntry)).all()}
                assert s.get(MetaEntry, "roster_source") is not None
            assert titles == {"general_manager": "Director General", "quality": "Quality lead"}
        finally:
            reopened.close()
    finally:
        swappable.app = None
        store.close()


# --------------------------------------------------------------------------- SLA, conflicts


def test_the_server_escalates_an_offline_halls_ticket_and_both_sides_agree(
    laptop: Callable[..., Laptop], central: Central, clock: FixedClock
) -> None:
    ctx, client = laptop("SLAA")
    t = ctx.desk.create(TicketDraft(title="Nobody answers", priority="high"))
    assert client.sync().outcome == "ok"
    clock.advance(timedelta(days=12))  # 48 working hours and more have passed
    recorded = central.store.run_sla()
    kinds = sorted(r["kind"] for r in recorded)
    assert "sla_breached" in kinds and "escalated" in kinds
    assert central.store.ticket(t.ref).escalation_level >= 1
    # The laptop, offline, reaches the same conclusions: same deterministic ids.
    local = ctx.sla.run(notify=False)
    assert {a.kind for a in local.alerts} >= {"sla_breached", "escalated"}
    mine = {e.id for e in ctx.desk.history(t.id) if e.kind != "created"}
    assert mine == {r["id"] for r in recorded}
    report = client.sync()
    assert report.outcome == "ok"
    assert report.pushed == 0 and report.duplicates == len(mine)  # one event each, not two
    history = ctx.desk.history(t.id)
    assert len(history) == len({e.id for e in history}) == 1 + len(mine)
    assert all(e.device_id == central.store.central_device_id for e in history[1:])
    assert ctx.desk.get(t.ref).conflicts == 0
    assert_converged(central.store, [ctx], {"A101"})


def test_concurrent_status_changes_resolve_the_same_way_everywhere(
    laptop: Callable[..., Laptop], central: Central, clock: FixedClock
) -> None:
    ctx_a, client_a = laptop("CONA")
    ctx_b, client_b = laptop("CONB")
    t = ctx_a.desk.create(TicketDraft(title="Shared ticket"))
    ctx_a.desk.respond(t.ref, "looking")
    sync_until_quiet([client_a, client_b])
    # Cut off from each other: A resolves, B pauses a moment later, the centre reassigns.
    clock.advance(timedelta(minutes=1))
    ctx_a.desk.resolve(t.ref, "fixed")
    clock.advance(timedelta(minutes=1))
    ctx_b.desk.pause(t.ref, "waiting for the trainee")
    central.store.act(t.ref, "assigned", {"assignee": "Level 2"})
    sync_until_quiet([client_a, client_b])
    final = ctx_a.desk.get(t.ref)
    assert final.status == "resolved" and final.assignee == "Level 2"
    assert final.conflicts == 1  # B's pause came after the resolve: kept as history only
    assert ctx_b.desk.get(t.ref).model_dump() == final.model_dump()
    assert len(ctx_b.desk.history(t.id)) == 5
    assert_converged(central.store, [ctx_a, ctx_b], {"A101"})


# --------------------------------------------------------------------------- transport


def test_clock_skew_is_measured_and_kept(
    laptop: Callable[..., Laptop],
    central: Central,
    live_server: tuple[LiveServer, SwappableApp],
    clock: FixedClock,
) -> None:
    _ctx, client = laptop("SKEW")
    _server, swappable = live_server
    ahead = FixedClock(clock.now() + timedelta(minutes=10))
    swappable.app = create_app(CentralSettings(store=central.store, clock=ahead, sla_interval=0))
    report = client.sync()
    assert report.skew_ms == 600_000
    status = client.status()
    assert status.skew_ms == 600_000 and status.skew_warning and status.online


def test_offline_busy_and_retry_after(
    laptop: Callable[..., Laptop], central: Central, proxy: FaultyProxy, clock: FixedClock
) -> None:
    ctx, client = laptop("BUSY")
    client.configure(proxy.url, client.token() or "")
    ctx.desk.create(TicketDraft(title="x"))
    sleeps = client.sleep
    assert isinstance(sleeps, Sleeps)
    # 429 with Retry-After: 1 -> the client waits exactly that long and carries on.
    proxy.plan("429")
    assert client.sync().outcome == "ok"
    assert sleeps.waits == [1.0]
    # The link is down: every transport error means offline, exit code 3, backoff recorded.
    proxy.down = True
    ctx.desk.create(TicketDraft(title="y"))
    report = client.sync()
    assert (report.outcome, report.exit_code) == ("offline", 3)
    state = client.state()
    assert state.failures == 1 and state.next_attempt_at is not None
    assert state.last_result == "offline" and not client.status().online
    # A scheduled run before the backoff has passed does not even try.
    before = proxy.requests
    assert client.sync(manual=False).outcome == "waiting" and proxy.requests == before
    proxy.down = False
    # 503 over and over: busy, and the next attempt waits at least Retry-After.
    proxy.plan("503", "503", "503", "503")
    busy = client.sync()
    assert busy.outcome == "busy" and busy.retry_at is not None
    assert busy.retry_at >= clock.now() + timedelta(seconds=1)
    # A stale keep-alive connection (the server closes without an answer) is offline too.
    proxy.plan("drop_before")
    assert client.sync().outcome == "ok"
    assert any("RemoteProtocolError" in e.detail for e in client.log_entries()) or (
        any("ReadError" in e.detail for e in client.log_entries())
    )


def test_retry_after_parsing_and_backoff_bounds(clock: FixedClock) -> None:
    from classroom_support.sync import Backoff

    assert parse_retry_after("7", clock.now()) == 7.0
    later = (clock.now() + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, clock.now()) == 30.0
    assert parse_retry_after("soon", clock.now()) is None
    import random

    backoff = Backoff(base=1.0, cap=60.0, rng=random.Random(1))
    for attempt in range(12):
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(0 <= d <= min(60.0, 2**attempt) for d in delays)
    assert max(backoff.delay(20) for _ in range(200)) > 30  # full jitter reaches near the cap


def test_sync_state_survives_reopening(
    laptop: Callable[..., Laptop], central: Central, clock: FixedClock
) -> None:
    ctx, client = laptop("KEEP")
    ctx.desk.create(TicketDraft(title="x"))
    assert client.sync().outcome == "ok"
    path, db = ctx.paths.config_file, ctx.paths.database
    ctx.close()
    again = open_context(path, db, clock=clock)
    try:
        with again.db.read() as s:
            state = s.get(SyncState, 1)
        assert state is not None and state.device_bound
        assert state.cursor == central.store.head() and state.last_result == "ok"
        client = SyncClient(again.db, again.config, clock, sleep=Sleeps())
        assert client.is_configured()
        assert client.sync().pulled == 0  # the cursor was kept with the data
        assert_projection_is_fold(again)
        assert parked_ids(again) == set()
    finally:
        again.close()


def test_upgrade_to_0003_gives_default_holidays_the_shared_ids(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    import classroom_support
    from classroom_support.db import make_engine, open_database
    from classroom_support.syncwire import seed_closure_id

    path = tmp_path / "old.sqlite3"
    engine = make_engine(path)
    cfg = AlembicConfig()
    cfg.set_main_option(
        "script_location", str(Path(classroom_support.__file__).parent / "migrations")
    )
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002_sla")
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO closure (id, start_day, end_day, name, name_ar, estimated, deleted, "
            "updated_at) VALUES (?, ?, ?, ?, '', 0, ?, '2026-01-01 00:00:00')",
            [
                ("random-1", "2026-09-23", "2026-09-23", "National Day", 0),  # a default
                ("random-2", "2026-02-22", "2026-02-22", "Founding Day", 1),  # deleted default
                ("random-3", "2026-12-01", "2026-12-02", "Institute closed", 0),  # own
            ],
        )
    db = open_database(path, tmp_path / "backups")
    with db.engine.connect() as conn:
        rows = {
            r[0]: (r[1], bool(r[2]))
            for r in conn.exec_driver_sql("SELECT id, name, sync_pending FROM closure")
        }
    db.close()
    assert rows == {
        seed_closure_id("2026-09-23", "2026-09-23", "National Day"): ("National Day", False),
        seed_closure_id("2026-02-22", "2026-02-22", "Founding Day"): ("Founding Day", True),
        seed_closure_id("2026-12-01", "2026-12-02", "Institute closed"): ("Institute closed", True),
    }


async def test_the_server_runs_the_sla_job_on_its_own(tmp_path: Path, clock: FixedClock) -> None:
    """The periodic job of `central serve` escalates a ticket with no laptop involved."""
    import asyncio

    store = CentralStore.open(tmp_path / "c.sqlite3", load_config(None), clock)
    try:
        ticket = store.create_ticket(TicketDraft(title="Nobody calls back", hall_code="A101"))
        clock.advance(timedelta(days=12))
        app = create_app(CentralSettings(store=store, clock=clock, sla_interval=0.05))
        async with app.router.lifespan_context(app):
            for _ in range(100):
                await asyncio.sleep(0.05)
                if store.ticket(ticket.ref).escalation_level:
                    break
        assert store.ticket(ticket.ref).escalation_level >= 1
        assert "first_response" in store.ticket(ticket.ref).breached
    finally:
        store.close()
