"""E-mail in, against a real Dovecot: each new message in the support mailbox becomes a ticket
with channel e-mail (or a note on the ticket a reply names); machine-sent mail and mail loops
are refused; hostile mail is stored as text or refused, never a crash."""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dovecot_support import Mailbox
from mail_in_support import OWN, mail, notes, poller_for, tickets
from postgres_support import ENGINES

from classroom_support.central.mail.inbound import inbound_settings
from classroom_support.central.store import CentralStore
from classroom_support.clock import FixedClock
from classroom_support.config import Config, ConfigError, load_config


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(central_db_url: str, clock: FixedClock) -> Iterator[CentralStore]:
    s = CentralStore.open(central_db_url, load_config(None), clock)
    yield s
    s.close()


def only(store: CentralStore) -> object:
    found = list(tickets(store).values())
    assert len(found) == 1, found
    return found[0]


def test_a_mail_becomes_a_ticket_at_the_hall_its_subject_names(
    store: CentralStore, mailbox: Mailbox
) -> None:
    mailbox.append(mail("[A102] Keyboard is broken", "Keys 3 and 4 stick.", name="Huda"))
    report = poller_for(store, mailbox).poll_once()
    assert len(report.tickets) == 1 and report.error == ""
    t = tickets(store)[report.tickets[0]]
    assert (t.hall_code, t.with_desk, t.channel) == ("A102", "hall", "email")
    assert (t.title, t.trainee_contact, t.trainee_name) == (
        "Keyboard is broken",
        "trainee@example.org",
        "Huda",
    )
    assert notes(store, t.ref) == ["Keys 3 and 4 stick."]
    assert mailbox.flags() == {1: "\\Seen"}  # read, for whoever also looks at the mailbox
    # Polling again files nothing more.
    assert poller_for(store, mailbox).poll_once().tickets == []
    assert len(tickets(store)) == 1


def test_a_mail_naming_no_hall_waits_for_the_contact_centre(
    store: CentralStore, mailbox: Mailbox
) -> None:
    mailbox.append(mail("Cannot log in to the platform", "It says my password expired."))
    poller_for(store, mailbox).poll_once()
    t = only(store)
    assert (t.hall_code, t.with_desk) == ("A101", "contact-centre")  # type: ignore[attr-defined]


def test_the_staff_directory_gives_a_known_senders_hall(
    store: CentralStore, mailbox: Mailbox
) -> None:
    store.add_person("Sami", "technician", ["B201"], email="sami@khit.sa")
    mailbox.append(mail("Lab PC 7 will not boot", "Black screen.", sender="Sami@khit.sa"))
    poller_for(store, mailbox).poll_once()
    t = only(store)
    assert (t.hall_code, t.with_desk) == ("B201", "hall")  # type: ignore[attr-defined]


def test_a_reply_naming_a_ticket_adds_a_note_to_it(store: CentralStore, mailbox: Mailbox) -> None:
    mailbox.append(mail("[A101] Projector", "No signal."))
    poller = poller_for(store, mailbox)
    ref = poller.poll_once().tickets[0]
    mailbox.append(
        mail(f"Re: [{ref}] Projector", "Still broken after the restart.", message_id="<r1@x>"),
        mail("Re: [ZZZZ-99] Old thing", "Unknown ref: a new ticket.", message_id="<r2@x>"),
    )
    report = poller.poll_once()
    assert report.notes == [ref] and len(report.tickets) == 1
    assert notes(store, ref)[-1].endswith("Still broken after the restart.")
    assert "trainee@example.org" in notes(store, ref)[-1]  # who wrote it
    assert len(tickets(store)) == 2


@pytest.mark.parametrize("charset", ["windows-1256", "iso-8859-6", "utf-8"])
def test_arabic_in_any_charset_is_decoded(
    store: CentralStore, mailbox: Mailbox, charset: str
) -> None:
    text = "جهاز العرض لا يعمل في القاعة"
    raw = mail("=?utf-8?b?2KzZh9in2LIg2KfZhNi52LHYtg==?=", text, charset=charset)
    assert text.encode(charset) in raw or charset == "utf-8"  # really sent in that charset
    mailbox.append(raw)
    poller_for(store, mailbox).poll_once()
    t = only(store)
    assert t.title == "جهاز العرض"  # type: ignore[attr-defined]
    assert notes(store, t.ref) == [text]  # type: ignore[attr-defined]


