"""The sync API router, `/api/v1/...`. Thin: it checks limits and hands over to the store."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from classroom_support.central import observability
from classroom_support.central.auth import require_device
from classroom_support.central.changes import ChangeFeed
from classroom_support.central.schemas import (
    ErrorBody,
    Health,
    HelloRequest,
    HelloResponse,
    PullResponse,
    PushRequest,
    PushResponse,
)
from classroom_support.central.store import CentralStore, Device, StoreError

MAX_CURSOR = 2**62
MAX_WAIT_S = 30.0  # a waiting pull answers within this (proxies time out at 60 s)
PAGE_LISTS = ("events", "sessions", "closures", "roster", "kb", "people")

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "refused as a whole (see code)"},
    401: {"model": ErrorBody, "description": "no valid device token"},
    409: {"model": ErrorBody, "description": "device state and server disagree (see code)"},
    413: {"model": ErrorBody, "description": "request body or batch too large"},
    422: {"model": ErrorBody, "description": "malformed request"},
    503: {"model": ErrorBody, "description": "busy; retry after the Retry-After header"},
}

router = APIRouter(prefix="/api/v1")
DeviceDep = Annotated[Device, Depends(require_device)]


def _store(request: Request) -> CentralStore:
    return request.app.state.store  # type: ignore[no-any-return]


def _refuse(exc: StoreError) -> HTTPException:
    return HTTPException(status_code=exc.status, detail={"code": exc.code, "message": exc.message})


def _encodable(body: Any) -> None:
    """Strings that cannot be stored as UTF-8 (lone surrogates) are refused up front."""
    try:
        json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        raise HTTPException(
            status_code=422, detail={"code": "bad_text", "message": "text is not valid UTF-8"}
        ) from None


@router.get("/health", response_model=Health, tags=["meta"], summary="Liveness and server time")
def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "server_time": _store(request).clock.now(), "api": "v1"}


@router.post(
    "/sync/hello",
    response_model=HelloResponse,
    responses={k: v for k, v in ERRORS.items() if k != 413},
    tags=["sync"],
    summary="Bind this token to the laptop and settle its reference prefix",
)
def hello(body: HelloRequest, request: Request, device: DeviceDep) -> dict[str, Any]:
    _encodable(body.model_dump(mode="json"))
    try:
        return _store(request).hello(device, body.device_id, body.ref_prefix, body.issued)
    except StoreError as exc:
        raise _refuse(exc) from None


@router.post(
    "/sync/push",
    response_model=PushResponse,
    responses=ERRORS,
    tags=["sync"],
    summary="Push a batch of events (and edited sessions/closures); one result per item",
)
def push(
    body: PushRequest,
    request: Request,
    device: DeviceDep,
    x_client_time: Annotated[
        str | None,
        Header(description="the laptop's own clock when it sent this request (ISO 8601)"),
    ] = None,
) -> dict[str, Any]:
    settings = request.app.state.settings
    items = len(body.events) + len(body.sessions) + len(body.closures)
    if items > settings.max_batch:
        raise HTTPException(
            status_code=413,
            detail={
                "code": "batch_too_large",
                "message": f"{items} items; at most {settings.max_batch} per request",
            },
        )
    events = [e.model_dump() for e in body.events]
    sessions = [s.model_dump() for s in body.sessions]
    closures = [c.model_dump() for c in body.closures]
    # Payloads are checked per event by the store (validation.py), so one bad payload is
    # refused alone; the other fields of the request are checked here as a whole.
    _encodable(
        [[{k: v for k, v in e.items() if k != "payload"} for e in events], sessions, closures]
    )
    try:
        answer = _store(request).push(device, events, sessions, closures, x_client_time)
    except StoreError as exc:
        raise _refuse(exc) from None
    observability.record_push(len(events), answer["results"])
    return answer


@router.get(
    "/sync/pull",
    response_model=PullResponse,
    responses={k: v for k, v in ERRORS.items() if k != 413},
    tags=["sync"],
    summary="Changes after the cursor for this device's halls, in server-sequence order",
)
async def pull(
    request: Request,
    device: DeviceDep,
    since: Annotated[int, Query(ge=0, le=MAX_CURSOR)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT_S,
            description=(
                "seconds to wait when the page would be empty, until a change this device "
                f"can see is committed (by any server process); 0 answers at once; at most "
                f"{MAX_WAIT_S:g}. Give the HTTP client a longer read timeout than this."
            ),
        ),
    ] = 0,
) -> dict[str, Any]:
    # async, so a waiting request parks a coroutine, not a threadpool thread; the store's
    # pull (blocking database work) still runs in the threadpool, and no connection or
    # transaction is held while waiting.
    settings = request.app.state.settings
    store = _store(request)
    size = min(limit, settings.max_page)
    feed: ChangeFeed | None = getattr(request.app.state, "feed", None)
    deadline = time.monotonic() + wait
    try:
        page = await run_in_threadpool(store.pull, device, since, size)
        while feed is not None and _empty(page):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if await feed.wait_for(int(page["head"]), remaining) <= int(page["head"]):
                break  # the wait ended with nothing new
            # something committed: maybe another hall's, so the page may still be empty
            page = await run_in_threadpool(store.pull, device, int(page["cursor"]), size)
    except StoreError as exc:
        raise _refuse(exc) from None
    observability.record_pull(page)
    return page


def _empty(page: dict[str, Any]) -> bool:
    return not page["has_more"] and not any(page[k] for k in PAGE_LISTS)
