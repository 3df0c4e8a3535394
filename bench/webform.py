"""The trainee web form under load: submit-to-durable-ticket latency, and concurrent posts
against the rate limit. Against the real central server in its own process on 127.0.0.1.

    .venv/bin/python bench/webform.py                     # 500 submits; 8 clients x 50 posts
    .venv/bin/python bench/webform.py --submits 100 --clients 4 --posts 20

1. Latency. `classroom-support central serve` (SQLite, synchronous=FULL) with the rate limit
   lifted (`--form-rate 1000000`). One httpx client does, N times: GET /form (the baseline: a
   rendered page with a fresh CSRF cookie and field), then POST /form with the token from that
   page. A post is timed until its 303 arrives, which is after the ticket and its `created`
   event are committed: the ticket is durable. Afterwards the server is stopped and the
   tickets are counted in its database (must equal N, all channel web_form).
2. Load, with the production-like limit (`--form-rate 30` per client address per minute, the
   window far longer than the run): C client threads post P times each, as fast as they can
   (GET then POST, like a browser). Two cases: every client from its own loopback address
   (127.0.0.2, .3, ...: each must get exactly 30 tickets and P-30 answers 429) and all clients
   from one address (a NAT: 30 tickets in all). Time-bounded (--deadline). Goal: 0 transport
   errors, 0 5xx, no post over the limit accepted, the ticket count in the database exact.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from benchlib import (
    REPO,
    command_line,
    ensure_data_dir,
    machine_info,
    print_machine,
    summary,
    write_results,
)

TOKEN_RE = re.compile(r'name="csrf" value="([^"]+)"')
LOAD_LIMIT = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`classroom-support central serve` in a subprocess, on its own SQLite file."""

    def __init__(self, folder: Path, form_rate: int) -> None:
        self.db = folder / "central.sqlite3"
        self.port = free_port()
        argv = ["central", "serve", "--db", str(self.db), "--port", str(self.port)]
        argv += ["--sla-interval", "0", "--log-level", "warning", "--form-rate", str(form_rate)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "classroom_support.cli", *argv],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/api/v1/health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("the central server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def tickets(self) -> Counter[str]:
        """Tickets per channel in the server's database (after it stopped)."""
        import sqlite3

        conn = sqlite3.connect(self.db)
        try:
            return Counter(
                dict(conn.execute("SELECT channel, count(*) FROM central_ticket GROUP BY channel"))
            )
        finally:
            conn.close()


def form_token(client: httpx.Client) -> tuple[str, httpx.Response]:
    page = client.get("/form?hall=A101&seat=12")
    found = TOKEN_RE.search(page.text)
    if page.status_code != 200 or found is None:
        raise RuntimeError(f"GET /form answered {page.status_code}")
    return found.group(1), page


def submit(client: httpx.Client, token: str, n: int) -> httpx.Response:
    return client.post(
        "/form",
        data={
            "csrf": token,
            "hall": "A101",
            "hall_from_link": "1",
            "seat": "12",
            "title": f"جهاز العرض لا يعمل — طلب رقم {n}",
            "name": "متدرب",
            "contact": "0551234567",
            "category": "av",
        },
    )


def latency(folder: Path, submits: int) -> dict[str, Any]:
    server = Server(folder / "latency", form_rate=1_000_000)
    get_ms: list[float] = []
    post_ms: list[float] = []
    try:
        with httpx.Client(base_url=server.url, timeout=10.0) as client:
            for n in range(20):  # warm-up: imports, templates, the secret, SQLite caches
                token, _ = form_token(client)
                submit(client, token, -(n + 1))  # titles unlike the measured ones
            for n in range(submits):
                t0 = time.perf_counter()
                token, _ = form_token(client)
                t1 = time.perf_counter()
                response = submit(client, token, n)
                t2 = time.perf_counter()
                if response.status_code != 303:
                    raise RuntimeError(f"POST answered {response.status_code}")
                get_ms.append((t1 - t0) * 1000)
                post_ms.append((t2 - t1) * 1000)
    finally:
        server.stop()
    stored = server.tickets()
    get_s, post_s = summary(get_ms), summary(post_ms)
    return {
        "submits": submits,
        "get_form_ms": get_s,
        "post_to_durable_ticket_ms": post_s,
        "ratio_post_over_get": {
            "p50": round(post_s["p50"] / get_s["p50"], 2),
            "p99": round(post_s["p99"] / get_s["p99"], 2),
        },
        "tickets_in_database": dict(stored),
        "tickets_ok": stored == Counter({"web_form": submits + 20}),
    }


def load_case(
    folder: Path, name: str, clients: int, posts: int, addresses: list[str], deadline: float
) -> dict[str, Any]:
    server = Server(folder / name, form_rate=LOAD_LIMIT)
    statuses: list[Counter[str]] = [Counter() for _ in range(clients)]
    stop_at = time.monotonic() + deadline

    def run(i: int) -> None:
        transport = httpx.HTTPTransport(local_address=addresses[i % len(addresses)])
        with httpx.Client(base_url=server.url, timeout=10.0, transport=transport) as client:
            for n in range(posts):
                if time.monotonic() > stop_at:
                    statuses[i]["not_sent_deadline"] += 1
                    continue
                try:
                    token, _ = form_token(client)
                    statuses[i][str(submit(client, token, n).status_code)] += 1
                except (httpx.TransportError, RuntimeError) as exc:
                    statuses[i][f"error:{type(exc).__name__}"] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server.stop()
    total: Counter[str] = sum(statuses, Counter())
    distinct = len(set(addresses[i % len(addresses)] for i in range(clients)))
    expected_created = min(posts, LOAD_LIMIT) * distinct if distinct == clients else LOAD_LIMIT
    stored = server.tickets()
    bad = sum(v for k, v in total.items() if k.startswith(("5", "error", "not_sent")))
    return {
        "clients": clients,
        "posts_per_client": posts,
        "addresses": sorted(set(addresses[: min(clients, len(addresses))])),
        "limit_per_address_per_minute": LOAD_LIMIT,
        "seconds": round(elapsed, 2),
        "posts_per_s": round(sum(total.values()) / elapsed, 1),
        "statuses": dict(total),
        "per_client": [dict(s) for s in statuses],
        "tickets_in_database": dict(stored),
        "expected_tickets": expected_created,
        "verdict": "MET"
        if bad == 0
        and total.get("303", 0) == expected_created
        and stored == Counter({"web_form": expected_created})
        and total.get("429", 0) == clients * posts - expected_created
        else "NOT MET",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submits", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds per load case")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    ensure_data_dir()
    info = machine_info()
    print(f"# {command_line()}")
    print_machine(info)
    with tempfile.TemporaryDirectory(prefix="bench-webform-") as tmp:
        folder = Path(tmp)
        lat = latency(folder, args.submits)
        g, p = lat["get_form_ms"], lat["post_to_durable_ticket_ms"]
        print(
            f"GET /form          p50 {g['p50']:.2f} ms  p99 {g['p99']:.2f} ms  (n={g['n']})\n"
            f"POST /form -> 303  p50 {p['p50']:.2f} ms  p99 {p['p99']:.2f} ms  "
            f"(x{lat['ratio_post_over_get']['p50']} / x{lat['ratio_post_over_get']['p99']} "
            f"of GET); tickets stored {lat['tickets_in_database']} ok={lat['tickets_ok']}"
        )
        own = [f"127.0.0.{2 + i}" for i in range(args.clients)]
        cases = {
            "one address per client": load_case(
                folder, "load-own", args.clients, args.posts, own, args.deadline
            ),
            "all clients from one address": load_case(
                folder, "load-shared", args.clients, args.posts, ["127.0.0.1"], args.deadline
            ),
        }
        for name, case in cases.items():
            print(
                f"load, {name}: {case['clients']} x {case['posts_per_client']} posts in "
                f"{case['seconds']} s ({case['posts_per_s']}/s): {case['statuses']}; "
                f"stored {case['tickets_in_database']} (expected {case['expected_tickets']}): "
                f"{case['verdict']}"
            )
    out = write_results(
        "webform",
        {"machine": info, "command": command_line(), "latency": lat, "load": cases},
        args.json,
    )
    print(f"results: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0  # a NOT MET verdict is a finding to write up, not a crash


if __name__ == "__main__":
    sys.exit(main())
