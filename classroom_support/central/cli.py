"""`classroom-support central ...`: run the central server and manage its devices.

Only argparse is imported at module level: the laptop's command line imports this module and
builds these parsers only for a `central` command (cli.py), and FastAPI/uvicorn load only when
a central command actually runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

CENTRAL_DB_ENV = "CLASSROOM_SUPPORT_CENTRAL_DB"
SERVE_ENV = "CLASSROOM_SUPPORT_CENTRAL_SERVE"  # `central serve` options, read by each worker


def _seconds(text: str) -> float:
    """A non-negative, finite number of seconds (0 turns a limit off)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


def _count(text: str) -> int:
    """A whole number, 0 or more (0 turns a limit off)."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (0 or more)")
    return int(text)


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=None,
        help="central database: a SQLite file, or a SQLAlchemy URL such as "
        "postgresql+psycopg://user:pass@host/dbname (default: platform data dir "
        f"central.sqlite3; env {CENTRAL_DB_ENV})",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="configuration file with the halls, SLA policy, holidays and roster",
    )


def build_parser(central: argparse.ArgumentParser) -> None:
    """The arguments of `central`, whose parser the laptop's command line made (cli.py)."""
    csub = central.add_subparsers(dest="central_command", required=True)

    serve = csub.add_parser("serve", help="run the central server (FastAPI on uvicorn)")
    _db_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--sla-interval", type=float, default=60.0, help="seconds between SLA runs (0: off)"
    )
    serve.add_argument("--ssl-certfile", default=None, help="serve HTTPS with this certificate")
    serve.add_argument("--ssl-keyfile", default=None)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--header-timeout",
        type=_seconds,
        default=10.0,
        help="seconds a client has to send a request's headers before it is disconnected "
        "(default 10; 0: no limit)",
    )
    serve.add_argument(
        "--max-conns-per-ip",
        type=_count,
        default=50,
        help="open connections allowed per client address, more are refused with 503 "
        "(default 50; 0: no limit — use 0 behind a reverse proxy, which limits per client)",
    )
    serve.add_argument(
        "--log-format",
        choices=("json", "text"),
        default="json",
        help="stderr log lines: one JSON object each (default) or plain text",
    )
    serve.add_argument(
        "--metrics-token-file",
        type=Path,
        default=None,
        help="/metrics then asks for this file's token as a bearer token "
        "(env CLASSROOM_SUPPORT_METRICS_TOKEN_FILE)",
    )
    serve.add_argument(
        "--form-rate",
        type=int,
        default=30,
        help="web form posts allowed per client address per minute, counted across all "
        "workers (default 30)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (default 1); they share everything through the database",
    )

    migrate = csub.add_parser(
        "migrate",
        help="upgrade the central database's schema to this version's (serve does it at start)",
    )
    _db_option(migrate)

    add = csub.add_parser(
        "add-device",
        help="register a desk (hall laptop, contact centre, Level 2, manager); prints its "
        "token once",
    )
    _db_option(add)
    add.add_argument(
        "--role",
        choices=("hall", "contact-centre", "level2", "manager"),
        default="hall",
        help="what the desk may do (docs/roles.md; default hall)",
    )
    scope = add.add_mutually_exclusive_group(required=True)
    scope.add_argument("--hall", action="append", help="a hall it serves (repeatable)")
    scope.add_argument(
        "--all-halls",
        action="store_true",
        help="every hall, including halls added later",
    )
    add.add_argument("--name", default="", help="a name for the desk")
    add.add_argument("--json", action="store_true")

    lst = csub.add_parser("devices", help="list registered devices (never their tokens)")
    _db_option(lst)
    lst.add_argument("--json", action="store_true")

    revoke = csub.add_parser("revoke-device", help="revoke a device's token")
    _db_option(revoke)
    revoke.add_argument("device")

    ticket = csub.add_parser(
        "add-ticket", help="file a ticket centrally (contact centre: phone, WhatsApp, email)"
    )
    _db_option(ticket)
    ticket.add_argument("--hall", required=True)
    ticket.add_argument("--title", required=True)
    ticket.add_argument("--channel", default="phone")
    ticket.add_argument("--priority", default="normal")
    ticket.add_argument("--category", default="other")
    ticket.add_argument("--seat", default="")
    ticket.add_argument("--caller-number", default="")
    ticket.add_argument("--trainee-name", default="")
    ticket.add_argument("--actor", default="contact-centre")
    ticket.add_argument("--json", action="store_true")

    check = csub.add_parser(
        "check",
        help="report stored rows the server cannot serve and other integrity problems "
        "(exit 1 when any)",
    )
    _db_option(check)

    from classroom_support.central import backup, kb_cli, mail_cli, people_cli

    kb_cli.add_parsers(csub, _db_option)
    people_cli.add_parsers(csub, _db_option)
    mail_cli.add_parsers(csub, _db_option)
    mail_cli.add_serve_options(serve)
    backup.add_parsers(csub, _db_option)


