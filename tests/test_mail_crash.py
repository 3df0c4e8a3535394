"""Mail delivery survives `kill -9` of `central serve` in the middle of a delivery: every cause
keeps its mail, and the one mail that may go out twice is the one the dead server had handed
to the SMTP server but not yet marked sent, with the same Message-ID both times."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from central_process import CentralProcess
from postgres_support import ENGINES
from smtp_support import HOLD, OK, SmtpServer
from sqlalchemy import select

from classroom_support.central import models as m
from classroom_support.central.mail.outbox import SENT
from classroom_support.central.store import CentralStore
from classroom_support.config import load_config
from classroom_support.tickets import TicketDraft

MAILS = 12
WAIT_S = 120.0  # a bound for a busy machine, not a speed claim


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_kill_9_mid_delivery_loses_no_mail(
    central_db_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config_path = tmp_path / "central.toml"
    config_path.write_text(f'[mail]\nsmtp = "{smtp_server.url}"\ntimeout = 2\n', encoding="utf-8")
    config = load_config(config_path)
    store = CentralStore.open(central_db_url, config)
    try:
        for i in range(MAILS):
            store.create_ticket(
                TicketDraft(
                    title=f"Printer {i}",
                    hall_code="A101",
                    channel="email",
                    trainee_contact=f"t{i}@example.org",
                )
            )
        smtp_server.mode = HOLD  # the first DATA waits until released
        extra = ["--mail-interval", "0.2"]
        first = CentralProcess(central_db_url, tmp_path / "a.log", config=config_path, extra=extra)
        first.start()
        try:
            assert smtp_server.holding.wait(WAIT_S), "the server never started a delivery"
            assert first.proc is not None
            os.killpg(first.proc.pid, signal.SIGKILL)  # mid-delivery: DATA sent, no answer yet
            first.proc.wait()
        finally:
            first.stop()
        smtp_server.mode = OK
        smtp_server.release.set()  # the held message completes: delivered, never marked sent
        second = CentralProcess(
            central_db_url, tmp_path / "b.log", config=config_path, workers=2, extra=extra
        )
        with second:
            wait_for(lambda: store.mail_counts()[SENT] == MAILS, "every mail sent")
            assert second.server_errors() == []
        received = smtp_server.messages()
        per_address: dict[str, list[str]] = {}
        for r in received:
            per_address.setdefault(r.recipients[0], []).append(str(r.message["Message-ID"]))
        assert sorted(per_address) == sorted(f"t{i}@example.org" for i in range(MAILS))
        twice = {a: ids for a, ids in per_address.items() if len(ids) > 1}
        # The one in flight at the kill: the SMTP server took it (released after the kill), the
        # dead server never marked it, the next one sent it again, with the same Message-ID.
        [(_address, ids)] = twice.items()
        assert len(ids) == 2 and ids[0] == ids[1]
        # no cause without its mail: every stored `created` event has its outbox row
        with store.read() as conn:
            created = set(
                conn.execute(select(m.events.c.id).where(m.events.c.kind == "created")).scalars()
            )
            causes = set(conn.execute(select(m.mail_outbox.c.cause)).scalars())
        assert created <= causes
    finally:
        store.close()
