"""The web form with more than one server process, on SQLite and PostgreSQL: a form token files
at most one ticket (a replayed post, a double click, Back then Send answer with the first
ticket's confirmation), and the rate limit is one count shared by every worker — two apps on
one database in the test server, then `central serve --workers 2` as a real subprocess, and
Back then Send in headless Chromium."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import PHONE, _open_phone
from postgres_support import ENGINES
from sync_support import Central, LiveServer, SwappableApp

from classroom_support import qr
from classroom_support.central.app import CentralSettings, create_app
from classroom_support.central.store import CentralStore
from classroom_support.central.web import WebSettings, configure_web
from classroom_support.cli import main
from classroom_support.clock import FixedClock
from classroom_support.config import load_config

TOKEN_RE = re.compile(r'name="csrf" value="([^"]+)"')
START_TIMEOUT_S = 60


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Clocks:
    def __init__(self) -> None:
        self.wall = 1_800_000_000.0


@pytest.fixture
def clocks(central: Central) -> Clocks:
    c = Clocks()
    configure_web(central.app, WebSettings(rate_per_minute=5, wall_clock=lambda: c.wall))
    return c


@pytest.fixture
def http(central: Central) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=central.url, timeout=10.0, follow_redirects=False) as client:
        yield client


def token(http: httpx.Client, path: str = "/form?hall=A101", **headers: str) -> str:
    response = http.get(path, headers=headers)
    assert response.status_code == 200
    found = TOKEN_RE.search(response.text)
    assert found is not None
    return found.group(1)


def post(
    http: httpx.Client, csrf: str, headers: dict[str, str] | None = None, **fields: str
) -> Any:
    data = {"hall": "A101", "hall_from_link": "1", "title": "Projector", "csrf": csrf, **fields}
    return http.post("/form", data=data, headers=headers or {})


# --------------------------------------------------------------------------- single use


def test_a_replayed_post_files_one_ticket_and_shows_the_first_confirmation(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    csrf = token(http)
    first = post(http, csrf, name="Reem")
    assert first.status_code == 303
    location = first.headers["location"]
    # The captured post, sent again and again (cookie and token): nothing new, same answer.
    for _ in range(3):
        again = post(http, csrf, name="Reem")
        assert (again.status_code, again.headers["location"]) == (303, location)
    [ticket] = central.store.tickets()
    page = http.get(location)
    assert page.status_code == 200 and ticket.ref in page.text and "Reem" in page.text


def test_concurrent_copies_of_one_post_file_one_ticket(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    csrf = token(http)
    cookies = dict(http.cookies)

    def send(_n: int) -> tuple[int, str]:
        with httpx.Client(base_url=central.url, timeout=10.0, cookies=cookies) as c:
            response = post(c, csrf)
            return response.status_code, response.headers.get("location", "")

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(send, range(5)))
    [ticket] = central.store.tickets()
    assert answers == [(303, f"/form/sent/{ticket.id}")] * 5


def test_a_different_problem_on_a_spent_token_comes_back_with_its_text(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    csrf = token(http, "/form?hall=A101&lang=en")
    assert post(http, csrf, lang="en").status_code == 303
    [first] = central.store.tickets()
    # Back to the same page, the text replaced by another problem: not filed, nothing lost.
    other = post(http, csrf, lang="en", title="The login fails too")
    assert other.status_code == 409
    assert f"already sent: it is request \u2066{first.ref}\u2069" in other.text
    assert ">The login fails too</textarea>" in other.text
    renewed = TOKEN_RE.search(other.text)
    assert renewed is not None and renewed.group(1) != csrf
    assert len(central.store.tickets()) == 1
    assert post(http, renewed.group(1), lang="en", title="The login fails too").status_code == 303
    assert sorted(t.title for t in central.store.tickets()) == ["Projector", "The login fails too"]


def test_an_expired_token_shows_its_ticket_or_keeps_the_text(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    used = token(http)
    unused = token(http)  # another tab
    location = post(http, used).headers["location"]
    clocks.wall += 4 * 3600 + 1  # both tokens expired
    again = post(http, used)
    assert (again.status_code, again.headers["location"]) == (303, location)
    late = post(http, unused, title="Typed long ago")
    assert late.status_code == 403 and "انتهت صلاحية النموذج" in late.text
    assert ">Typed long ago</textarea>" in late.text
    assert len(central.store.tickets()) == 1


def test_the_same_problem_from_a_refetched_form_is_not_filed_twice(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    """A browser that fetches the form afresh on Back (new token) and restores the typed text."""
    first = post(http, token(http), title="No sound", seat="4")
    again = post(http, token(http), title="No sound", seat="4")
    assert again.headers["location"] == first.headers["location"]
    with httpx.Client(base_url=central.url, timeout=10.0) as other_phone:
        assert post(other_phone, token(other_phone), title="No sound", seat="4").status_code == 303
    assert len(central.store.tickets()) == 2  # another trainee with the same words: filed


def test_the_rate_count_is_a_sliding_window_and_idle_clients_are_swept(central: Central) -> None:
    store = central.store
    t = 1_800_000_000_000
    assert [store.count_form_post("10.0.0.1", t + d, 2, 60_000) for d in (0, 10_000)] == [0, 0]
    assert store.count_form_post("10.0.0.1", t + 20_000, 2, 60_000) == 40_000  # not counted
    assert store.count_form_post("10.0.0.2", t + 20_000, 2, 60_000) == 0  # per client
    assert store.count_form_post("10.0.0.1", t + 59_999, 2, 60_000) == 1
    assert store.count_form_post("10.0.0.1", t + 60_000, 2, 60_000) == 0  # the first expired
    assert store.count_form_post("10.0.0.1", t + 60_000, 2, 60_000) == 10_000
    assert store.prune_form_rate(t + 80_001 - 60_000) == 1  # 10.0.0.2, idle for the window
    assert store.count_form_post("10.0.0.2", t + 80_001, 2, 60_000) == 0


# --------------------------------------------------------------------------- two workers in-process


@pytest.fixture
def two_workers(
    live_server: tuple[LiveServer, SwappableApp], central_db_url: str, clock: FixedClock
) -> Iterator[tuple[SwappableApp, list[Any], CentralStore]]:
    """Two apps with their own engines and web state on one database, taking turns behind
    the test server, as two worker processes would."""
    _server, swappable = live_server
    stores = [CentralStore.open(central_db_url, load_config(None), clock) for _ in range(2)]
    apps = []
    for store in stores:
        app = create_app(CentralSettings(store=store, clock=clock, sla_interval=0))
        configure_web(app, WebSettings(rate_per_minute=5))
        apps.append(app)
    swappable.app = apps[0]
    yield swappable, apps, stores[0]
    swappable.app = None
    for store in stores:
        store.close()


def test_two_workers_share_the_rate_limit_and_the_spent_tokens(
    live_server: tuple[LiveServer, SwappableApp],
    two_workers: tuple[SwappableApp, list[Any], CentralStore],
) -> None:
    server, _ = live_server
    swappable, apps, store = two_workers
    with httpx.Client(base_url=server.url, timeout=10.0) as http:
        codes = []
        for n in range(10):
            swappable.app = apps[n % 2]
            csrf = token(http)
            swappable.app = apps[(n + 1) % 2]  # the post reaches the other worker
            codes.append(post(http, csrf, title=f"problem {n}").status_code)
        assert codes == [303] * 5 + [429] * 5
        assert len(store.tickets()) == 5
        # A post filed by one worker, replayed on the other: nothing new.
        replayer = {"X-Forwarded-For": "10.9.9.9"}
        swappable.app = apps[0]
        csrf = token(http)
        first = post(http, csrf, headers=replayer, title="replayed")
        swappable.app = apps[1]
        again = post(http, csrf, headers=replayer, title="replayed")
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        assert len(store.tickets()) == 6


# ------------------------------------------------------------------ central serve --workers 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(central_db_url: str, tmp_path: Path) -> Iterator[str]:
    """`classroom-support central serve --workers 2 --form-rate 5` on a free loopback port."""
    port = _free_port()
    argv = [sys.executable, "-m", "classroom_support.cli", "central", "serve", "--workers", "2"]
    argv += ["--port", str(port), "--db", central_db_url, "--sla-interval", "0"]
    argv += ["--form-rate", "5", "--log-level", "warning"]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(argv, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "central serve did not start"
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def test_central_serve_refuses_zero_workers_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["central", "serve", "--workers", "0", "--db", str(tmp_path / "c.sqlite3")])
    err = capsys.readouterr().err
    assert code == 2 and err == "classroom-support central: --workers must be at least 1\n"


def test_central_serve_workers_share_the_limit_and_refuse_a_replayed_token(
    served: str, central_db_url: str
) -> None:
    # A new connection per request, so the kernel hands them to both workers.
    def browser() -> httpx.Client:
        return httpx.Client(
            base_url=served, timeout=20.0, limits=httpx.Limits(max_keepalive_connections=0)
        )

    replayer = {"X-Forwarded-For": "10.0.0.1"}  # uvicorn trusts it from 127.0.0.1
    with browser() as http:
        csrf = token(http, **replayer)
        cookies = dict(http.cookies)

    def replay(_n: int) -> tuple[int, str]:
        with browser() as c:
            c.cookies.update(cookies)
            response = post(c, csrf, headers=replayer, title="replayed")
            return response.status_code, response.headers.get("location", "")

    with ThreadPoolExecutor(max_workers=5) as pool:
        replays = list(pool.map(replay, range(5)))
    assert len({r for r in replays}) == 1 and replays[0][0] == 303, replays

    flooder = {"X-Forwarded-For": "10.0.0.2"}

    def one_post(n: int) -> int:
        with browser() as c:
            return int(
                post(c, token(c, **flooder), headers=flooder, title=f"flood {n}").status_code
            )

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(one_post, range(16)))
    assert codes == [303] * 5 + [429] * 11

    store = CentralStore.open(central_db_url, load_config(None))
    try:
        titles = sorted(t.title for t in store.tickets())
    finally:
        store.close()
    assert titles.count("replayed") == 1 and len(titles) == 6, titles


# --------------------------------------------------------------------------- the browser's Back


@pytest.mark.parametrize("history", ["cached", "refetched"])
def test_back_then_send_in_the_browser_files_one_ticket(
    central: Central, browser: Any, history: str
) -> None:
    """Back shows the form from the browser's history cache (same token); with the cache off
    (Playwright's request routing turns it off) Back fetches a new page and the browser puts
    the typed text back. Either way Send files nothing new."""
    if history == "cached":
        context = browser.new_context(viewport=PHONE, is_mobile=True, locale="ar-SA")
        page = context.new_page()
    else:
        phone = _open_phone(browser)
        context, page = phone.context, phone.page
    try:
        page.goto(qr.web_form_url(central.url, hall="A101", seat="12"))
        sent_token = page.get_attribute("input[name=csrf]", "value")
        page.fill("#title", "The projector shows nothing")
        page.fill("#name", "Reem")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert "/form/sent/" in page.url
        confirmation = page.url
        [ticket] = central.store.tickets()
        assert ticket.ref in page.text_content("main")

        page.go_back()
        assert "/form" in page.url and "/form/sent/" not in page.url
        assert page.input_value("#title") == "The projector shows nothing"
        same_token = page.get_attribute("input[name=csrf]", "value") == sent_token
        assert same_token == (history == "cached")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.url == confirmation
        assert ticket.ref in page.text_content("main")
        assert len(central.store.tickets()) == 1
    finally:
        context.close()