def test_html_only_mail_is_kept_as_its_text(store: CentralStore, mailbox: Mailbox) -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>The <b>projector</b> &amp; screen</p><ul><li>no signal</li><li>fan loud</li></ul>"
        '<p>See <a href="https://example.org/x">this</a> [bold]x[/bold]</p></body></html>'
    )
    mailbox.append(mail("HTML only", "", html=html))
    poller_for(store, mailbox).poll_once()
    note = notes(store, only(store).ref)[0]  # type: ignore[attr-defined]
    assert note == (
        "The projector & screen\n\n• no signal\n• fan loud\n\n"
        "See this <https://example.org/x> [bold]x[/bold]"
    )


def test_attachments_are_listed_not_kept(store: CentralStore, mailbox: Mailbox) -> None:
    mailbox.append(
        mail(
            "Error on screen",
            "Photo attached.",
            attachments=[("screen.jpg", b"x" * 3000), ("dump.bin", b"y" * 20_000)],
        )
    )
    poller_for(store, mailbox, max_attachment_bytes=10_000).poll_once()
    note = notes(store, only(store).ref)[0]  # type: ignore[attr-defined]
    lines = note.split("\n")
    assert lines[0] == "Photo attached."
    assert lines[-2] == "• screen.jpg (3 ك.ب)"
    assert lines[-1] == "• dump.bin (20 ك.ب، يتجاوز الحد المسموح)"


def test_machine_sent_mail_and_our_own_are_refused(
    store: CentralStore, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    mailbox.append(
        mail("Out of office", "Back Monday.", headers={"Auto-Submitted": "auto-replied"}),
        mail("Newsletter", "News.", headers={"Precedence": "bulk"}),
        mail("[K7QD-1] received", "Our own acknowledgement.", sender=OWN),
        mail("Undelivered", "Bounce.", headers={"Return-Path": "<>"}),
        mail("A person", "Sent by hand.", headers={"Auto-Submitted": "no"}),
    )
    with caplog.at_level(logging.WARNING, "classroom_support.central.mail"):
        report = poller_for(store, mailbox).poll_once()
    assert report.refused == 4 and len(report.tickets) == 1
    assert only(store).title == "A person"  # type: ignore[attr-defined]
    reasons = [r["reason"] for r in store.mail_imports() if r["outcome"] == "refused"]
    assert reasons == [
        "automatic: Auto-Submitted: auto-replied",
        "automatic: Precedence: bulk",
        "from our own address",
        "automatic: bounce (empty Return-Path)",
    ]
    assert sum("refused" in r.getMessage() for r in caplog.records) == 4


def test_a_sender_over_the_rate_is_refused(store: CentralStore, mailbox: Mailbox) -> None:
    mailbox.append(*(mail(f"Problem {i}", f"Body {i}") for i in range(4)))
    mailbox.append(mail("Someone else", "Fine.", sender="other@example.org"))
    report = poller_for(store, mailbox, sender_limit=2).poll_once()
    assert len(report.tickets) == 3 and report.refused == 2
    assert sorted(t.title for t in tickets(store).values()) == [
        "Problem 0",
        "Problem 1",
        "Someone else",
    ]


HOSTILE = [
    # header injection: an encoded line break in the display name and the subject
    b"From: =?utf-8?b?RXZpbA0KQmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?= <evil@example.org>\r\n"
    b"Subject: =?utf-8?q?Hi=0D=0ABcc:_x@y.org?=\r\nMessage-ID: <h1@x>\r\n\r\nbody\r\n",
    # markup, escape sequences and bidi overrides in subject and body
    b"From: m@example.org\r\nSubject: [b]bold[/b] \x1b[31mred\r\nMessage-ID: <h2@x>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"<script>x</script> \x1b]0;t\x07 \xe2\x80\xae!\r\n",
    # a multipart without its boundary, bad base64 and an unknown charset
    b"From: b@example.org\r\nSubject: broken\r\nMessage-ID: <h3@x>\r\n"
    b'Content-Type: multipart/mixed; boundary="nope"\r\n\r\n--other\r\njunk\r\n',
    b"From: c@example.org\r\nSubject: bad base64\r\nMessage-ID: <h4@x>\r\n"
    b"Content-Type: text/plain; charset=x-unknown-9\r\nContent-Transfer-Encoding: base64\r\n"
    b"\r\n!!!not base64 at all===\r\n",
    # no usable sender at all: refused
    b"From: undisclosed\r\nSubject: who?\r\nMessage-ID: <h5@x>\r\n\r\nbody\r\n",
    b"\x00\x01\x02 not a mail at all \xff\xfe\r\n",
]


