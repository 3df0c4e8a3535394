"""`classroom-support central add-person | people | edit-person | remove-person`: the staff
directory from the command line. Like central/cli.py, only argparse at import time."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

COMMANDS = ("add-person", "people", "edit-person", "remove-person")
ROLE_HELP = (
    "technician (a hall technician; needs --hall), a support tier (L1 contact centre, "
    "L2 technical support) or a roster role (general_manager, training_body_manager, "
    "administrative_body_manager); `central people --roles` lists them"
)


def add_parsers(csub: Any, db_option: Callable[[argparse.ArgumentParser], None]) -> None:
    add = csub.add_parser(
        "add-person", help="add someone to the staff directory (synced to laptops read-only)"
    )
    db_option(add)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, help=ROLE_HELP)
    add.add_argument("--hall", action="append", default=[], help="a hall (repeatable)")
    add.add_argument("--email", default="", help="sent only to contact-centre and manager desks")
    add.add_argument("--lang", default="", help="ar or en: the language to write to them in")
    add.add_argument("--json", action="store_true")

    lst = csub.add_parser("people", help="list the staff directory")
    db_option(lst)
    lst.add_argument("--roles", action="store_true", help="list the roles a person may have")
    lst.add_argument("--json", action="store_true")

    edit = csub.add_parser(
        "edit-person", help="change a person's details (only the options given change)"
    )
    db_option(edit)
    edit.add_argument("person", help="the person's id (or a unique start of it)")
    edit.add_argument("--name", default=None)
    edit.add_argument("--role", default=None, help=ROLE_HELP)
    edit.add_argument(
        "--hall", action="append", default=None, help="a hall (repeatable; replaces the halls)"
    )
    edit.add_argument("--no-hall", action="store_true", help="remove every hall")
    edit.add_argument("--email", default=None, help='"" removes it')
    edit.add_argument("--lang", default=None, help='ar, en, or "" to remove it')
    digest = edit.add_mutually_exclusive_group()
    digest.add_argument(
        "--no-digest",
        dest="digest",
        action="store_false",
        default=None,
        help="no daily mail digest for this person",
    )
    digest.add_argument(
        "--digest", dest="digest", action="store_true", help="the daily mail digest again"
    )
    edit.add_argument("--json", action="store_true")

    remove = csub.add_parser(
        "remove-person", help="remove someone from the directory (laptops drop them on sync)"
    )
    db_option(remove)
    remove.add_argument("person", help="the person's id (or a unique start of it)")


def _fail(message: str, code: int = 2) -> int:
    print(f"classroom-support central: {message}", file=sys.stderr)
    return code


def _as_json(person: Any, digest: bool) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "role": person.role,
        "halls": list(person.halls),
        "email": person.email,
        "lang": person.lang,
        "digest": digest,  # the daily mail digest (managers); server-only, not synced
    }


def _line(person: Any, digest: bool) -> str:
    halls = ",".join(person.halls) or "-"
    return (
        f"{person.id[:8]}  {person.role:<28} {halls:<12} {person.lang or '-':<3} "
        f"{person.email or '-':<28} {'digest' if digest else 'no-digest':<9}  {person.name}"
    )


def run(args: argparse.Namespace, store: Any) -> int:
    from classroom_support.central.store import NotFound, StoreError
    from classroom_support.central.store.people import KEEP
    from classroom_support.people import role_ids

    command = args.central_command
    try:
        if command == "add-person":
            person = store.add_person(args.name, args.role, args.hall, args.email, args.lang)
        elif command == "edit-person":
            if args.no_hall and args.hall:
                return _fail("give --hall or --no-hall, not both")
            halls = () if args.no_hall else (KEEP if args.hall is None else args.hall)
            person = store.edit_person(
                args.person,
                name=KEEP if args.name is None else args.name,
                role=KEEP if args.role is None else args.role,
                halls=halls,
                email=KEEP if args.email is None else args.email,
                lang=KEEP if args.lang is None else args.lang,
            )
            if args.digest is not None:
                store.set_digest(person.id, args.digest)
        elif command == "remove-person":
            person = store.remove_person(args.person)
            print(f"removed {person.id}  {person.name}")
            return 0
        else:
            return _list(args, store, role_ids(store.config))
    except NotFound as exc:
        return _fail(exc.message, 1)
    except StoreError as exc:
        return _fail(exc.message)
    digest = store.wants_digest(person.id)
    if args.json:
        print(json.dumps(_as_json(person, digest), ensure_ascii=False))
    else:
        print(_line(person, digest))
    return 0


def _list(args: argparse.Namespace, store: Any, roles: tuple[str, ...]) -> int:
    if args.roles:
        if args.json:
            print(json.dumps(list(roles)))
        else:
            print("\n".join(roles))
        return 0
    people = store.people()
    no_digest = store.digest_opt_outs()
    if args.json:
        shown = [_as_json(p, p.id not in no_digest) for p in people]
        print(json.dumps(shown, ensure_ascii=False))
        return 0
    for person in people:
        print(_line(person, person.id not in no_digest))
    if not people:
        print(
            "No people. Add one with: classroom-support central add-person --name NAME "
            "--role technician --hall A101"
        )
    return 0