def _fail(message: str, code: int = 2) -> int:
    print(f"classroom-support central: {message}", file=sys.stderr)
    return code


def _db(args: argparse.Namespace) -> str:
    if args.db:
        return str(args.db)
    if os.environ.get(CENTRAL_DB_ENV):
        return os.environ[CENTRAL_DB_ENV]
    import platformdirs

    return str(
        Path(platformdirs.user_data_dir("classroom-support", appauthor=False)) / "central.sqlite3"
    )


def _config(args: argparse.Namespace) -> Any:
    from classroom_support.config import default_paths, load_config

    return load_config(default_paths(args.config, None).config_file)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from classroom_support.central.store.schema import SchemaError

    try:
        if args.central_command == "serve":
            return _serve(args)
        if args.central_command == "backup":
            from classroom_support.central import backup

            return backup.run(args, _db(args))
        if args.central_command == "migrate":
            return _migrate(args)
        from classroom_support.central.store import CentralStore, StoreError

        store = CentralStore.open(_db(args), _config(args))
        try:
            if args.central_command == "add-device":
                try:
                    device, token = store.add_device(
                        args.name, args.hall or (), role=args.role, all_halls=args.all_halls
                    )
                except StoreError as exc:
                    return _fail(exc.message)
                if args.json:
                    print(
                        json.dumps(
                            {
                                "device": device.id,
                                "name": device.name,
                                **device.scope_json(),
                                "ref_prefix": device.ref_prefix,
                                "token": token,
                            },
                            ensure_ascii=False,
                        )
                    )
                else:
                    print(
                        f"device:  {device.id}  ({device.name}; {device.role}, "
                        f"{'' if device.all_halls else 'halls '}{_scope_text(device)})"
                    )
                    print(f"token:   {token}")
                    print(
                        "Shown once; only its hash is kept. On the laptop: save it to a file "
                        "and run\n  classroom-support connect URL --token-file FILE"
                    )
                return 0
            if args.central_command == "devices":
                rows = store.devices()
                if args.json:
                    print(
                        json.dumps(
                            [
                                {
                                    "device": d.id,
                                    "name": d.name,
                                    **d.scope_json(),
                                    "ref_prefix": d.ref_prefix,
                                    "laptop": d.device_id,
                                    "revoked": d.revoked,
                                }
                                for d in rows
                            ],
                            ensure_ascii=False,
                        )
                    )
                    return 0
                for d in rows:
                    state = "revoked" if d.revoked else ("bound" if d.device_id else "not yet used")
                    print(
                        f"{d.id}  {d.ref_prefix or '-':<6} {d.role:<14} "
                        f"{_scope_text(d, ','):<12} {state:<13} {d.name}"
                    )
                if not rows:
                    print(
                        "No devices. Add one with: classroom-support central add-device --hall A101"
                    )
                return 0
            if args.central_command == "revoke-device":
                try:
                    store.revoke_device(args.device)
                except StoreError as exc:
                    return _fail(exc.message, 1)
                print(f"revoked {args.device}")
                return 0
            if args.central_command == "add-ticket":
                return _add_ticket(store, args)
            if args.central_command == "check":
                return _check(store)
            from classroom_support.central import kb_cli, mail_cli, people_cli

            if args.central_command in mail_cli.COMMANDS:
                return mail_cli.run(args, store)
            if args.central_command in kb_cli.COMMANDS:
                return kb_cli.run(args, store)
            if args.central_command in people_cli.COMMANDS:
                return people_cli.run(args, store)
        finally:
            store.close()
    except SchemaError as exc:
        return _fail(str(exc), 1)
    except SQLAlchemyError as exc:
        from classroom_support.central.store.engine import shown_url

        return _fail(f"database {shown_url(_db(args))}: {str(exc).splitlines()[0]}")
    return 2


def _scope_text(device: Any, sep: str = ", ") -> str:
    return "all halls" if device.all_halls else sep.join(device.halls)


