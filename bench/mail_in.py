"""E-mail in: N mails ingested from a real Dovecot into tickets, against bare imaplib fetching
the same N mails from the same mailbox, in the same run (issue 10, item 6).

    .venv/bin/python bench/mail_in.py                    # 1,000 mails, 3 rounds
    .venv/bin/python bench/mail_in.py --mails 200 --rounds 1

Dovecot (tests/dovecot_support.py: a child process on 127.0.0.1) gets N mails by APPEND once:
plain text, Arabic in windows-1256, HTML-only and mails with an attachment, from 250 senders,
half with a hall tag. Then, per round, interleaved:

- bare: imaplib logs in, selects, `UID SEARCH`es and `UID FETCH`es sizes and bodies in batches
  of 100 (the batches the poller uses); nothing is parsed or stored;
- ingest: `MailboxPoller.poll_once` on a fresh central SQLite database: the same IMAP work,
  plus parsing each message, routing it, and one transaction per mail that files its ticket,
  its first note and its ledger row; then the \\Seen marks.

After each ingest the database must hold exactly N tickets (else the run fails). Also per
round, to show where the time goes: parsing and routing the same N mails alone (no IMAP, no
database). Reported: wall time of each, per mail, and ingest / bare.
"""

from __future__ import annotations

import argparse
import imaplib
import logging
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from benchlib import REPO, command_line, machine_info, print_machine, summary, write_results

sys.path.insert(0, str(REPO / "tests"))  # the Dovecot harness

from dovecot_support import DovecotServer, Mailbox

from classroom_support.central.mail.inbound import InboundSettings, MailboxPoller
from classroom_support.central.mail.inbound_parse import message_key, read_mail
from classroom_support.central.mail.inbound_route import mail_filing
from classroom_support.central.store import CentralStore
from classroom_support.clock import SystemClock
from classroom_support.config import load_config

BATCH = 100


class Server:
    def __init__(self, box: Mailbox) -> None:
        self.host, self.port, self.user, self.password = box.host, box.port, box.user, box.password
        self.security = "none"


def make_mail(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Trainee {i % 250} <trainee{i % 250}@example.org>"
    msg["To"] = "info@khit.sa"
    tag = ["[A101] ", "[A102] ", "", ""][i % 4]
    msg["Subject"] = f"{tag}Problem number {i}"
    msg["Message-ID"] = f"<bench-{i}@example.org>"
    kind = i % 4
    if kind == 0:
        msg.set_content(f"Mail {i}: the projector shows no signal.\n" + "Details. " * 100)
    elif kind == 1:
        msg.set_content(f"رسالة {i}: جهاز العرض لا يعمل في القاعة\n" * 20, charset="windows-1256")
    elif kind == 2:
        msg.set_content(f"<p>Mail {i}: <b>PC</b> will not boot</p>" * 20, subtype="html")
    else:
        msg.set_content(f"Mail {i}: screenshot attached.")
        msg.add_attachment(b"\x89PNG" + b"x" * 20_000, maintype="image", subtype="png",
                           filename=f"screen-{i}.png")  # fmt: skip
    return msg.as_bytes()


def read_only(raws: list[bytes]) -> float:
    """Seconds to parse and route the mails with no IMAP and no database (where time goes)."""
    config = load_config(None)
    start = time.perf_counter()
    for raw in raws:
        message_key(raw)
        mail_filing(read_mail(raw), config, [], max_attachment_bytes=10 * 1024 * 1024)
    return time.perf_counter() - start


def bare_fetch(box: Mailbox) -> int:
    imap = imaplib.IMAP4(box.host, box.port)
    try:
        imap.login(box.user, box.password)
        imap.select(box.folder)
        _typ, data = imap.uid("SEARCH", "UID", "1:*")
        uids = data[0].split()
        fetched = 0
        for start in range(0, len(uids), BATCH):
            wanted = b",".join(uids[start : start + BATCH]).decode()
            imap.uid("FETCH", wanted, "(RFC822.SIZE)")
            _typ, bodies = imap.uid("FETCH", wanted, "(BODY.PEEK[])")
            fetched += sum(1 for item in bodies if isinstance(item, tuple))
        return fetched
    finally:
        imap.logout()


def ingest(box: Mailbox, store: CentralStore, n: int) -> float:
    """Seconds to poll the N mails into tickets (the store is opened beforehand, untimed)."""
    settings = InboundSettings(server=Server(box), folder=box.folder, batch=BATCH)
    start = time.perf_counter()
    report = MailboxPoller(store, settings, holder="bench").poll_once()
    seconds = time.perf_counter() - start
    if report.error or len(report.tickets) != n:
        raise SystemExit(f"ingest filed {len(report.tickets)} of {n}: {report.error}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    info = machine_info()
    print(f"# {command_line()}")
    print_machine(info)
    server = DovecotServer()
    times: dict[str, list[float]] = {"bare": [], "ingest": [], "parse": []}
    try:
        server.start()
        box = server.add_user()
        raws = [make_mail(i) for i in range(args.mails)]
        box.append(*raws)
        for round_no in range(args.rounds):
            times["parse"].append(read_only(raws))
            start = time.perf_counter()
            fetched = bare_fetch(box)
            times["bare"].append(time.perf_counter() - start)
            if fetched != args.mails:
                raise SystemExit(f"bare fetch read {fetched} of {args.mails}")
            with tempfile.TemporaryDirectory(prefix="cs-bench-mail-") as tmp:
                db = str(Path(tmp) / "central.sqlite3")
                store = CentralStore.open(db, load_config(None), SystemClock())
                try:
                    times["ingest"].append(ingest(box, store, args.mails))
                finally:
                    store.close()
            print(
                f"round {round_no + 1}: bare {times['bare'][-1]:.2f} s, "
                f"ingest {times['ingest'][-1]:.2f} s (of which parsing and routing alone: "
                f"{times['parse'][-1]:.2f} s)"
            )
    finally:
        server.close()
    result: dict[str, Any] = {"mails": args.mails, "rounds": args.rounds}
    for name, values in times.items():
        stats = summary(values)
        result[name] = {"seconds": stats, "ms_per_mail": 1000 * stats["p50"] / args.mails}
    ratio = result["ingest"]["seconds"]["p50"] / result["bare"]["seconds"]["p50"]
    result["ratio_ingest_to_bare"] = ratio
    result["ratio_parse_to_bare"] = (
        result["parse"]["seconds"]["p50"] / result["bare"]["seconds"]["p50"]
    )
    print(
        f"{args.mails} mails, median of {args.rounds}: bare imaplib "
        f"{result['bare']['seconds']['p50']:.2f} s ({result['bare']['ms_per_mail']:.2f} ms/mail), "
        f"ingest {result['ingest']['seconds']['p50']:.2f} s "
        f"({result['ingest']['ms_per_mail']:.2f} ms/mail) -> ingest / bare = {ratio:.1f}x; "
        f"parsing and routing alone {result['parse']['ms_per_mail']:.2f} ms/mail"
    )
    out = write_results("mail_in", {"machine": info, "command": command_line(), **result}, args.out)
    print(f"# saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
