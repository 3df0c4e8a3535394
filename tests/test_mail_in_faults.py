"""E-mail in when things break, against a real Dovecot: a connection dropped mid-fetch, the
IMAP server restarted between filing and marking, a new UIDVALIDITY, several server workers.
Every message ends up filed exactly once: none twice, none skipped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dovecot_support import DovecotServer, Mailbox
from mail_in_support import mail, poller_for, settings_for, tickets
from postgres_support import ENGINES
from tcp_cut_proxy import CuttingProxy

from classroom_support.central.mail.inbound import MailboxPoller
from classroom_support.central.mail.inbound_parse import read_mail
from classroom_support.central.mail.inbound_route import mail_filing
from classroom_support.central.store import CentralStore
from classroom_support.central.store.mailbox import MailImport
from classroom_support.clock import FixedClock
from classroom_support.config import load_config


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(central_db_url: str, clock: FixedClock) -> Iterator[CentralStore]:
    s = CentralStore.open(central_db_url, load_config(None), clock)
    yield s
    s.close()


def titles(store: CentralStore) -> list[str]:
    return sorted(t.title for t in tickets(store).values())


def numbered(count: int, size: int = 2000) -> list[bytes]:
    return [mail(f"Problem {i:02d}", f"Body {i} " + "x" * size) for i in range(count)]


def assert_each_once(store: CentralStore, count: int) -> None:
    assert titles(store) == [f"Problem {i:02d}" for i in range(count)]
    ledger = store.mail_imports()
    assert [r["outcome"] for r in ledger] == ["ticket"] * count
    assert sorted(r["uid"] for r in ledger) == list(range(1, count + 1))


def test_a_connection_dropped_mid_fetch_files_every_mail_once(
    store: CentralStore, mailbox: Mailbox
) -> None:
    mailbox.append(*numbered(12))
    with CuttingProxy(mailbox.port) as proxy:
        through = Mailbox(mailbox.host, proxy.port, mailbox.user, mailbox.password)
        poller = poller_for(store, through, batch=4)
        polls: list[tuple[int, bool]] = []
        # Each poll is cut further into what the server sends: in the login, the select, a
        # body fetch. Each goes on from where the last one stopped.
        for cut in (300, 900, 3000, 6000, 9000, 12000):
            proxy.cut_after = cut
            report = poller.poll_once()
            polls.append((len(report.tickets), bool(report.error)))
        assert proxy.cuts >= 3 and sum(error for _, error in polls) >= 3
        assert any(filed and error for filed, error in polls)  # cut after some were filed
        poller.poll_once()  # uncut
    assert_each_once(store, 12)


def test_dovecot_restarted_between_filing_and_marking(
    store: CentralStore, dovecot_server: DovecotServer, mailbox: Mailbox
) -> None:
    mailbox.append(*numbered(5))

    class RestartAfterFirst(MailboxPoller):
        restarted = False

        def _file(self, *args: object) -> MailImport:
            done = super()._file(*args)  # type: ignore[arg-type]
            if not self.restarted:
                self.restarted = True
                dovecot_server.restart()  # the connection dies under the poller
            return done

    poller = RestartAfterFirst(store, settings_for(mailbox, batch=2), holder="test")
    first = poller.poll_once()
    assert first.error  # the mark (STORE) or the next fetch met a closed connection
    assert 1 <= len(first.tickets) <= 2  # the chunk fetched before the restart is filed
    again = poller.poll_once()
    assert again.error == "" and len(first.tickets) + len(again.tickets) == 5
    assert_each_once(store, 5)


def test_a_new_uidvalidity_reads_again_without_duplicates(
    store: CentralStore, mailbox: Mailbox
) -> None:
    box = Mailbox(mailbox.host, mailbox.port, mailbox.user, mailbox.password, "Support")
    old = numbered(3)
    box.append(*old)
    poller = poller_for(store, box)
    assert len(poller.poll_once().tickets) == 3
    before = store.mailbox_state(poller.key)
    imap = box.connect()
    try:  # the mailbox is rebuilt: its messages get new UIDs under a new UIDVALIDITY
        assert imap.rename("Support", "Support-old")[0] == "OK"
        assert imap.create("Support")[0] == "OK"
    finally:
        imap.logout()
    box.append(*old, mail("A new one", "After the move."))
    report = poller.poll_once()
    assert (report.tickets != [], report.duplicates) == (True, 3)
    after = store.mailbox_state(poller.key)
    assert after.uidvalidity != before.uidvalidity and after.last_uid == 4
    assert titles(store) == ["A new one", "Problem 00", "Problem 01", "Problem 02"]


def test_one_worker_polls_the_mailbox_at_a_time(store: CentralStore, mailbox: Mailbox) -> None:
    mailbox.append(*numbered(2))
    first = MailboxPoller(store, settings_for(mailbox), holder="worker-1")
    second = MailboxPoller(store, settings_for(mailbox), holder="worker-2")
    assert len(first.poll_once().tickets) == 2
    mailbox.append(mail("Problem 02", "Later."))
    skipped = second.poll_once()
    assert skipped.polled is False and skipped.tickets == []
    assert len(first.poll_once().tickets) == 1  # the holder goes on
    first.release()  # it stops (a worker shutting down): the other takes over at once
    mailbox.append(mail("Problem 03", "Later still."))
    taken = second.poll_once()
    assert taken.polled and len(taken.tickets) == 1
    assert_each_once(store, 4)


def test_a_message_asked_to_be_filed_twice_files_once(store: CentralStore) -> None:
    raw = mail("Twice", "Same message.")
    filing = mail_filing(read_mail(raw), store.config, [], max_attachment_bytes=10)
    key = "k" * 64
    store.start_uidvalidity("box", 7)
    one = store.import_mail("box", 7, 1, key, "a@b.org", filing)
    two = store.import_mail("box", 7, 1, key, "a@b.org", filing)  # a second worker, late
    three = store.import_mail("box", 7, 2, key, "a@b.org", filing)  # copied: another UID
    assert (one.outcome, one.new) == ("ticket", True)
    assert (two.outcome, two.new, two.ref) == ("ticket", False, one.ref)
    assert (three.outcome, three.ref) == ("duplicate", one.ref)
    assert titles(store) == ["Twice"]
    assert store.mailbox_state("box").last_uid == 2
