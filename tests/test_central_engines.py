"""The central store on both engines, where they differ: concurrent writers on PostgreSQL
(row locks instead of SQLite's whole-database lock), several servers starting on one new
database, text PostgreSQL cannot store, and the database URL forms an administrator types."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from postgres_support import ENGINES, PostgresServer
from sync_support import Central

from classroom_support.central.kb import CentralKnowledgeBase
from classroom_support.central.store import CentralStore
from classroom_support.clock import FixedClock
from classroom_support.config import load_config
from classroom_support.kb import Article, ArticleError
from classroom_support.syncwire import fold_event
from classroom_support.tickets import TicketDraft, fold

WRITERS = 6
EDITS_EACH = 8


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run_together(count: int, work: Callable[[int], Any]) -> list[BaseException]:
    """Start `count` threads at once on `work(i)`; the errors they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def test_concurrent_central_edits_lose_nothing_in_the_projection(
    central_db_url: str, clock: FixedClock
) -> None:
    """Notes added at once by several Level 2 desks: every one is an event and the ticket row
    still equals the fold of its events (a writer must not fold onto a row it read before it
    held the lock)."""
    store = CentralStore.open(central_db_url, load_config(None), clock)
    try:
        ticket = store.create_ticket(TicketDraft(title="projector", hall_code="A101"))

        def notes(i: int) -> None:
            for n in range(EDITS_EACH):
                store.act(ticket.ref, "note", {"text": f"desk {i} note {n}"})

        assert run_together(WRITERS, notes) == []
        row = store.ticket(ticket.ref)
        events = store.events(ticket.id)
        assert len(events) == 1 + WRITERS * EDITS_EACH
        assert row.event_count == len(events)
        folded = fold([fold_event(e, seq=e["seq"]) for e in events])  # type: ignore[misc]
        assert folded.model_dump() == row.model_dump()
    finally:
        store.close()


def test_several_servers_can_open_one_new_database_at_once(
    empty_central_db_url: str, clock: FixedClock
) -> None:
    """Stateless app servers start together on an empty database: each creates what is
    missing, and they all end up with one identity and one counter."""
    stores: list[CentralStore] = []
    lock = threading.Lock()

    def open_one(_i: int) -> None:
        store = CentralStore.open(empty_central_db_url, load_config(None), clock)
        with lock:
            stores.append(store)

    try:
        errors = run_together(4, open_one)
        assert errors == []
        assert len({(s.central_device_id, s.central_prefix) for s in stores}) == 1
        assert len({s.head() for s in stores}) == 1
    finally:
        for s in stores:
            s.close()


