"""Mail out: who is told what, the mails themselves, and their delivery to a real SMTP server
(aiosmtpd on 127.0.0.1, tests/smtp_support.py). The central store runs on an injected clock
that the tests move; the sender is stepped by hand so nothing depends on timing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from postgres_support import ENGINES
from smtp_support import DROP, OK, PERMFAIL, TEMPFAIL, SmtpServer, self_signed
from sync_support import LiveServer, SwappableApp, connect, laptop_config, pin

from classroom_support.central.app import CentralSettings, create_app
from classroom_support.central.mail.outbox import DEAD, PENDING, SENT
from classroom_support.central.mail.sender import MailSender
from classroom_support.central.store import CentralStore
from classroom_support.clock import FixedClock
from classroom_support.config import Config, load_config
from classroom_support.context import AppContext
from classroom_support.routing import route_ticket
from classroom_support.tickets import TicketDraft

TECH, CENTRE, L2 = "tech@khit.sa", "centre@khit.sa", "l2@khit.sa"
TRAINING, ADMIN, GM = "training@khit.sa", "admin@khit.sa", "gm@khit.sa"
TRAINEE = "trainee@example.org"
MANAGERS = {TRAINING, ADMIN}


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def mail_config(tmp_path: Path, smtp: SmtpServer, extra: str = "") -> Config:
    path = tmp_path / "central.toml"
    path.write_text(
        f'[central]\nurl = "https://support.khit.sa"\n[mail]\nsmtp = "{smtp.url}"\ntimeout = 5\n'
        + extra,
        encoding="utf-8",
    )
    return load_config(path)


@pytest.fixture
def open_store(
    central_db_url: str, clock: FixedClock, tmp_path: Path, smtp_server: SmtpServer
) -> Iterator[Callable[..., CentralStore]]:
    opened: list[CentralStore] = []

    def factory(extra: str = "") -> CentralStore:
        store = CentralStore.open(central_db_url, mail_config(tmp_path, smtp_server, extra), clock)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


def staff(store: CentralStore) -> None:
    store.add_person("Sami the technician", "technician", ["A101"], TECH, "ar")
    store.add_person("Huda at the contact centre", "L1", [], CENTRE, "")
    store.add_person("Omar of Level 2", "L2", [], L2, "en")
    store.add_person("Training manager", "training_body_manager", [], TRAINING, "ar")
    store.add_person("Admin manager", "administrative_body_manager", [], ADMIN, "en")
    store.add_person("General manager", "general_manager", [], GM, "")
    store.add_person("Someone without mail", "L2", [], "", "")


def deliver(store: CentralStore) -> int:
    sender = MailSender(store)
    total = 0
    while True:
        sent = sender.step()
        total += sent
        if not sent:
            return total


def test_an_unanswered_ticket_tells_each_rung_once_and_the_digest_lists_it(
    open_store: Callable[..., CentralStore], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    """Done when: warning -> the rung's people, breach -> Level 2, then the managers, then the
    general manager, each exactly once, at the working-hour instants; the next digest lists it."""
    store = open_store()
    staff(store)
    ticket = store.create_ticket(
        TicketDraft(
            title="Projector has no signal",
            hall_code="A101",
            channel="phone",
            trainee_contact=TRAINEE,
        )
    )
    deliver(store)
    [received] = smtp_server.to(TRAINEE)
    assert f"[{ticket.ref}] A101" in received.subject
    assert "https://support.khit.sa/status/" + ticket.id in received.text()

    first_seen: dict[str, datetime] = {}
    for _ in range(24 * 14):  # two weeks, hour by hour: the SLA job and the sender each hour
        clock.advance(timedelta(hours=1))
        store.run_sla()
        deliver(store)
        for r in smtp_server.messages():
            for who in r.recipients:
                first_seen.setdefault(f"{who}|{r.subject}", clock.now())
    subjects = {who: [r.subject for r in smtp_server.to(who)] for who in (TECH, CENTRE, L2, GM)}
    # warning: the rung the ticket stands on (L1: the hall's technician and the contact centre)
    for who in (TECH, CENTRE):
        assert [s for s in subjects[who] if "SLA warning" in s or "تنبيه" in s] == subjects[who]
        assert len(subjects[who]) == 1
    # breach: Level 2, once (the breach and the climb to Level 2 are one mail)
    assert len(subjects[L2]) == 1 and "SLA breached" in subjects[L2][0]
    assert "Projector has no signal" in subjects[L2][0] and subjects[L2][0].startswith(
        f"[{ticket.ref}] A101 · "
    )
    for who in MANAGERS:  # their rung, and (8 working hours after the breach) the missing RCA
        kinds = sorted(r.subject.split(" · ")[1] for r in smtp_server.to(who))
        assert kinds in (
            ["Escalated", "Root-cause analysis missing"],
            ["تحليل السبب الجذري غير مسجّل", "تصعيد"],
        ), kinds
    # the general manager: the climb to their rung, and later the resolution clock's warning
    # for the rung the ticket then stands on (theirs)
    gm_mails = smtp_server.to(GM)
    [gm_mail] = [r for r in gm_mails if "Escalated" in r.subject]
    assert [r for r in gm_mails if r is not gm_mail and "SLA warning" not in r.subject] == []
    gm_warnings = [r.subject for r in gm_mails if r is not gm_mail]
    resolution_warning = "اقتراب موعد الحل / SLA warning (resolution)"
    assert gm_warnings and all(resolution_warning in s for s in gm_warnings)
    # ... in that order, at different instants
    when = {
        who: min(t for key, t in first_seen.items() if key.startswith(who + "|"))
        for who in (TECH, L2, TRAINING, GM)
    }
    assert when[TECH] < when[L2] < when[TRAINING] < when[GM]
    # Level 2 writes English (its person's language), the managers' GM has none: both, Arabic first
    l2_text = smtp_server.to(L2)[0].text()
    assert "Late by" in l2_text and "تجاوزت" not in l2_text
    assert "SLA breached (first response)" in subjects[L2][0]
    assert "first-response deadline and is escalated to: Level 2" in l2_text
    gm_text = gm_mail.text()
    assert gm_text.index("المدير العام") < gm_text.index("General Manager")
    # nobody else heard of it, and nobody twice
    everyone = [a for r in smtp_server.messages() for a in r.recipients]
    assert set(everyone) <= {TECH, CENTRE, L2, TRAINING, ADMIN, GM, TRAINEE}
    ids = [(r.message["Message-ID"], tuple(r.recipients)) for r in smtp_server.messages()]
    assert len(ids) == len(set(ids))

    # the next morning's digest (09:30 Riyadh = 06:30 UTC), to the managers, listing it
    tomorrow = clock.now().astimezone(store.config.zone).date() + timedelta(days=1)
    morning = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 6, 29, tzinfo=UTC)
    clock.set(morning)
    assert store.queue_digest() == 0  # not yet 09:30
    clock.advance(timedelta(minutes=1))
    assert store.queue_digest() == 3  # two managers and the general manager
    assert store.queue_digest() == 0  # once a day
    deliver(store)
    for who in (*MANAGERS, GM):
        digests = [r for r in smtp_server.to(who) if "digest" in r.subject or "الملخص" in r.subject]
        assert len(digests) == 1
        assert ticket.ref in digests[0].text()


def trainee_tickets(store: CentralStore, n: int, title: str = "No sound") -> list[str]:
    refs = []
    for i in range(n):
        draft = TicketDraft(
            title=f"{title} {i}", hall_code="A101", channel="email", trainee_contact=TRAINEE
        )
        refs.append(store.create_ticket(draft).ref)
    return refs


def subjects_by_ref(smtp: SmtpServer) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in smtp.messages():
        ref = r.subject.split("]")[0].lstrip("[")
        counts[ref] = counts.get(ref, 0) + 1
    return counts


@pytest.mark.parametrize("fault", ["down", TEMPFAIL, DROP])
def test_smtp_unwell_for_a_while_then_back_delivers_each_once(
    open_store: Callable[..., CentralStore],
    clock: FixedClock,
    smtp_server: SmtpServer,
    fault: str,
) -> None:
    store = open_store()
    if fault == "down":
        smtp_server.stop()
    else:
        smtp_server.mode = fault
    refs = trainee_tickets(store, 5)
    for attempt in range(3):  # three rounds while it is unwell, each after the backoff
        if attempt:
            clock.advance(timedelta(hours=1))
        assert deliver(store) == 0
    waiting = store.mail_rows([PENDING])
    assert len(waiting) == 5 and all(r.attempts == 3 for r in waiting)
    expected = {"down": "cannot reach", TEMPFAIL: "451 4.3.0", DROP: ""}[fault]
    assert all(expected in r.last_error and r.last_error for r in waiting)
    if fault == "down":
        smtp_server.start()  # back on the same port
    smtp_server.mode = OK
    assert deliver(store) == 0  # the backoff: not due yet
    clock.advance(timedelta(minutes=5))
    assert deliver(store) == 5
    assert subjects_by_ref(smtp_server) == dict.fromkeys(refs, 1)
    assert deliver(store) == 0 and store.mail_counts()[SENT] == 5


def test_a_5xx_is_a_dead_letter_with_the_reason_until_retried(
    open_store: Callable[..., CentralStore],
    smtp_server: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    central_db_url: str,
) -> None:
    from classroom_support.cli import main

    store = open_store()
    smtp_server.mode = PERMFAIL
    [ref] = trainee_tickets(store, 1)
    assert deliver(store) == 0
    [dead] = store.mail_rows([DEAD])
    assert dead.last_error == "550 5.1.1 No such user here" and dead.attempts == 1
    config = ["--config", str(tmp_path / "central.toml"), "--db", central_db_url]
    assert main(["central", "mail-queue", "--dead", *config]) == 0
    out = capsys.readouterr().out
    assert "550 5.1.1 No such user here" in out and TRAINEE in out and "1 dead" in out
    smtp_server.mode = OK
    assert deliver(store) == 0  # dead letters wait for a person
    assert main(["central", "mail-retry", str(dead.id), *config]) == 0
    assert main(["central", "mail-retry", "999999", *config]) == 1
    assert deliver(store) == 1
    assert list(subjects_by_ref(smtp_server)) == [ref]
    capsys.readouterr()
    assert main(["central", "mail-queue", "--json", "--sent", *config]) == 0
    assert '"status": "sent"' in capsys.readouterr().out


def test_mail_test_says_what_happened(
    open_store: Callable[..., CentralStore],
    smtp_server: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    central_db_url: str,
) -> None:
    from classroom_support.cli import main

    open_store()  # creates the database with the configuration
    config = ["--config", str(tmp_path / "central.toml"), "--db", central_db_url]
    assert main(["central", "mail-test", "--to", "me@khit.sa", *config]) == 0
    assert "sent to me@khit.sa" in capsys.readouterr().out
    [mail] = smtp_server.to("me@khit.sa")
    assert mail.message["Auto-Submitted"] == "auto-generated"
    smtp_server.stop()
    assert main(["central", "mail-test", "--to", "me@khit.sa", *config]) == 1
    assert "cannot reach" in capsys.readouterr().err
    assert main(["central", "mail-test", "--to", "not an address", *config]) == 2
    assert "not an e-mail address" in capsys.readouterr().err


def test_hostile_text_stays_text_and_cannot_add_headers(
    open_store: Callable[..., CentralStore], smtp_server: SmtpServer
) -> None:
    store = open_store()
    store.add_person("Omar <b>L2</b>\u202e", "L2", [], L2, "en")
    title = 'Screen\r\nBcc: evil@example.org\r\n\r\n<script>alert("x")</script> & <b>bold</b>'
    ticket = store.create_ticket(
        TicketDraft(title=title, hall_code="A101", channel="email", trainee_contact=TRAINEE)
    )
    store.act(ticket.ref, "route", {"to": {"level2": True}, "note": "<i>see</i>"})
    assert deliver(store) == 2
    for mail in smtp_server.messages():
        assert mail.recipients in ([TRAINEE], [L2])
        assert mail.message["Bcc"] is None
        assert "\n" not in mail.subject and "\r" not in mail.subject
        assert "<script>" not in mail.html() and "&lt;script&gt;" in mail.html()
        assert "&amp; &lt;b&gt;bold&lt;/b&gt;" in mail.html()
    [routed] = smtp_server.to(L2)
    assert "Routed to Level 2" in routed.subject
    assert '<script>alert("x")</script>' in routed.text()  # the plain part shows what was typed


def test_the_trainee_hears_received_first_response_waiting_resolved_once_each(
    open_store: Callable[..., CentralStore], smtp_server: SmtpServer
) -> None:
    store = open_store()
    ticket = store.create_ticket(
        TicketDraft(title="Wi-Fi", hall_code="A101", channel="email", trainee_contact=TRAINEE)
    )
    store.act(ticket.ref, "responded", {"note": "looking"})
    store.act(ticket.ref, "note", {"text": "internal: router 3 is flaky"})
    store.act(ticket.ref, "paused", {"reason": "bring your laptop"})
    store.act(ticket.ref, "resumed", {})
    store.act(ticket.ref, "resolved", {"note": "fixed"})
    deliver(store)
    subjects = [r.subject.split(" · ")[1] for r in smtp_server.to(TRAINEE)]
    assert subjects == [
        "استلمنا طلبك / We received your request",
        "بدأنا العمل على طلبك / We are working on your request",
        "طلبك بانتظار ردّك / Waiting for you",
        "تم حل طلبك / Your request is resolved",
    ]
    assert all("router 3" not in r.text() for r in smtp_server.messages())


def test_no_smtp_configured_queues_nothing(
    central_db_url: str, clock: FixedClock, smtp_server: SmtpServer
) -> None:
    store = CentralStore.open(central_db_url, Config(), clock)
    try:
        trainee_tickets(store, 2)
        assert store.mail_counts() == {"pending": 0, "claimed": 0, "sent": 0, "dead": 0}
    finally:
        store.close()


def test_a_person_can_opt_out_of_the_digest(
    open_store: Callable[..., CentralStore],
    clock: FixedClock,
    smtp_server: SmtpServer,
    tmp_path: Path,
    central_db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from classroom_support.cli import main

    store = open_store()
    staff(store)
    admin = next(p for p in store.people() if p.email == ADMIN)
    config = ["--config", str(tmp_path / "central.toml"), "--db", central_db_url]
    assert main(["central", "edit-person", admin.id[:8], "--no-digest", "--json", *config]) == 0
    assert '"digest": false' in capsys.readouterr().out
    clock.set(datetime(2026, 12, 1, 6, 30, tzinfo=UTC))  # 09:30 in Riyadh
    assert store.queue_digest() == 2
    deliver(store)
    assert smtp_server.to(ADMIN) == []
    assert len(smtp_server.to(TRAINING)) == 1 and len(smtp_server.to(GM)) == 1
    assert main(["central", "edit-person", admin.id[:8], "--digest", *config]) == 0
    clock.advance(timedelta(days=1))
    assert store.queue_digest() == 3


def test_a_laptops_push_and_the_web_form_queue_their_mails(
    open_store: Callable[..., CentralStore],
    clock: FixedClock,
    smtp_server: SmtpServer,
    live_server: tuple[LiveServer, SwappableApp],
    make_ctx: Callable[..., AppContext],
) -> None:
    """Events that arrive by sync queue their mails in the push's transaction; a pushed event
    the server already has (the SLA event both machines recorded) queues nothing again."""
    store = open_store()
    staff(store)
    server, swappable = live_server
    swappable.app = create_app(
        CentralSettings(store=store, clock=clock, sla_interval=0, mail_interval=0)
    )
    try:
        _device, token = store.add_device("Hall A101 laptop", ["A101"])
        laptop = make_ctx(config=laptop_config("A101"), name="laptop")
        pin(laptop, "00000000-0000-4000-8000-000000000001", "HALL")
        client = connect(laptop, server.url, token)
        ticket = laptop.desk.create(
            TicketDraft(title="Mic is dead", hall_code="A101", trainee_contact=TRAINEE)
        )
        route_ticket(laptop.desk, ticket.ref, level2=True, note="needs a new cable")
        assert client.sync().outcome == "ok"
        assert client.sync().outcome == "ok"  # nothing new: nothing queued again
        assert sorted(r.kind for r in store.mail_rows([PENDING])) == [
            "routed_l2",
            "trainee_received",
        ]
        # the web form files through the same transaction as its spent token
        filing = store.file_form_ticket(
            TicketDraft(
                title="Form ticket", hall_code="A102", channel="web_form", trainee_contact=TRAINEE
            ),
            "web-form",
            nonce="n" * 32,
            digest="d" * 64,
            browser="b" * 32,
            since=clock.now(),
        )
        assert filing.new
        assert deliver(store) == 3
        refs = sorted(subjects_by_ref(smtp_server))
        assert refs == sorted([ticket.ref, store.ticket(filing.ticket_id).ref])
        [routed] = smtp_server.to(L2)
        assert "needs a new cable" not in routed.text()  # notes stay on the desks
    finally:
        swappable.app = None


def test_who_is_told_what_follows_the_configuration(
    open_store: Callable[..., CentralStore], clock: FixedClock, smtp_server: SmtpServer
) -> None:
    store = open_store(
        '[mail.notify]\nwarning = ["ops@khit.sa"]\nbreach = ["general_manager", "ops@khit.sa"]\n'
        "trainee = []\n"
    )
    staff(store)
    ticket = store.create_ticket(
        TicketDraft(title="Camera", hall_code="A101", channel="email", trainee_contact=TRAINEE)
    )
    while not smtp_server.to(GM):  # until the breach
        clock.advance(timedelta(hours=1))
        store.run_sla()
        deliver(store)
    assert smtp_server.to(TRAINEE) == [] and smtp_server.to(TECH) == []
    assert smtp_server.to(L2) == []  # the breach goes where the configuration says
    ops = [r.subject for r in smtp_server.to("ops@khit.sa")]
    assert len(ops) == 2 and "SLA warning" in ops[0] and "SLA breached" in ops[1]
    assert all(s.startswith(f"[{ticket.ref}] A101 · ") for s in ops)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_tls_and_login_with_the_password_from_the_environment(
    central_db_url: str,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls: str,
) -> None:
    cert, context = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this certificate only
    monkeypatch.setenv("CS_TEST_SMTP_PASSWORD", "s3cret")
    server = SmtpServer(tls=tls, context=context, login=("desk@khit.sa", "s3cret")).start()
    try:
        user_url = server.url.replace("://", "://desk%40khit.sa@")
        path = tmp_path / "central.toml"
        path.write_text(
            f'[mail]\nsmtp = "{user_url}"\npassword_env = "CS_TEST_SMTP_PASSWORD"\n',
            encoding="utf-8",
        )
        store = CentralStore.open(central_db_url, load_config(path), clock)
        try:
            trainee_tickets(store, 1)
            delivered = deliver(store)
            assert delivered == 1, store.mail_rows([PENDING, DEAD])
            assert len(server.to(TRAINEE)) == 1
            monkeypatch.setenv("CS_TEST_SMTP_PASSWORD", "wrong")
            wrong = CentralStore.open(central_db_url, load_config(path), clock)
            try:
                trainee_tickets(wrong, 1)
                assert deliver(wrong) == 0
                [waiting] = wrong.mail_rows([PENDING])
                assert waiting.last_error.startswith("login refused: 535")
            finally:
                wrong.close()
        finally:
            store.close()
    finally:
        server.stop()


def test_a_site_template_wins_over_the_built_in_one(
    open_store: Callable[..., CentralStore], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    site = tmp_path / "templates"
    site.mkdir()
    (site / "trainee_received.txt").write_text(
        '{% macro subject(lang) %}{% if lang == "ar" %}وصل{% else %}Got it{% endif %}'
        "{% endmacro %}\n"
        "{% macro body(lang, m) %}KHIT desk: {{ m.ref }} {{ m.link }}{% endmacro %}\n",
        encoding="utf-8",
    )
    store = open_store(f'templates = "{site}"\n')
    [ref] = trainee_tickets(store, 1)
    deliver(store)
    [mail] = smtp_server.to(TRAINEE)
    assert mail.subject.startswith(f"[{ref}] A101 · وصل / Got it · ")
    assert mail.text().startswith(f"KHIT desk: {ref} https://support.khit.sa/status/")
    assert '<a href="https://support.khit.sa/status/' in mail.html()


def test_a_slow_batch_hands_back_what_it_has_not_started_before_its_claim_runs_out(
    open_store: Callable[..., CentralStore], smtp_server: SmtpServer
) -> None:
    """Several workers: a row stays claimed while it may be sent, so no second worker sends
    it too. A batch that has taken a third of its claim starts nothing more."""
    store = open_store()
    trainee_tickets(store, 4)
    now = [0.0]

    def slow_clock() -> float:  # each look at the clock finds 20 s more gone
        now[0] += 20.0
        return now[0]

    sender = MailSender(store, monotonic=slow_clock)  # timeout 5: claim 35 s, cutoff 11.7 s
    assert sender.step() == 1
    assert store.mail_counts() == {"pending": 3, "claimed": 0, "sent": 1, "dead": 0}
    assert all(r.attempts == 0 for r in store.mail_rows([PENDING]))
    assert MailSender(store).step() == 3  # another worker takes them at once
    assert len(smtp_server.messages()) == 4
