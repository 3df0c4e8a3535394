"""Operations for the central server: `/healthz`, `/readyz`, Prometheus metrics at `/metrics`,
and one structured log line per request carrying a request id.

Metrics are prometheus_client's module-level objects, so every app built in one process shares
them. With several uvicorn workers each process counts for itself; when the environment sets
`PROMETHEUS_MULTIPROC_DIR` (before this module is imported) prometheus_client writes the values
to files there and `/metrics` sums every worker's files, so any worker answers for all of them.

The request log never holds what a request carries: no query string, headers, cookies or body,
only the route *template* (`/status/{ticket_id}`), so no token or personal data can reach it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from classroom_support.central import models as m
from classroom_support.central.metrics_dir import multiprocess_dir
from classroom_support.central.store.schema import current_revision, head_revision

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

METRICS_TOKEN_FILE_ENV = "CLASSROOM_SUPPORT_METRICS_TOKEN_FILE"
ACCESS_LOGGER = "classroom_support.central.access"
REQUEST_ID_HEADER = b"x-request-id"
# An incoming id is kept only if it cannot break a log line or a header, nor carry much data.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
READY_TIMEOUT_S = 5.0
UNMATCHED = "unmatched"  # the label for paths no route knows: raw paths would explode the series
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BATCH_BUCKETS = (0, 1, 5, 10, 25, 50, 100, 250, 500, 1000)
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
access_log = logging.getLogger(ACCESS_LOGGER)
log = logging.getLogger("classroom_support.central")

# --------------------------------------------------------------------------- metrics

REQUESTS = Counter(
    "central_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "central_http_request_duration_seconds",
    "Time to answer a request, by method and route template",
    ["method", "route"],
    buckets=DURATION_BUCKETS,
)
PUSH_BATCH = Histogram(
    "central_push_batch_events",
    "Events per accepted push request",
    buckets=BATCH_BUCKETS,
)
PULL_PAGE = Histogram(
    "central_pull_page_items",
    "Items (events, sessions, closures, roster, articles, people) per pull page",
    buckets=BATCH_BUCKETS,
)
PUSHED_EVENTS = Counter(
    "central_pushed_events",
    "Pushed events by result: applied (stored now), duplicate (stored before), rejected",
    ["result"],
)
EVENTS_STORED = Counter(
    "central_events_stored",
    "Events the server stored, by source (push from laptops, the central SLA job)",
    ["source"],
)
FORM_POSTS = Counter(
    "central_form_posts",
    "Web form posts by outcome (from the answer's status)",
    ["outcome"],
)
# 303 is also the answer to a post sent again (it shows the first post's confirmation).
FORM_OUTCOMES = {
    303: "accepted",
    400: "invalid",
    403: "refused",
    409: "already_sent",
    413: "too_large",
    415: "invalid",
    429: "limited",
    503: "busy",
}


def record_push(received: int, results: Iterable[Mapping[str, Any]]) -> None:
    """Count one answered push: its size, and each event's result."""
    PUSH_BATCH.observe(received)
    counts: dict[str, int] = {}
    for result in results:
        counts[str(result.get("status"))] = counts.get(str(result.get("status")), 0) + 1
    for status, n in counts.items():
        PUSHED_EVENTS.labels(status).inc(n)
    if counts.get("applied"):
        EVENTS_STORED.labels("push").inc(counts["applied"])


def record_pull(page: Mapping[str, Any]) -> None:
    PULL_PAGE.observe(
        sum(
            len(page.get(k) or ())
            for k in ("events", "sessions", "closures", "roster", "kb", "people")
        )
    )


class SequenceHead(Collector):
    """`central_sequence_head`, read from the database at scrape time: every change the server
    stores takes the next number, so its rate is the rate of stored changes across all workers."""

    def __init__(self, head: Callable[[], int]) -> None:
        self.head = head

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            value = self.head()
        except SQLAlchemyError:
            return  # the database is away: /readyz says so, the series just has a gap
        yield GaugeMetricFamily(
            "central_sequence_head", "Highest server sequence number handed out", value=value
        )


def exposition(head: Callable[[], int]) -> bytes:
    """The text Prometheus scrapes: this process's metrics, or every worker's when multiprocess."""
    registry = CollectorRegistry()
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
        registry.register(SequenceHead(head))
        return generate_latest(registry)
    registry.register(SequenceHead(head))
    return generate_latest(REGISTRY) + generate_latest(registry)


# --------------------------------------------------------------------------- requests


