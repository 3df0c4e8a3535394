"""End to end: a mail put into the support mailbox (a real Dovecot) is filed by the poller of a
real `central serve` (configured by `[mail] imap`), and the hall laptop's next sync brings it
into its queue. With two server workers, each mail is still filed once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from central_process import CentralProcess
from dovecot_support import Mailbox
from mail_in_support import mail
from postgres_support import ENGINES
from smtp_support import SmtpServer
from sqlalchemy import select
from sync_support import connect, laptop_config, pin

from classroom_support.central import models as m
from classroom_support.central.store import CentralStore
from classroom_support.clock import FixedClock
from classroom_support.config import load_config
from classroom_support.context import AppContext
from classroom_support.tickets import QueueQuery

PATIENCE_S = 60.0  # how long the server's poller may take on a busy machine (not a measure)


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def mail_config(tmp_path: Path, box: Mailbox, smtp: SmtpServer | None = None) -> Path:
    path = tmp_path / "central.toml"
    path.write_text(
        "[mail]\n"
        f'imap = "imap://{box.user}:{box.password}@{box.host}:{box.port}?plain"\n'
        "imap_interval = 0.2\n" + (f'smtp = "{smtp.url}"\n' if smtp else "")
    )
    return path


def wait_for_imports(store: CentralStore, count: int, served: CentralProcess) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while store.mail_import_count() < count:
        assert time.monotonic() < deadline, f"the poller filed nothing: {served.tail()}"
        time.sleep(0.1)


def test_a_mail_reaches_the_hall_laptops_queue_and_its_sender_is_told(
    make_ctx: Callable[..., AppContext],
    mailbox: Mailbox,
    smtp_server: SmtpServer,
    central_db_url: str,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    store = CentralStore.open(central_db_url, load_config(None), clock)
    try:
        with CentralProcess(
            central_db_url,
            tmp_path / "serve.log",
            config=mail_config(tmp_path, mailbox, smtp_server),
            extra=["--mail-interval", "0.2"],
        ) as served:
            _device, token = store.add_device("desk A101", ["A101"])
            ctx = make_ctx(config=laptop_config(), name="desk")
            pin(ctx, "00000000-0000-4000-8000-0000000000a1", "LIVE")
            client = connect(ctx, served.url, token)
            assert client.sync().outcome == "ok"
            assert ctx.desk.queue(QueueQuery()).rows == []
            mailbox.append(mail("[A101] Projector shows no signal", "Since this morning."))
            wait_for_imports(store, 1, served)
            assert client.sync().outcome == "ok"
            rows = ctx.desk.queue(QueueQuery()).rows
            assert [(t.title, t.channel, t.trainee_contact, t.hall_code) for t in rows] == [
                ("Projector shows no signal", "email", "trainee@example.org", "A101")
            ]
            history = ctx.desk.history(rows[0].id)
            assert [e.kind for e in history] == ["created", "note"]
            assert json.loads(history[1].payload)["text"] == "Since this morning."
            # The outgoing side acknowledges it: one mail to the sender, with the ref.
            deadline = time.monotonic() + PATIENCE_S
            while not smtp_server.to("trainee@example.org"):
                assert time.monotonic() < deadline, f"no acknowledgement: {served.tail()}"
                time.sleep(0.1)
            [ack] = smtp_server.to("trainee@example.org")
            assert rows[0].ref in ack.subject
            assert served.server_errors() == [], served.tail()
    finally:
        store.close()


def test_two_server_workers_file_each_mail_once(
    mailbox: Mailbox, central_db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    store = CentralStore.open(central_db_url, load_config(None), clock)
    try:
        with CentralProcess(
            central_db_url,
            tmp_path / "serve.log",
            workers=2,
            config=mail_config(tmp_path, mailbox),
        ) as served:
            mailbox.append(*(mail(f"Problem {i}", f"Body {i}") for i in range(6)))
            wait_for_imports(store, 6, served)
            with store.read() as conn:
                titles = sorted(r[0] for r in conn.execute(select(m.tickets.c.title)))
            assert titles == [f"Problem {i}" for i in range(6)]
            assert [r["outcome"] for r in store.mail_imports()] == ["ticket"] * 6
            assert served.server_errors() == [], served.tail()
    finally:
        store.close()
