"""`classroom-support central kb-import | add-admin | admins | revoke-admin`: the knowledge
base and its administrators from the command line. Like central/cli.py, only argparse at import
time; the store loads when a command runs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMANDS = ("kb-import", "add-admin", "admins", "revoke-admin")


def add_parsers(csub: Any, db_option: Callable[[argparse.ArgumentParser], None]) -> None:
    imp = csub.add_parser(
        "kb-import",
        help="add or update knowledge-base articles from *.md files (front matter: title, "
        "title_ar, slug, tags; '<!-- ar -->' starts the Arabic text)",
    )
    db_option(imp)
    imp.add_argument(
        "folder",
        nargs="?",
        type=Path,
        help="a folder of *.md articles (default with --starter: the articles that ship)",
    )
    imp.add_argument("--starter", action="store_true", help="import the starter articles that ship")
    imp.add_argument("--json", action="store_true")

    admin = csub.add_parser(
        "add-admin", help="a knowledge-base administrator token for /api/v1/kb (shown once)"
    )
    db_option(admin)
    admin.add_argument("--name", required=True, help="who holds it")
    admin.add_argument("--json", action="store_true")

    admins = csub.add_parser("admins", help="list knowledge-base administrators")
    db_option(admins)
    admins.add_argument("--json", action="store_true")

    revoke = csub.add_parser("revoke-admin", help="revoke an administrator token")
    db_option(revoke)
    revoke.add_argument("admin")


def _fail(message: str, code: int = 2) -> int:
    print(f"classroom-support central: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace, store: Any) -> int:
    from classroom_support.central.kb import CentralKnowledgeBase
    from classroom_support.central.store import StoreError
    from classroom_support.kb import ArticleError, read_articles, starter_articles_dir

    kb = CentralKnowledgeBase(store)
    command = args.central_command
    if command == "kb-import":
        folder = args.folder or (starter_articles_dir() if args.starter else None)
        if folder is None:
            return _fail("kb-import needs a FOLDER (or --starter)")
        if not folder.is_dir():
            return _fail(f"{folder}: not a folder")
        try:
            articles = read_articles(folder)
            if not articles:
                return _fail(f"{folder}: no *.md files")
            outcome = kb.put_many(articles, actor="kb-import")
        except ArticleError as exc:
            return _fail(f"nothing imported: {exc}")
        except OSError as exc:
            return _fail(f"{folder}: {exc}")
        if args.json:
            print(json.dumps(outcome, ensure_ascii=False))
        else:
            print(
                f"{len(outcome['added'])} added, {len(outcome['updated'])} updated, "
                f"{len(outcome['unchanged'])} unchanged"
            )
        return 0
    if command == "add-admin":
        admin_id, token = kb.add_admin(args.name)
        if args.json:
            print(json.dumps({"admin": admin_id, "name": args.name, "token": token}))
        else:
            print(f"admin:  {admin_id}  ({args.name})")
            print(f"token:  {token}")
            print("Shown once; only its hash is kept. Use it as 'Authorization: Bearer TOKEN'.")
        return 0
    if command == "admins":
        rows = kb.admins()
        if args.json:
            print(json.dumps(rows, ensure_ascii=False))
        for row in [] if args.json else rows:
            state = "revoked" if row["revoked"] else "active"
            print(f"{row['id']}  {state:<8} {row['created_at']}  {row['name']}")
        return 0
    if command == "revoke-admin":
        try:
            kb.revoke_admin(args.admin)
        except StoreError as exc:
            return _fail(exc.message, 1)
        print(f"revoked {args.admin}")
        return 0
    return 2