def route_templates(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """Every route's (path regex, template). Newer FastAPI keeps included routers as one entry
    each (`effective_route_contexts`); older ones list the routes themselves."""
    found: list[tuple[re.Pattern[str], str]] = []
    for route in getattr(app, "routes", ()):
        contexts = getattr(route, "effective_route_contexts", None)
        for candidate in contexts() if callable(contexts) else (route,):
            regex, path = getattr(candidate, "path_regex", None), getattr(candidate, "path", None)
            if isinstance(path, str) and isinstance(regex, re.Pattern):
                found.append((regex, path))
    return found


def route_template(scope: Scope, templates: Iterable[tuple[re.Pattern[str], str]]) -> str:
    """The matched route's path template; for requests answered before routing (413 from the
    body limit) the template their path would have matched."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    raw = str(scope.get("path", ""))
    for regex, template in templates:
        if regex.match(raw):
            return template
    return UNMATCHED


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == REQUEST_ID_HEADER:
            try:
                candidate = value.decode("ascii")
            except UnicodeDecodeError:
                return None
            return candidate if SANE_REQUEST_ID.match(candidate) else None
    return None


class RequestLog:
    """Outermost middleware: a request id (the caller's `X-Request-ID` if sane, else a new one,
    echoed in the response), the request counters, and one access log line per request."""

    def __init__(self, app: ASGIApp, fastapi_app: Any = None) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        # Not reset afterwards: uvicorn runs each request in a task of its own (its own
        # context), and its error line for a request that raised, logged after this returns,
        # then carries the id too.
        request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # what the server error handler answers if the app raises before answering

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode("ascii")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        method = str(scope.get("method", "")).upper()
        method = method if method in METHODS else "OTHER"
        if self._templates is None:  # the routes are all in place once requests arrive
            self._templates = route_templates(self.fastapi_app)
        route = route_template(scope, self._templates)
        REQUESTS.labels(method, route, str(status)).inc()
        DURATION.labels(method, route).observe(seconds)
        if method == "POST" and route == "/form":
            FORM_POSTS.labels(FORM_OUTCOMES.get(status, "error")).inc()
        client = scope.get("client")
        duration_ms = round(seconds * 1000, 1)
        access_log.info(
            "%s %s %d %.1fms",
            method,
            route,
            status,
            duration_ms,
            extra={
                "request_id": request_id,
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "client": client[0] if client else None,
            },
        )


# --------------------------------------------------------------------------- logs

ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "client")


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id when there is one,
    the access fields on request lines, and `error` (the traceback) when one was logged."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        for key in ACCESS_FIELDS:
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: `time level logger [request id] message`."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        tag = f" [{request_id}]" if request_id else ""
        text = f"{_timestamp(record)} {record.levelname} {record.name}{tag}: {record.getMessage()}"
        client = getattr(record, "client", None)
        if client:
            text += f" client={client}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def logging_config(log_format: str = "json", level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for `central serve`: everything to stderr in one format.
    uvicorn applies it in every worker process; its own access log stays off (ours replaces it)."""
    formatter = "json" if log_format == "json" else "text"
    here = f"{__name__}."
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": here + "JsonFormatter"},
            "text": {"()": here + "TextFormatter"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": formatter,
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            # Alembic's set-up chatter; the store logs one line when the schema changes.
            "alembic": {"level": "WARNING"},
        },
    }


# --------------------------------------------------------------------------- probes

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers; the database is not consulted (that is /readyz)."""
    return {"status": "ok"}


def _sqlite_file(store: Any) -> str | None:
    if store.engine.dialect.name != "sqlite":
        return None
    database = store.engine.url.database
    return database if database and database != ":memory:" else None


def readiness(store: Any) -> tuple[bool, dict[str, str]]:
    """(ready, checks): the database answers `SELECT 1` and its schema is at this code's
    migration head."""
    checks: dict[str, str] = {}
    path = _sqlite_file(store)
    try:
        if path is not None:
            # The pool keeps the file open, so it would still answer after the file was
            # deleted or replaced: look at the path itself, with a fresh read-only connection.
            if not os.path.exists(path):
                checks["database"] = "the SQLite database file is missing"
                return False, checks
            fresh = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=2)
            try:
                fresh.execute(f"SELECT value FROM {m.counters.name} WHERE name = 'seq'").fetchone()
            finally:
                fresh.close()
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
            revision = current_revision(conn)
        checks["database"] = "ok"
    except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
        log.warning("readiness: database check failed: %s", _first_line(exc))
        checks["database"] = f"the database did not answer ({type(exc).__name__})"
        return False, checks
    head = head_revision()
    if revision != head:  # another version's server migrated it, or it was restored from old
        checks["migrations"] = (
            f"the database is at {revision or 'no revision'}, this code at {head}"
        )
        return False, checks
    checks["migrations"] = "current"
    return True, checks


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return (str(orig if orig is not None else exc).splitlines() or [""])[0][:300]


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when this worker can serve: the database answers and its schema is current;
    503 with the reason otherwise (a load balancer stops sending traffic here)."""
    store = request.app.state.store
    try:
        ready, checks = await asyncio.wait_for(asyncio.to_thread(readiness, store), READY_TIMEOUT_S)
    except TimeoutError:
        ready, checks = False, {"database": f"no answer within {READY_TIMEOUT_S:g} s"}
    if ready:
        return JSONResponse({"status": "ready", **checks})
    return JSONResponse(
        {"status": "unavailable", **checks}, status_code=503, headers={"Retry-After": "5"}
    )


def load_metrics_token(path: str | Path | None) -> str | None:
    """The bearer token `/metrics` asks for, from a file (never a command-line argument, which
    `ps` shows); None when no file is configured."""
    if path is None or str(path) == "":
        return None
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(f"cannot read the metrics token file {path}: {reason}") from None
    if not token:
        raise ValueError(f"the metrics token file {path} is empty")
    return token


def _authorised(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text format. Keep it off the internet: the proxy allows only the internal
    network (deploy/nginx.conf), and a token file can be required on top."""
    if not _authorised(request, getattr(request.app.state, "metrics_token", None)):
        return JSONResponse(
            {"detail": {"code": "unauthorized", "message": "a valid metrics token is required"}},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    store = request.app.state.store
    return Response(exposition(store.head), media_type=CONTENT_TYPE_LATEST)