def _check(store: Any) -> int:
    """One line per problem on stdout; exit 1 when there is any, so cron or a probe can alert."""
    problems = store.integrity_problems()
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print("ok: no problems found")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    """Only the schema: no identity, holidays or roster are seeded (serve does that)."""
    from classroom_support.central.store.engine import database_url, make_engine
    from classroom_support.central.store.schema import upgrade_schema

    engine = make_engine(database_url(_db(args)))
    try:
        print(upgrade_schema(engine).describe())
    finally:
        engine.dispose()
    return 0


def _add_ticket(store: Any, args: argparse.Namespace) -> int:
    from classroom_support.tickets import TicketDraft, TicketError

    try:
        ticket = store.create_ticket(
            TicketDraft(
                title=args.title,
                seat=args.seat,
                category=args.category,
                priority=args.priority,
                channel=args.channel,
                caller_number=args.caller_number,
                trainee_name=args.trainee_name,
                hall_code=args.hall,
            ),
            actor=args.actor,
        )
    except TicketError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps({"ref": ticket.ref, "id": ticket.id, "hall": ticket.hall_code}))
    else:
        print(ticket.ref)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import logging.config

    import uvicorn

    from classroom_support.central.metrics_dir import prepare_multiprocess_dir

    if args.workers < 1:
        return _fail("--workers must be at least 1")
    prepare_multiprocess_dir(args.workers)  # before prometheus_client is imported

    from classroom_support.central import observability
    from classroom_support.central.store import CentralStore

    try:
        observability.load_metrics_token(args.metrics_token_file)
    except ValueError as exc:
        return _fail(str(exc))
    if args.metrics_token_file is not None:  # CentralSettings in every worker reads it there
        os.environ[observability.METRICS_TOKEN_FILE_ENV] = str(args.metrics_token_file)
    log_config = observability.logging_config(args.log_format, args.log_level)
    logging.config.dictConfig(log_config)
    db = _db(args)
    # Schema upgraded (or a newer database refused) and seed rows made once, here, before any
    # worker starts.
    CentralStore.open(db, _config(args)).close()
    os.environ[SERVE_ENV] = json.dumps(
        {
            "db": db,
            "config": str(args.config) if args.config else None,
            "sla_interval": args.sla_interval,
            "mail_interval": args.mail_interval,
            "form_rate": max(1, args.form_rate),
        }
    )
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.ssl_certfile:
        print(
            "note: serving plain HTTP beyond loopback; put it behind a TLS proxy or pass "
            "--ssl-certfile/--ssl-keyfile (laptops verify TLS certificates)",
            file=sys.stderr,
        )
    from classroom_support.central import guard

    os.environ[guard.SERVE_PROTOCOL_ENV] = f"{args.header_timeout},{args.max_conns_per_ip}"
    uvicorn.run(
        # An import string: with --workers N, each process builds its own app and engine.
        "classroom_support.central.cli:serve_app",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        # uvicorn's h11 protocol with a header deadline and a per-address connection cap
        # (by name with several workers: each spawned process imports it)
        http=guard.guarded_protocol(args.header_timeout, args.max_conns_per_ip)
        if args.workers == 1
        else guard.SERVE_PROTOCOL,
        log_level=args.log_level,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        # One JSON line per request comes from observability.RequestLog (route template, no
        # query string or headers); uvicorn's own access log would print raw paths.
        log_config=log_config,
        access_log=False,
        # A new worker imports the whole app before it can answer the supervisor's ping;
        # uvicorn's 5 s default kills and respawns workers forever on a busy machine.
        timeout_worker_healthcheck=30,
    )
    return 0


def serve_app() -> Any:
    """The app of one `central serve` process, from the options `_serve` left in the
    environment (uvicorn calls this in every worker)."""
    from classroom_support.central.app import CentralSettings, create_app
    from classroom_support.central.web import WebSettings, configure_web
    from classroom_support.config import default_paths, load_config

    # Logging is set up by uvicorn in each worker, from the log_config `_serve` passes.
    options = json.loads(os.environ[SERVE_ENV])
    from classroom_support.central.mail.inbound import inbound_settings

    config_path = Path(options["config"]) if options["config"] else None
    config = load_config(default_paths(config_path, None).config_file)
    settings = CentralSettings(
        db=options["db"],
        config=config,
        sla_interval=float(options["sla_interval"]),
        mail_interval=float(options.get("mail_interval", 5.0)),
        mail_in=inbound_settings(config),
    )
    app = create_app(settings)
    configure_web(app, WebSettings(rate_per_minute=int(options["form_rate"])))
    return app