def test_hostile_mail_is_stored_as_text_or_refused(store: CentralStore, mailbox: Mailbox) -> None:
    mailbox.append(*HOSTILE)
    mailbox.append(mail("A normal mail after them", "Fine."))
    report = poller_for(store, mailbox).poll_once()
    assert report.error == ""
    assert len(report.tickets) == 5 and report.refused == 2
    by_sender = {t.trainee_contact: t for t in tickets(store).values()}
    evil = by_sender["evil@example.org"]
    assert "\n" not in evil.trainee_name and "\r" not in evil.trainee_name
    assert evil.trainee_name == "Evil Bcc: victim@example.org"
    assert evil.title == "Hi Bcc: x@y.org"
    marked = by_sender["m@example.org"]
    assert "\x1b" not in marked.title and marked.title.startswith("[b]bold[/b]")
    note = notes(store, marked.ref)[0]
    assert note.startswith("<script>x</script>") and "\x1b" not in note and "\x07" not in note
    assert "broken" in {t.title for t in tickets(store).values()}
    assert "bad base64" in {t.title for t in tickets(store).values()}
    assert "A normal mail after them" in {t.title for t in tickets(store).values()}
    reasons = sorted(r["reason"] for r in store.mail_imports() if r["outcome"] == "refused")
    assert reasons == ["no sender address", "no sender address"]


def test_a_huge_mail_is_refused_unread(store: CentralStore, mailbox: Mailbox) -> None:
    mailbox.append(mail("Huge", "x" * 200_000), mail("Small", "ok"))
    report = poller_for(store, mailbox, max_message_bytes=100_000).poll_once()
    assert len(report.tickets) == 1 and report.refused == 1
    refused = [r for r in store.mail_imports() if r["outcome"] == "refused"]
    assert refused[0]["reason"].startswith("too large (")
    assert only(store).title == "Small"  # type: ignore[attr-defined]


def test_the_channel_reads_its_settings_from_the_mail_section(tmp_path: Path) -> None:
    assert inbound_settings(Config()) is None  # no imap: no mailbox is read
    path = tmp_path / "config.toml"
    path.write_text(
        '[mail]\nimap = "imap://desk:pw@127.0.0.1:1143?plain"\nfrom = "support@khit.sa"\n'
        'imap_folder = "Support"\nimap_interval = 15\nimap_sender_limit = 3\n'
        "imap_sender_window = 600\nmax_attachment_bytes = 1000\n"
    )
    settings = inbound_settings(load_config(path))
    assert settings is not None
    assert settings.mailbox_key == "imap://desk@127.0.0.1:1143/Support"  # no password
    assert (settings.interval, settings.sender_limit, settings.sender_window) == (15, 3, 600)
    assert settings.own_addresses == ("support@khit.sa", "info@khit.sa")
    assert settings.max_attachment_bytes == 1000
    path.write_text('[mail]\nimap = "imap://h"\nimap_sender_limit = 0\n')
    with pytest.raises(ConfigError, match=r"mail\.imap_sender_limit"):
        load_config(path)


def test_bodies_are_fetched_in_bounded_groups_and_filed_in_order(
    store: CentralStore, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from classroom_support.central.mail import inbound

    monkeypatch.setattr(inbound, "FETCH_BYTES", 5000)  # two or three of these mails per group
    body_fetches: list[str] = []
    real_uid = imaplib.IMAP4.uid

    def counting_uid(self: imaplib.IMAP4, command: str, *args: str) -> Any:
        if command == "FETCH" and "BODY.PEEK[]" in args[-1]:
            body_fetches.append(args[0])
        return real_uid(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", counting_uid)
    mailbox.append(
        *(mail(f"Problem {i}", "x" * 1500) for i in range(3)),
        mail("Huge", "y" * 200_000),
        *(mail(f"Problem {i}", "x" * 1500) for i in range(3, 7)),
    )
    report = poller_for(store, mailbox, max_message_bytes=100_000).poll_once()
    assert report.error == "" and report.refused == 1
    assert [tickets(store)[ref].title for ref in report.tickets] == [
        f"Problem {i}" for i in range(7)
    ]
    assert [r["uid"] for r in store.mail_imports()] == list(range(1, 9))
    assert body_fetches == ["1,2", "3", "5,6", "7,8"]  # the huge one (4) never fetched
