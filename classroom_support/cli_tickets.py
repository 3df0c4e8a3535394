"""`classroom-support tickets ...`: log, list and show tickets from scripts, without the TUI.

The actions on one ticket (respond, note, assign, ...) are in `cli_ticket_actions.py`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from classroom_support.cli_checks import OneLineParser, fail
from classroom_support.textsafe import visible


def build_parser(tickets: argparse.ArgumentParser, common: Callable[..., None]) -> None:
    """`tickets` and its subcommands' names and helps; each subcommand's arguments are added
    when it is the one that runs (cli_checks.CommandParser)."""
    from classroom_support import cli_ticket_actions

    def options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
        common(parser, suppress=suppress)
        parser.add_argument("--lang", choices=("ar", "en"), default=argparse.SUPPRESS)

    # A usage mistake below is one translated line on stderr (exit 2), not argparse's usage.
    tsub = tickets.add_subparsers(dest="tickets_command", required=True, parser_class=OneLineParser)
    tsub.add_parser(
        "add", help="log a ticket; prints its reference", build=lambda p: _add_args(p, options)
    )
    tsub.add_parser(
        "list",
        help="list tickets (open ones of this hall by default)",
        build=lambda p: _list_args(p, options),
    )
    tsub.add_parser(
        "show", help="one ticket with its history", build=lambda p: _show_args(p, options)
    )
    cli_ticket_actions.add_parsers(tsub, options)  # respond, note, assign, ... rca


def _add_args(add: argparse.ArgumentParser, options: Callable[..., None]) -> None:
    options(add, suppress=True)
    add.add_argument("--title", "--problem", dest="title", required=True, help="the problem")
    add.add_argument("--seat", default="")
    add.add_argument("--category", default="other")
    add.add_argument("--priority", default="normal")
    add.add_argument("--channel", default="in_hall")
    add.add_argument("--caller-number", default="")
    add.add_argument("--remote-session-id", default="")
    add.add_argument("--trainee-name", default="")
    add.add_argument("--trainee-contact", default="")
    add.add_argument("--hall", default=None)
    add.add_argument("--json", action="store_true")


def _list_args(lst: argparse.ArgumentParser, options: Callable[..., None]) -> None:
    options(lst, suppress=True)
    lst.add_argument(
        "--status", action="append", default=None, help="only this status (repeatable)"
    )
    lst.add_argument("--all", action="store_true", help="every status, every hall")
    lst.add_argument("--hall", default=None)
    lst.add_argument("--search", default="")
    lst.add_argument("--limit", type=int, default=1000)
    lst.add_argument("--json", action="store_true")


def _show_args(show: argparse.ArgumentParser, options: Callable[..., None]) -> None:
    options(show, suppress=True)
    show.add_argument("ref")
    show.add_argument("--json", action="store_true")


def ticket_json(ticket: Any) -> dict[str, Any]:
    """A ticket or event as JSON, its fields in the model's order (as read without the ORM)."""
    data = ticket.model_dump()
    fields = getattr(type(ticket), "model_fields", None)
    if fields:
        data = {name: data[name] for name in fields if name in data}
    for key, value in data.items():
        if hasattr(value, "isoformat"):
            data[key] = value.isoformat()
    return data


def show_json(desk: Any, ticket: Any) -> dict[str, Any]:
    """One ticket as `show --json` and every action's `--json` print it: the ticket's fields
    and `events`, its whole history in order, each with its payload as an object."""
    import json

    data = ticket_json(ticket)
    data["events"] = [
        {**ticket_json(e), "payload": json.loads(e.payload)} for e in desk.history(ticket.id)
    ]
    return data


def run(args: argparse.Namespace) -> int:
    from classroom_support import cli_ticket_actions
    from classroom_support.context import open_context

    if args.tickets_command == "list":
        done = list_without_orm(args)
        if done is not None:
            return done
    ctx = open_context(args.config, args.db, language=args.lang)
    try:
        if args.tickets_command == "add":
            return cmd_add(ctx, args)
        if args.tickets_command == "list":
            return cmd_list(ctx.config, ctx.desk.queue, args)
        if args.tickets_command == "show":
            return cmd_show(ctx, args)
        if args.tickets_command in cli_ticket_actions.NAMES:
            return cli_ticket_actions.run(ctx, args)
    finally:
        ctx.close()
    return 2


def cmd_add(ctx: Any, args: argparse.Namespace) -> int:
    import json

    from classroom_support.tickets import TicketDraft, TicketError

    current = ctx.sessions.current(args.hall)
    draft = TicketDraft(
        title=args.title,
        seat=args.seat,
        category=args.category,
        priority=args.priority,
        channel=args.channel,
        caller_number=args.caller_number,
        remote_session_id=args.remote_session_id,
        trainee_name=args.trainee_name,
        trainee_contact=args.trainee_contact,
        hall_code=args.hall,
        session_id=current.id if current else None,
    )
    try:
        ticket = ctx.desk.create(draft)
    except TicketError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(ticket_json(ticket), ensure_ascii=False))
    else:
        print(ticket.ref)
    return 0