@pytest.mark.postgresql
def test_the_plain_postgresql_url_form_works(
    postgres_server: PostgresServer, clock: FixedClock
) -> None:
    """`postgresql://` (what PostgreSQL's own tools print) uses the driver the project ships,
    not one that is not installed."""
    name = postgres_server.create_database()
    url = postgres_server.url(name).replace("postgresql+psycopg://", "postgresql://")
    store = CentralStore.open(url, load_config(None), clock)
    try:
        assert store.engine.dialect.driver == "psycopg"
        assert store.head() >= 0
    finally:
        store.close()
        postgres_server.drop_database(name)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://support:s3cret-pw@/nowhere?host={tmp}",
        "postgresql+psycopg2://support:s3cret-pw@/nowhere?host={tmp}",
        "mysql://support:s3cret-pw@localhost/nowhere",
    ],
)
def test_an_unusable_database_url_is_one_line_without_the_password(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No server there, or no driver for it: one line naming the database, never a traceback,
    and the password is not printed (it would end up in terminal scrollback and logs)."""
    from classroom_support.cli import main

    code = main(["central", "devices", "--db", url.format(tmp=tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "s3cret-pw" not in err and "***" in err
    assert "Traceback" not in err


def test_text_with_nul_is_refused_item_by_item_on_both_engines(central: Central) -> None:
    """PostgreSQL cannot store U+0000 in text (SQLite can): the server refuses such an item
    with a reason — the rest of the batch is stored — and never answers 500."""
    token = central.add_device("A101")
    with httpx.Client(
        base_url=central.url + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5.0,
    ) as http:
        refused = http.post(
            "/sync/hello", json={"device_id": "dev\x00ice", "ref_prefix": "NULL", "issued": 0}
        )
        assert refused.status_code == 400 and "NUL" in refused.json()["detail"]["message"]
        hello = http.post(
            "/sync/hello", json={"device_id": "dev", "ref_prefix": "NULL"} | {"issued": 0}
        )
        assert hello.status_code == 200
        good = created_event("NULL-1", title="projector")
        bad_title = created_event("NULL-2", title="pro\x00jector")
        bad_actor = created_event("NULL-3", title="ok", actor="Sa\x00mi")
        session = {
            "id": "s-nul",
            "hall_code": "A101",
            "course": "Excel\x00",
            "trainer": "",
            "starts_at": "2026-11-28T07:00:00+00:00",
            "ends_at": "2026-11-28T09:00:00+00:00",
            "updated_at": "2026-11-28T07:00:00+00:00",
            "deleted": False,
        }
        pushed = http.post(
            "/sync/push", json={"events": [bad_title, good, bad_actor], "sessions": [session]}
        )
        assert pushed.status_code == 200, pushed.text
        body = pushed.json()
        statuses = [(r["status"], r["reason"] or "") for r in body["results"]]
        assert [s for s, _ in statuses] == ["rejected", "applied", "rejected"]
        assert "NUL" in statuses[0][1] and "NUL" in statuses[2][1]
        assert body["rows"][0]["status"] == "rejected" and "NUL" in body["rows"][0]["reason"]
        pulled = http.get("/sync/pull", params={"since": 0, "limit": 1000})
        assert pulled.status_code == 200
        assert {e["id"] for e in pulled.json()["events"]} == {good["id"]}
    with httpx.Client(base_url=central.url, timeout=5.0) as web:
        form = web.get("/form?hall=A101")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        posted = web.post(
            "/form",
            data={"hall": "A101", "title": "Pro\x00jector", "csrf": csrf.group(1)},
        )
        assert posted.status_code == 400
    with pytest.raises(ArticleError, match="NUL"):
        CentralKnowledgeBase(central.store).put(
            Article("nul", "Title", body="Body \x00 text"), actor="admin:test"
        )
    assert [t.ref for t in central.store.tickets()] == ["NULL-1"]


def test_nul_in_an_event_key_is_refused_not_a_500(central: Central) -> None:
    """An id, ticket id or ref holding NUL is looked up before the event is checked; PostgreSQL
    refuses NUL even in a WHERE, so that lookup must skip it (found by schemathesis)."""
    token = central.add_device("A101")
    with httpx.Client(
        base_url=central.url + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5.0,
    ) as http:
        hello = http.post(
            "/sync/hello", json={"device_id": "dev", "ref_prefix": "NULL", "issued": 0}
        )
        assert hello.status_code == 200
        good = created_event("NULL-1", title="projector")
        bad_id = created_event("NULL-2", title="ok") | {"id": "e\x00vent"}
        bad_ticket = created_event("NULL-3", title="ok") | {"ticket_id": "t\x00icket"}
        bad_ref = created_event("NULL-4", title="ok")
        bad_ref["payload"]["ref"] = "NULL-4\x00"
        pushed = http.post("/sync/push", json={"events": [bad_id, good, bad_ticket, bad_ref]})
        assert pushed.status_code == 200, pushed.text
        results = pushed.json()["results"]
        assert [r["status"] for r in results] == ["rejected", "applied", "rejected", "rejected"]
        assert all("NUL" in r["reason"] for r in results if r["status"] == "rejected")
    assert [t.ref for t in central.store.tickets()] == ["NULL-1"]


def created_event(ref: str, title: str, actor: str = "Sami") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "ticket_id": str(uuid.uuid4()),
        "kind": "created",
        "payload": {
            "ref": ref,
            "device_seq": int(ref.split("-")[1]),
            "hall_code": "A101",
            "title": title,
        },
        "device_id": "dev",
        "actor": actor,
        "occurred_at": "2026-11-28T07:30:00+00:00",
        "hlc": "1795851000000-00000",
    }
