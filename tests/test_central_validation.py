"""The central server refuses what it cannot serve back (issue 14, item 3), against a real
server on 127.0.0.1: deep, non-finite or otherwise unservable payloads are refused per item,
422 answers are always JSON, a poison row from an older server is skipped by pull and reported
by `central check`, and a Hypothesis test pushes arbitrary JSON and pulls it all back."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from postgres_support import ENGINES
from sqlalchemy import insert
from sync_support import Central

from classroom_support.central import models as m
from classroom_support.central.store import CentralStore, StoreError
from classroom_support.central.validation import MAX_DEPTH, echo_safe_errors
from classroom_support.cli import main
from classroom_support.clock import FixedClock
from classroom_support.tickets import EVENT_KINDS, TicketDraft

DEVICE = "dev-poison"
PREFIX = "PSNX"


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL (tests/postgres_support.py)."""
    return str(request.param)


def strict_json(text: str) -> Any:
    """Parse as JSON and nothing more: Python's parser also reads NaN and Infinity."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


class Device:
    """A raw sync client for one hall laptop (the protocol, without the laptop's client)."""

    def __init__(self, central: Central, device_id: str = DEVICE, prefix: str = PREFIX) -> None:
        token = central.add_device("A101", name=f"tester {device_id}")
        self.http = httpx.Client(
            base_url=central.url + "/api/v1",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=30.0,
        )
        hello = self.post(
            "/sync/hello", {"device_id": device_id, "ref_prefix": prefix, "issued": 0}
        )
        assert hello.status_code == 200, hello.text
        self.hlc = 1764315000000
        self.ticket_id = str(uuid.uuid4())
        self.refs = 0

    def post(self, path: str, body: Any) -> httpx.Response:
        # json.dumps writes NaN/Infinity as Python does: what a careless client would send.
        return self.http.post(path, content=json.dumps(body).encode())

    def event(self, kind: str, payload: Any, ticket_id: str | None = None) -> dict[str, Any]:
        self.hlc += 1
        return {
            "id": str(uuid.uuid4()),
            "ticket_id": ticket_id or self.ticket_id,
            "kind": kind,
            "payload": payload,
            "device_id": DEVICE,
            "actor": "tester",
            "occurred_at": "2026-11-28T07:30:00+00:00",
            "hlc": f"{self.hlc:013d}-00000",
        }

    def created(self) -> dict[str, Any]:
        self.refs += 1
        ref = f"{PREFIX}-{self.refs}"
        payload = {"ref": ref, "device_seq": self.refs, "hall_code": "A101", "title": "t"}
        return self.event("created", payload, ticket_id=self.ticket_id)

    def push(self, *events: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.post("/sync/push", {"events": list(events)})
        assert response.status_code == 200, response.text[:500]
        results: list[dict[str, Any]] = strict_json(response.text)["results"]
        return results

    def pull_all(self, since: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Every event after `since`, page by page; the final cursor."""
        events: list[dict[str, Any]] = []
        for _ in range(100):
            response = self.http.get("/sync/pull", params={"since": since, "limit": 50})
            assert response.status_code == 200, response.text[:500]
            page = strict_json(response.text)
            events.extend(page["events"])
            since = page["cursor"]
            if not page["has_more"]:
                return events, since
        raise AssertionError("pull did not finish")

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def device(central: Central) -> Iterator[Device]:
    d = Device(central)
    assert [r["status"] for r in d.push(d.created())] == ["applied"]
    yield d
    d.close()


def nested(depth: int, leaf: Any = 0) -> dict[str, Any]:
    """A payload object `depth` containers deep (the object itself is level 1)."""
    value = leaf
    for i in range(depth - 1):
        value = [value] if i % 2 else {"k": value}
    return {"v": value}


# --------------------------------------------------------------------------- refused per item


def test_a_deep_payload_is_refused_alone_and_the_hall_keeps_pulling(
    central: Central, device: Device
) -> None:
    deep = device.event("note", {"text": "x", "extra": nested(256)})
    limit = device.event("note", nested(MAX_DEPTH))
    over = device.event("note", nested(MAX_DEPTH + 1))
    after = device.event("note", {"text": "after"})
    results = device.push(deep, limit, over, after)
    assert [r["status"] for r in results] == ["rejected", "applied", "rejected", "applied"]
    assert results[0]["reason"].startswith("bad_payload: too_deep")
    assert results[2]["reason"].startswith("bad_payload: too_deep")
    events, cursor = device.pull_all()
    by_id = {e["id"]: e for e in events}
    assert deep["id"] not in by_id and over["id"] not in by_id
    assert by_id[limit["id"]]["payload"] == limit["payload"]
    assert by_id[after["id"]]["payload"] == {"text": "after"}
    assert cursor == central.store.head()
    # A second device of the same hall gets everything too.
    other = Device(central, "dev-other", "PSNY")
    try:
        assert {e["id"] for e in other.pull_all()[0]} == set(by_id)
    finally:
        other.close()


def test_non_finite_numbers_in_a_payload_are_refused_alone(device: Device) -> None:
    cases = [{"n": float("nan")}, {"n": [1, {"x": float("inf")}]}, {"n": -float("inf")}]
    fine = device.event("note", {"n": -0.0, "big": 10**30, "text": "ok"})
    events = [device.event("note", p) for p in cases]
    results = device.push(*events, fine)
    assert [r["status"] for r in results] == ["rejected"] * 3 + ["applied"]
    assert all(r["reason"].startswith("bad_payload: non_finite") for r in results[:3])
    raw = device.http.post(
        "/sync/push",
        content=(
            b'{"events": [' + json.dumps(device.event("note", {})).encode()[:-1] + b"}]}"
        ).replace(b'"payload": {}', b'"payload": {"n": 1e999999}'),
    )
    assert raw.status_code == 200
    [result] = strict_json(raw.text)["results"]
    assert result["status"] == "rejected" and "non_finite" in result["reason"]
    pulled = {e["id"]: e for e in device.pull_all()[0]}
    assert pulled[fine["id"]]["payload"] == {"n": -0.0, "big": 10**30, "text": "ok"}
    assert not {e["id"] for e in events} & set(pulled)


def test_lone_surrogates_in_a_payload_are_refused_alone(device: Device) -> None:
    bad = device.event("note", {"text": "\ud800"})
    good = device.event("note", {"text": "سلام"})
    results = device.push(bad, good)
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert results[0]["reason"].startswith("bad_payload: bad_text")


# --------------------------------------------------------------------------- 4xx, always JSON


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sync/hello", b'{"device_id": "d", "ref_prefix": "ABCD", "issued": 1e999999}'),
        ("/sync/hello", b'{"device_id": "d", "ref_prefix": "ABCD", "issued": NaN}'),
        ("/sync/hello", b'{"device_id": -Infinity, "ref_prefix": "ABCD", "issued": 0}'),
        ("/sync/push", b'{"events": [{"id": 1e999999}]}'),
        ("/sync/push", b'{"events": 1e999999}'),
        ("/sync/push", b'{"events": [], "sessions": [{"id": "s", "starts_at": 1e999999}]}'),
    ],
)
def test_non_finite_numbers_in_typed_fields_give_a_422_that_is_json(
    central: Central, path: str, body: bytes
) -> None:
    token = central.add_device("A101")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=central.url + "/api/v1", headers=headers, timeout=10) as http:
        response = http.post(path, content=body)
    assert response.status_code == 422, response.text[:300]
    detail = strict_json(response.text)["detail"]
    assert detail and all("loc" in d and "msg" in d for d in detail)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{", b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"\xff\xfe"],
)
def test_a_body_that_is_not_json_or_too_deep_gives_a_4xx_that_is_json(
    central: Central, body: bytes
) -> None:
    token = central.add_device("A101")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=central.url + "/api/v1", headers=headers, timeout=10) as http:
        for path in ("/sync/hello", "/sync/push"):
            response = http.post(path, content=body)
            assert 400 <= response.status_code < 500, (path, response.status_code)
            strict_json(response.text)


def test_safe_errors_never_echo_what_json_cannot_carry() -> None:
    errors = [
        {"type": "t", "loc": ("body", "x"), "msg": "m", "input": float("inf"), "ctx": {"a": 1}},
        {"type": "t", "loc": ("body", "\udcff"), "msg": "m", "input": {"deep": [[[]]]}},
        {"type": "t", "loc": ("body",), "msg": "m", "input": 10**100, "ctx": {"e": ValueError()}},
        {"type": "t", "loc": ("body",), "msg": "m", "input": "\ud800" + "y" * 1000},
    ]
    text = json.dumps(echo_safe_errors(errors), ensure_ascii=False, allow_nan=False)
    safe = strict_json(text)
    text.encode("utf-8")
    assert [("input" in e) for e in safe] == [False, False, False, True]
    assert len(safe[3]["input"]) <= 200


# --------------------------------------------------------------------------- poison rows


def _store_like_an_old_server(store: CentralStore, ticket_id: str, payload_text: str) -> str:
    """Insert an event row the way a server without today's checks did: no validation."""
    event_id = str(uuid.uuid4())
    now = store.clock.now()
    with store.write() as conn:
        head = store._lock_head(conn) + 1
        conn.execute(
            insert(m.events).values(
                id=event_id,
                seq=head,
                ticket_id=ticket_id,
                hall_code="A101",
                kind="note",
                payload=payload_text,
                device_id=DEVICE,
                actor="old server",
                occurred_at=now,
                hlc=f"{int(now.timestamp() * 1000) + 10:013d}-00000",
                received_at=now,
                pushed_by="old",
            )
        )
        store._set_head(conn, head)
    return event_id


def test_a_poison_row_is_skipped_by_pull_and_reported_by_central_check(
    central: Central,
    device: Device,
    central_db_url: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = device.event("note", {"text": "before"})
    assert device.push(before)[0]["status"] == "applied"
    deep = _store_like_an_old_server(
        central.store, device.ticket_id, json.dumps({"extra": nested(256)})
    )
    nan = _store_like_an_old_server(central.store, device.ticket_id, '{"n": NaN}')
    after = device.event("note", {"text": "after"})
    assert device.push(after)[0]["status"] == "applied"
    # The whole page, with small pages too (a poison row last on a page still moves the cursor).
    with caplog.at_level(logging.WARNING, logger="classroom_support.central"):
        events, cursor = device.pull_all()
        for limit in (1, 2, 3):
            since, seen = 0, []
            for _ in range(20):
                page = strict_json(
                    device.http.get("/sync/pull", params={"since": since, "limit": limit}).text
                )
                seen += [e["id"] for e in page["events"]]
                since = page["cursor"]
                if not page["has_more"]:
                    break
            assert seen == [e["id"] for e in events] and since == cursor
    ids = [e["id"] for e in events]
    assert before["id"] in ids and after["id"] in ids
    assert deep not in ids and nan not in ids
    assert cursor == central.store.head()
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert deep in warned and nan in warned
    # The laptop that sent `before` again gets a plain duplicate; a poison id is never echoed.
    again = device.push(before, dict(before, id=deep, payload={"text": "retry"}))
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert again[1].get("canonical") is None
    capsys.readouterr()
    assert main(["central", "check", "--db", central_db_url]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if deep in line] and [line for line in out if nan in line]
    assert all("cannot be served" in line for line in out if deep in line or nan in line)


def test_central_check_is_quiet_on_a_sound_database(
    central: Central, device: Device, central_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    device.push(device.event("note", {"text": "hello"}), device.event("responded", {}))
    central.store.create_ticket(TicketDraft(title="by phone", hall_code="A101"))
    capsys.readouterr()
    assert main(["central", "check", "--db", central_db_url]) == 0
    assert capsys.readouterr().out.strip() == "ok: no problems found"


def test_central_check_finds_a_counter_behind_its_rows(
    central: Central, device: Device, central_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with central.store.write() as conn:
        central.store._set_head(conn, central.store._lock_head(conn) - 1)
    capsys.readouterr()
    assert main(["central", "check", "--db", central_db_url]) == 1
    out = capsys.readouterr().out
    assert "above the counter" in out


def test_a_central_edit_cannot_store_an_unservable_payload(central: Central) -> None:
    ticket = central.store.create_ticket(TicketDraft(title="t", hall_code="A101"))
    with pytest.raises(StoreError, match="too_deep"):
        central.store.act(ticket.ref, "note", nested(MAX_DEPTH + 1))
    assert central.store.ticket(ticket.ref).event_count == 1


# --------------------------------------------------------------------------- Hypothesis

NON_CREATED = [k for k in EVENT_KINDS if k != "created"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([float("nan"), float("inf"), -float("inf"), -0.0, 5e-324, 1.7e308])
    | st.sampled_from([2**63, -(2**63) - 1, 10**40])
    | st.text(st.characters(codec="utf-8"), max_size=20)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


@st.composite
def deep_values(draw: st.DrawFn) -> Any:
    """Nesting beyond what st.recursive reaches: up to twice the limit."""
    value = draw(values)
    for _ in range(draw(st.integers(1, 2 * MAX_DEPTH))):
        value = [value] if draw(st.booleans()) else {draw(st.text(max_size=3)): value}
    return value


payloads = st.dictionaries(st.text(max_size=10), values | deep_values(), max_size=5)
batches = st.lists(st.tuples(st.sampled_from(NON_CREATED), payloads), min_size=1, max_size=4)


def canonical(value: Any) -> str:
    """Equality that also tells 1 from 1.0 and 0.0 from -0.0."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=batches)
def test_whatever_is_pushed_is_refused_with_a_reason_or_pulled_back_unchanged(
    central: Central, device: Device, batch: list[tuple[str, dict[str, Any]]]
) -> None:
    events = [device.event(kind, payload) for kind, payload in batch]
    results = device.push(*events)
    assert len(results) == len(events)
    pulled = {e["id"]: e for e in device.pull_all()[0]}
    for pushed, result in zip(events, results, strict=True):
        event(f"{result['status']} {result.get('reason', '').split(':')[:2]}")
        if result["status"] == "rejected":
            assert result["reason"], result
            assert pushed["id"] not in pulled
            continue
        assert result["status"] == "applied", result
        back = pulled[pushed["id"]]
        assert (back["kind"], canonical(back["payload"])) == (
            pushed["kind"],
            canonical(pushed["payload"]),
        )
    assert central.store.integrity_problems() == []


def test_session_rows_with_bad_shapes_are_refused_per_row(
    central: Central, device: Device, clock: FixedClock
) -> None:
    start = clock.now()
    good = {
        "id": "s-good",
        "hall_code": "A101",
        "course": "Python",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "updated_at": start.isoformat(),
    }
    backwards = dict(good, id="s-back", ends_at=(start - timedelta(hours=1)).isoformat())
    response = device.post("/sync/push", {"events": [], "sessions": [good, backwards]})
    assert response.status_code == 200
    rows = strict_json(response.text)["rows"]
    assert [r["status"] for r in rows] == ["applied", "rejected"]