# What the text form of `tickets list` shows of a ticket, in the order `_line` takes them,
# then `id`: the page's order (created_at, id) is among the columns a page selects.
LIST_COLUMNS = ("ref", "created_at", "status", "priority", "seat", "title", "id")


def list_without_orm(args: argparse.Namespace) -> int | None:
    """`tickets list` read with plain sqlite3 (queue_sql.py), read-only: the same rows as the
    desk's queue without importing SQLAlchemy. None when the normal path must open the
    database first (new, another schema revision, a -wal to verify)."""
    from classroom_support.context import load_settings
    from classroom_support.db_plain import open_reader

    config, paths = load_settings(args.config, args.db, args.lang)
    conn = open_reader(paths.database)
    if conn is None:
        return None
    try:
        if args.json:
            from classroom_support.plain_read import read_queue

            return cmd_list(config, lambda query: read_queue(conn, query), args)
        return cmd_list(config, None, args, text_rows=lambda query: _text_rows(conn, query))
    finally:
        conn.close()


def _text_rows(conn: Any, query: Any) -> list[tuple[Any, ...]]:
    """The page's LIST_COLUMNS, in one read snapshot, through the desk's own statements
    (queue_sql.read_page): the text form needs six of a ticket's forty-odd columns."""
    from classroom_support.plain_read import has_fts, stored_datetime
    from classroom_support.queue_sql import read_page

    conn.execute("BEGIN")
    try:
        _total, rows = read_page(conn, query, LIST_COLUMNS, fts=has_fts(conn))
    finally:
        conn.execute("COMMIT")
    return [(ref, stored_datetime(at), *rest) for ref, at, *rest in rows]


def cmd_list(
    config: Any,
    queue: Callable[[Any], Any] | None,
    args: argparse.Namespace,
    *,
    text_rows: Callable[[Any], list[tuple[Any, ...]]] | None = None,
) -> int:
    """`queue` answers a QueueQuery (`TicketDesk.queue`, or plain_read.read_queue); for the
    text form, `text_rows` may answer it instead with each row's LIST_COLUMNS values."""
    from classroom_support.i18n import tr
    from classroom_support.queue_sql import OPEN_STATUSES, STATUSES, QueueQuery

    statuses: tuple[str, ...] = OPEN_STATUSES
    if args.status:
        bad = [s for s in args.status if s not in STATUSES]
        if bad:
            return fail(f"unknown status {bad[0]!r}; choose from {', '.join(STATUSES)}")
        statuses = tuple(args.status)
    if args.all:
        statuses = tuple(args.status or ())
    if args.limit < 0:
        return fail("--limit must be 0 or more")
    hall = None if args.all and not args.hall else (args.hall or config.hall)
    query = QueueQuery(
        hall_code=hall, statuses=statuses, search=args.search, limit=args.limit, count=False
    )
    if args.json:
        import json

        assert queue is not None
        print(json.dumps([ticket_json(t) for t in queue(query).rows], ensure_ascii=False))
        return 0
    if text_rows is not None:
        rows = text_rows(query)
    else:
        assert queue is not None
        rows = [
            (t.ref, t.created_at, t.status, t.priority, t.seat, t.title) for t in queue(query).rows
        ]
    if not rows:
        print(tr("cli.no_tickets"))
        return 0
    from classroom_support.cli_list_fast import list_line

    zone = config.zone
    # One write: the same bytes as a print per line, without a write per line when stdout
    # is unbuffered (PYTHONUNBUFFERED, python -u).
    sys.stdout.write("".join(list_line(zone, *row[:6]) for row in rows))
    return 0


def cmd_show(ctx: Any, args: argparse.Namespace) -> int:
    import json

    from classroom_support.cli_ticket_actions import EXIT_NOT_FOUND
    from classroom_support.tickets import TicketError

    try:
        ticket = ctx.desk.get(args.ref)
    except TicketError as exc:
        return fail(str(exc), code=EXIT_NOT_FOUND)
    if args.json:
        print(json.dumps(show_json(ctx.desk, ticket), ensure_ascii=False))
        return 0
    events = ctx.desk.history(ticket.id)
    zone = ctx.config.zone
    print(f"{ticket.ref}  [{ticket.status}]  {visible(ticket.title, single_line=True)}")
    for key in (
        "hall_code",
        "seat",
        "channel",
        "priority",
        "category",
        "assignee",
        "trainee_name",
        "trainee_contact",
        "caller_number",
        "remote_session_id",
    ):
        value = getattr(ticket, key)
        if value:
            print(f"  {key}: {visible(str(value), single_line=True)}")
    for e in events:
        local = e.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        payload = json.loads(e.payload)
        changes = payload.get("changes")
        if e.kind == "edited" and isinstance(changes, dict):  # with the old value: seat=12→14
            detail = " ".join(
                f"{k}={visible(str(c.get('old', '')), single_line=True)}→"
                f"{visible(str(c.get('new', '')), single_line=True)}"
                for k, c in changes.items()
                if isinstance(c, dict)
            )
        else:
            detail = (
                ""
                if e.kind == "created"
                else " ".join(
                    f"{k}={visible(str(v), single_line=True)}" for k, v in payload.items() if v
                )
            )
        print(f"  {local}  {e.kind:<13} {visible(e.actor, single_line=True)}  {detail}")
    return 0
