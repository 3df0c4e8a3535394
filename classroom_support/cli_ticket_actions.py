"""`classroom-support tickets respond|note|assign|... REF`: every ticket action from scripts.

Each command calls the same `TicketDesk` method the ticket screen's key calls, so what is
refused there is refused here with the same words. Exit codes (README, "Scripting"):
0 done, 2 bad input, 3 no such ticket, 4 refused by the ticket's rules (its status, an RCA
still missing, the device's role).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from classroom_support.cli_checks import fail
from classroom_support.i18n import tr
from classroom_support.records import frozen_record
from classroom_support.ticket_terms import CATEGORIES, PRIORITIES, RCA_CAUSES

if TYPE_CHECKING:  # the parser is built without the ORM (`--help` stays quick)
    from classroom_support.models import Ticket
    from classroom_support.tickets import TicketDesk

EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_REFUSED = 4


@frozen_record
class TicketAction:
    """One subcommand: its options, and the desk method it calls (the key's own)."""

    name: str
    help: str
    event: str  # translation key of what it records, for the one-line answer
    options: Callable[[argparse.ArgumentParser], object]
    change: Callable[[TicketDesk, argparse.Namespace], Ticket]


def _text(name: str, help_text: str) -> Callable[[argparse.ArgumentParser], object]:
    return lambda p: p.add_argument(f"--{name}", default="", help=help_text)


def _positional(name: str, help_text: str) -> Callable[[argparse.ArgumentParser], object]:
    # Never nargs="?": argparse would fill it with "" at REF and refuse the text after an option.
    return lambda p: p.add_argument(name, help=help_text)


def _no_options(_parser: argparse.ArgumentParser) -> None:
    return None


def _rca_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cause", default="", help=f"one of: {' '.join(RCA_CAUSES)}")
    parser.add_argument("--what", default="", help="what happened")
    parser.add_argument("--action", default="", help="the corrective action")
    parser.add_argument("--owner", default="", help="who owns the corrective action")


class AlreadySet(Exception):
    """The value asked for is the ticket's already: nothing to record."""

    def __init__(self, ticket: Ticket) -> None:
        super().__init__(ticket.ref)
        self.ticket = ticket


def _pick(field: str, setter: Callable[[TicketDesk, str, str], Ticket]) -> Callable[..., Ticket]:
    """Priority and category: picking the current value records nothing, as on screen."""

    def change(desk: TicketDesk, args: argparse.Namespace) -> Ticket:
        ticket = desk.get(args.ref)
        if getattr(ticket, field) == args.value:
            raise AlreadySet(ticket)
        return setter(desk, args.ref, args.value)

    return change


def _edit_options(parser: argparse.ArgumentParser) -> None:
    # None = not given (left as it is); "" is a value (clears a field; the problem refuses it).
    parser.add_argument("--title", help="the problem text")
    parser.add_argument("--seat", help="the seat or PC")
    parser.add_argument("--trainee-name", dest="trainee_name", help="the trainee's name")
    parser.add_argument("--trainee-contact", dest="trainee_contact", help="the trainee's contact")


def _edit(desk: TicketDesk, args: argparse.Namespace) -> Ticket:
    """The ticket screen's `e`: the fields given change, the old values stay in history."""
    from classroom_support.ticket_edits import EDITABLE_FIELDS, edit_ticket
    from classroom_support.tickets import ValidationError

    values = {n: getattr(args, n) for n in EDITABLE_FIELDS if getattr(args, n) is not None}
    if not values:
        raise ValidationError("title", "cli.edit_nothing_given")
    return edit_ticket(desk, args.ref, values)


def _route_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", default="", help="level2, or hall (the ticket's own hall)")
    parser.add_argument("--note", default="", help="a note for whoever receives it")


def _route(desk: TicketDesk, args: argparse.Namespace) -> Ticket:
    """The ticket screen's route key: to Level 2 or back to the ticket's hall."""
    from classroom_support.routing import route_ticket
    from classroom_support.tickets import ValidationError

    if args.to not in ("level2", "hall"):
        raise ValidationError("routed_to", "routed.bad_to")
    return route_ticket(desk, args.ref, level2=args.to == "level2", note=args.note)


def _reopen(desk: TicketDesk, args: argparse.Namespace) -> Ticket:
    # The screen's reopen prompt requires a reason; so does the command.
    from classroom_support.tickets import ValidationError

    if not args.reason.strip():
        raise ValidationError("reason", "error.required")
    return desk.reopen(args.ref, args.reason)


ACTIONS: tuple[TicketAction, ...] = (
    TicketAction(
        "respond",
        "record the first response (stops the first-response clock)",
        "event.responded",
        _positional("message", 'what the trainee was told ("" for nothing)'),
        lambda desk, a: desk.respond(a.ref, a.message),
    ),
    TicketAction(
        "note",
        "add a note to the history",
        "event.note",
        _positional("text", "the note"),
        lambda desk, a: desk.add_note(a.ref, a.text),
    ),
    TicketAction(
        "assign",
        "hand the ticket to someone ('' clears the assignee)",
        "event.assigned",
        _positional("assignee", "a name, a team or a level"),
        lambda desk, a: desk.assign(a.ref, a.assignee),
    ),
    TicketAction(
        "priority",
        f"set the priority ({' '.join(PRIORITIES)})",
        "event.priority_set",
        _positional("value", " ".join(PRIORITIES)),
        _pick("priority", lambda desk, ref, v: desk.set_priority(ref, v)),
    ),
    TicketAction(
        "category",
        f"set the category ({' '.join(CATEGORIES)})",
        "event.category_set",
        _positional("value", " ".join(CATEGORIES)),
        _pick("category", lambda desk, ref, v: desk.set_category(ref, v)),
    ),
    TicketAction(
        "pause",
        "waiting for the trainee: the clocks stop",
        "event.paused",
        _text("reason", "what the desk is waiting for"),
        lambda desk, a: desk.pause(a.ref, a.reason),
    ),
    TicketAction(
        "resume",
        "the wait is over: the clocks run again",
        "event.resumed",
        _no_options,
        lambda desk, a: desk.resume(a.ref),
    ),
    TicketAction(
        "resolve",
        "the problem is solved (Level 2 verifies)",
        "event.resolved",
        _text("summary", "what was done"),
        lambda desk, a: desk.resolve(a.ref, a.summary),
    ),
    TicketAction(
        "verify",
        "confirm the resolution and close the ticket",
        "event.verified",
        _text("note", "a note for the history"),
        lambda desk, a: desk.verify(a.ref, a.note),
    ),
    TicketAction(
        "reopen",
        "the problem is back: reopen a resolved or verified ticket",
        "event.reopened",
        _text("reason", "why (required)"),
        _reopen,
    ),
    TicketAction(
        "rca",
        "record the root-cause analysis of a missed SLA",
        "event.rca_recorded",
        _rca_options,
        lambda desk, a: desk.record_rca(a.ref, a.cause, a.what, a.action, a.owner),
    ),
    TicketAction(
        "edit",
        "change the problem text, seat, trainee name or contact (old values kept in history)",
        "event.edited",
        _edit_options,
        _edit,
    ),
    TicketAction(
        "route",
        "hand the ticket to Level 2 or to its hall's technician",
        "routed.event",
        _route_options,
        _route,
    ),
    # New desk actions join here: one entry, calling their TicketDesk method.
)
NAMES = tuple(a.name for a in ACTIONS)


def add_parsers(tsub: Any, common: Callable[..., None]) -> None:
    """One subcommand per action, its arguments added when it runs (cli_checks.CommandParser)."""
    for action in ACTIONS:
        tsub.add_parser(action.name, help=action.help, build=_arguments(action, common))


def _arguments(
    action: TicketAction, common: Callable[..., None]
) -> Callable[[argparse.ArgumentParser], None]:
    def build(parser: argparse.ArgumentParser) -> None:
        common(parser, suppress=True)
        parser.add_argument("ref", help="the ticket's reference, e.g. K7QD-12")
        action.options(parser)
        parser.add_argument(
            "--json", action="store_true", help="print the ticket as `tickets show --json` does"
        )

    return build


def run(ctx: Any, args: argparse.Namespace) -> int:
    import json

    from classroom_support.cli_tickets import show_json
    from classroom_support.ticket_edits import NothingChanged
    from classroom_support.tickets import TicketError, TicketNotFound, ValidationError

    action = next(a for a in ACTIONS if a.name == args.tickets_command)
    message = ""
    try:
        ticket = action.change(ctx.desk, args)
    except AlreadySet as same:
        ticket = same.ticket
        message = tr(
            "cli.action_unchanged",
            ref=ticket.ref,
            field=tr(f"field.{action.name}"),
            value=args.value,
        )
    except NothingChanged as same:  # edit: every value given is the ticket's already
        ticket, message = ctx.desk.get(args.ref), str(same)
    except TicketNotFound as exc:
        return fail(str(exc), EXIT_NOT_FOUND)
    except ValidationError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    except TicketError as exc:  # its status, a missing RCA, the role: the rules said no
        return fail(str(exc), EXIT_REFUSED)
    if args.json:
        print(json.dumps(show_json(ctx.desk, ticket), ensure_ascii=False))
    else:
        status = tr(f"status.{ticket.status}")
        print(
            message or tr("cli.action_done", ref=ticket.ref, what=tr(action.event), status=status)
        )
    return 0
