"""Mail out: 1,000 queued notifications delivered by the central server's sender to a local SMTP
server, against bare `smtplib` sending the same 1,000 messages to the same server in the same
run.

    .venv/bin/python bench/mail_out.py                 # 1,000 mails, 3 rounds each, interleaved
    .venv/bin/python bench/mail_out.py --mails 200 --rounds 1

The SMTP server is aiosmtpd on 127.0.0.1 in this process (it parses nothing, counts messages).
Ours: rows already rendered and queued in a central SQLite database (synchronous=FULL);
`MailSender.step()` until the queue is empty: claim 50 rows in a transaction, one SMTP
conversation per batch, build each message, send it, mark it sent in its own transaction.
Bare: the same 1,000 (subject, text, HTML, recipient) built as `EmailMessage`s and sent with
`smtplib`, one conversation per 50 messages, nothing recorded. Rounds alternate ours/bare; the
ratio is of the medians. Each round checks that the server received exactly N messages.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import statistics
import tempfile
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from benchlib import command_line, machine_info, print_machine, write_results

from classroom_support.central.mail import outbox
from classroom_support.central.mail.render import render
from classroom_support.central.mail.sender import BATCH, MailSender
from classroom_support.central.store import CentralStore
from classroom_support.config import load_config


class Counting:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 OK"


def rows_for(n: int, store: CentralStore, round_no: int) -> list[dict[str, Any]]:
    now = store.clock.now()
    rows = []
    for i in range(n):
        context = {
            "institute": {"ar": "معهد التدريب", "en": "Training Institute"},
            "phone": "0566812777",
            "ref": f"K7QD-{i}",
            "hall": "A101",
            "hall_name": {"ar": "قاعة A101", "en": "Hall A101"},
            "title": f"Projector has no signal {i}",
            "link": f"https://support.khit.sa/status/{i:08d}",
            "priority": "high",
            "step_name": {"ar": "المستوى الثاني - الدعم الفني", "en": "Level 2"},
            "due": "2026-12-02 14:00",
            "late_hours": "2",
        }
        r = render("breach", "", context)
        rows.append(
            outbox.new_row(
                cause=f"bench/{round_no}/{i}",
                recipient=f"person{i % 40}@khit.sa",
                kind="breach",
                ticket_id="",
                lang="",
                subject=r.subject,
                text=r.text,
                html=r.html,
                domain="khit.sa",
                now=now,
            )
        )
    return rows


def run_ours(store: CentralStore, rows: list[dict[str, Any]]) -> float:
    with store.one_writer(), store.engine.begin() as conn:
        outbox.insert_ignore(conn, rows)
    sender = MailSender(store)
    start = time.perf_counter()
    while sender.step():
        pass
    return time.perf_counter() - start


def run_bare(port: int, rows: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for b in range(0, len(rows), BATCH):
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
        for row in rows[b : b + BATCH]:
            msg = EmailMessage(policy=SMTP_POLICY)
            msg["From"] = "info@khit.sa"
            msg["To"] = row["recipient"]
            msg["Subject"] = row["subject"]
            msg["Message-ID"] = row["message_id"]
            msg.set_content(row["body_text"])
            msg.add_alternative(row["body_html"], subtype="html")
            smtp.send_message(msg, from_addr="info@khit.sa", to_addrs=[row["recipient"]])
        smtp.quit()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    print(f"# {command_line()}")
    handler = Counting()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ours: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "central.toml"
        config_path.write_text(f'[mail]\nsmtp = "smtp://127.0.0.1:{port}?plain"\n')
        store = CentralStore.open(str(Path(tmp) / "central.sqlite3"), load_config(config_path))
        try:
            for round_no in range(args.rounds):
                rows = rows_for(args.mails, store, round_no)
                for name, run, into in (
                    ("ours", lambda r=rows: run_ours(store, r), ours),
                    ("bare", lambda r=rows: run_bare(port, r), bare),
                ):
                    before = handler.count
                    seconds = run()
                    got = handler.count - before
                    if got != args.mails:
                        raise SystemExit(f"{name}: the server received {got}, not {args.mails}")
                    into.append(seconds)
                    print(
                        f"round {round_no + 1} {name}: {seconds:.2f} s, "
                        f"{1000 * seconds / args.mails:.2f} ms per mail"
                    )
            assert store.mail_counts()["sent"] == args.mails * args.rounds
        finally:
            store.close()
    controller.stop()
    ours_med, bare_med = statistics.median(ours), statistics.median(bare)
    ratio = ours_med / bare_med
    print(
        f"median: ours {ours_med:.2f} s ({1000 * ours_med / args.mails:.2f} ms/mail), "
        f"bare smtplib {bare_med:.2f} s ({1000 * bare_med / args.mails:.2f} ms/mail), "
        f"ratio {ratio:.2f}"
    )
    path = write_results(
        "mail_out",
        {
            "machine": info,
            "command": command_line(),
            "mails": args.mails,
            "ours_s": ours,
            "bare_s": bare,
            "ratio": ratio,
        },
    )
    print(f"# saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
