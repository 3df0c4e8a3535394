"""`create_app(settings)`: the central server as a FastAPI app. Routers are included here; the
trainee web form and the knowledge base will be further routers next to `api.router`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from classroom_support.central import api, changes, kb, observability, web
from classroom_support.central.mail.inbound import InboundSettings, MailboxPoller
from classroom_support.central.store import CentralStore, StoreError
from classroom_support.central.validation import echo_safe_errors
from classroom_support.clock import Clock, SystemClock
from classroom_support.config import Config

log = logging.getLogger("classroom_support.central")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class CentralSettings:
    db: str | Path = "central.sqlite3"  # a SQLite path, or a SQLAlchemy URL (postgresql+psycopg://)
    config: Config = field(default_factory=Config)
    clock: Clock = field(default_factory=SystemClock)
    sla_interval: float = 60.0  # seconds between SLA runs; 0 = no periodic job
    # seconds between the mail sender's rounds when idle; 0 = no sender (needs [mail] smtp)
    mail_interval: float = 5.0
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch: int = 1000  # items per push
    max_page: int = 1000  # items per pull page
    store: CentralStore | None = None  # an already opened store (tests, benchmarks)
    # The e-mail channel: a mailbox polled for new tickets (central/mail/inbound.py); None = off
    mail_in: InboundSettings | None = None
    # /metrics asks for the bearer token in this file when set (docs: README "Operations")
    metrics_token_file: str | Path | None = field(
        default_factory=lambda: os.environ.get(observability.METRICS_TOKEN_FILE_ENV) or None
    )


class BodyLimit:
    """Refuse request bodies over the limit with 413, whether or not they announce a length
    (chunked bodies are counted as they arrive and buffered up to the limit)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await _too_large(send, self.max_bytes)
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        buffered = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": buffered, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {"detail": {"code": "body_too_large", "message": f"request body over {limit} bytes"}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ServerTime:
    """`X-Server-Time` on every response, so a client can measure its clock skew."""

    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                now = self.clock.now().astimezone(UTC).isoformat(timespec="milliseconds")
                message["headers"] = [*message.get("headers", []), (b"x-server-time", now.encode())]
            await send(message)

        await self.app(scope, receive, stamped)


def create_app(settings: CentralSettings | None = None) -> FastAPI:
    settings = settings or CentralSettings()
    metrics_token = observability.load_metrics_token(settings.metrics_token_file)
    store = settings.store or CentralStore.open(settings.db, settings.config, settings.clock)
    owns_store = settings.store is None
    feed = changes.feed_for(store)  # wakes waiting pulls (GET /sync/pull?wait=N)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        if settings.sla_interval > 0:
            tasks.append(asyncio.create_task(_sla_loop(store, settings.sla_interval)))
        mailer = _start_mail_sender(store, settings.mail_interval)
        poller = MailboxPoller(store, settings.mail_in) if settings.mail_in else None
        if poller is not None:
            log.info("mail in: reading %s every %g s", poller.key, poller.settings.interval)
            tasks.append(asyncio.create_task(_mail_loop(poller)))
        await feed.start()
        try:
            yield
        finally:
            if mailer is not None:
                await asyncio.to_thread(mailer.stop)
            await feed.stop()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if poller is not None:  # another worker (or the next start) may poll at once
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(poller.release)
            if owns_store:
                store.close()

    app = FastAPI(
        title="classroom-support central API",
        version=_version(),
        description=(
            "Sync for hall laptops: push events (idempotent by event id), pull changes by "
            "cursor over a server sequence assigned in commit order. See docs/sync-protocol.md."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.feed = feed
    app.state.settings = settings
    app.state.metrics_token = metrics_token
    app.include_router(api.router)
    app.include_router(kb.router)  # /api/v1/kb: articles, administrators only
    app.include_router(web.router)  # trainee pages: /form, /status/{id}, /kb
    app.include_router(observability.router)  # /healthz, /readyz, /metrics

    @app.exception_handler(StoreError)
    async def store_error(_request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status, content={"detail": {"code": exc.code, "message": exc.message}}
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Never echo an input JSON cannot carry (1e999999 reads as Infinity): a 422, not a 500.
        return JSONResponse(status_code=422, content={"detail": echo_safe_errors(exc.errors())})

    @app.exception_handler(OperationalError)
    async def busy(_request: Request, exc: OperationalError) -> JSONResponse:
        # SQLite's write lock held too long, or the database briefly unreachable: try later.
        log.warning("database busy: %s", str(exc.orig)[:200])
        return JSONResponse(
            status_code=503,
            content={"detail": {"code": "busy", "message": "the database is busy; retry"}},
            headers={"Retry-After": "2"},
        )

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # type: ignore[arg-type]
    app.add_middleware(ServerTime, clock=settings.clock)  # type: ignore[arg-type]
    # outermost: request id, metrics and the access log see every answer, 413s included
    app.add_middleware(observability.RequestLog, fastapi_app=app)  # type: ignore[arg-type]
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("classroom-support")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


class _MailThread:
    """The outbox sender on its own thread (smtplib blocks); stopped with the app."""

    def __init__(self, store: CentralStore, interval: float) -> None:
        from classroom_support.central.mail.sender import MailSender

        self.sender = MailSender(store, interval=interval)
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self.sender.run,
            args=(self.stopping, self._jobs),
            name="mail-sender",
            daemon=True,
        )
        self.store = store
        self.thread.start()

    def _jobs(self) -> None:
        queued = self.store.queue_digest()
        if queued:
            log.info("mail: queued %d digest(s)", queued)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)


def _start_mail_sender(store: CentralStore, interval: float) -> _MailThread | None:
    if interval <= 0 or not store.config.mail.sending:
        return None
    return _MailThread(store, interval)


async def _sla_loop(store: CentralStore, interval: float) -> None:
    """Escalate tickets even while their hall's laptop is offline."""
    while True:
        try:
            recorded = await asyncio.to_thread(store.run_sla)
            if recorded:
                observability.EVENTS_STORED.labels("sla").inc(len(recorded))
                log.info("SLA: recorded %d event(s)", len(recorded))
        except Exception:  # keep the job alive; the next run retries
            log.exception("SLA run failed")
        await asyncio.sleep(interval)


async def _mail_loop(poller: MailboxPoller) -> None:
    """Turn new mail into tickets (the worker holding the mailbox's lease does; the others
    find it taken and wait for the next round)."""
    while True:
        try:
            report = await asyncio.to_thread(poller.poll_once)
            if report.tickets or report.notes:
                # a new ticket is two events (created, and its note), a reply one
                observability.EVENTS_STORED.labels("mail").inc(
                    2 * len(report.tickets) + len(report.notes)
                )
                log.info(
                    "mail: %d ticket(s), %d note(s), %d refused",
                    len(report.tickets),
                    len(report.notes),
                    report.refused,
                )
        except Exception:  # the database unreachable, say: keep the job alive, retry later
            log.exception("mail poll failed")
        await asyncio.sleep(poller.settings.interval)
