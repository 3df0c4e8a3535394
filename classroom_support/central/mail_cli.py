"""`classroom-support central mail-queue | mail-retry | mail-test`: the outbox from the command
line. Like central/cli.py, only argparse at import time."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

COMMANDS = ("mail-queue", "mail-retry", "mail-test")


def add_parsers(csub: Any, db_option: Callable[[argparse.ArgumentParser], None]) -> None:
    queue = csub.add_parser(
        "mail-queue", help="mail notifications waiting to be sent (or --dead: refused ones)"
    )
    db_option(queue)
    queue.add_argument("--dead", action="store_true", help="the dead letters and their reasons")
    queue.add_argument("--sent", action="store_true", help="also the mails already sent")
    queue.add_argument("--json", action="store_true")

    retry = csub.add_parser("mail-retry", help="send a dead (or waiting) mail again now")
    db_option(retry)
    retry.add_argument("id", type=int, help="the mail's number (central mail-queue)")

    test = csub.add_parser(
        "mail-test", help="send a test message now, through [mail] smtp, and say what happened"
    )
    db_option(test)
    test.add_argument("--to", required=True, help="the address to send it to")


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--mail-interval",
        type=float,
        default=5.0,
        help="seconds between the mail sender's rounds when idle (0: no sender; needs [mail] smtp)",
    )


def _fail(message: str, code: int = 2) -> int:
    print(f"classroom-support central: {message}", file=sys.stderr)
    return code


def _as_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "kind": row.kind,
        "recipient": row.recipient,
        "subject": row.subject,
        "cause": row.cause,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "last_error": row.last_error,
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "message_id": row.message_id,
    }


def _line(row: Any) -> str:
    when = row.sent_at or row.next_attempt_at
    text = f"{row.id:>6}  {row.status:<7} {row.attempts:>2}  {when:%Y-%m-%d %H:%M}  "
    text += f"{row.recipient:<28} {row.subject[:80]}"
    if row.last_error:
        text += f"\n        last error: {row.last_error}"
    return text


def run(args: argparse.Namespace, store: Any) -> int:
    from classroom_support.central.mail.outbox import CLAIMED, DEAD, PENDING, SENT

    command = args.central_command
    if command == "mail-retry":
        row = store.mail_retry(args.id)
        if row is None:
            return _fail(f"no mail {args.id} waiting or dead (see `central mail-queue --dead`)", 1)
        print(f"mail {row.id} to {row.recipient} will be sent on the next round")
        return 0
    if command == "mail-test":
        return _test(args, store)
    statuses = [DEAD] if args.dead else [PENDING, CLAIMED]
    if args.sent:
        statuses.append(SENT)
    rows = store.mail_rows(statuses)
    if args.json:
        print(json.dumps([_as_json(r) for r in rows], ensure_ascii=False))
        return 0
    for row in rows:
        print(_line(row))
    counts = store.mail_counts()
    print(
        f"{counts[PENDING]} pending, {counts[CLAIMED]} being sent, {counts[SENT]} sent, "
        f"{counts[DEAD]} dead"
        + ("" if store.config.mail.sending else " (no [mail] smtp configured: nothing is sent)")
    )
    return 0


def _test(args: argparse.Namespace, store: Any) -> int:
    """Queue a test mail and deliver it now, in this process, so the answer is printed."""
    from classroom_support.central.mail.outbox import SENT
    from classroom_support.central.mail.sender import MailSender
    from classroom_support.people import PersonError, check_email

    mail = store.config.mail
    if not mail.sending:
        return _fail("no [mail] smtp in the configuration (see README, Configuration)")
    try:
        address = check_email(args.to)
    except PersonError as exc:
        return _fail(str(exc))
    if not address:
        return _fail("give an address: --to name@example.org")
    row = store.queue_test_mail(address)
    MailSender(store).step()
    [after] = [r for r in store.mail_rows(["pending", "claimed", "sent", "dead"]) if r.id == row.id]
    if after.status == SENT:
        print(f"sent to {address} through {mail.smtp.display} ({after.message_id})")
        return 0
    print(f"not sent ({after.status}): {after.last_error}", file=sys.stderr)
    return 1
