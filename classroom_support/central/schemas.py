"""The sync API's request and response bodies (they are also its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ID = Field(min_length=1, max_length=64)


class Wire(BaseModel):
    # Unknown fields are ignored, so a newer laptop can talk to an older server.
    model_config = ConfigDict(extra="ignore")


class ErrorDetail(Wire):
    code: str = Field(description="machine-readable reason, e.g. prefix_taken, cursor_ahead")
    message: str


class ErrorBody(Wire):
    detail: ErrorDetail | str | list[Any]


class Health(Wire):
    status: Literal["ok"] = "ok"
    server_time: datetime
    api: str = "v1"


class EventWire(Wire):
    """One ticket event as the laptop stores it. `id` is the idempotency key, forever."""

    id: str = ID
    ticket_id: str = ID
    kind: str = Field(min_length=1, max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict)
    device_id: str = ID
    actor: str = Field(max_length=200)
    occurred_at: datetime
    hlc: str = Field(max_length=32, description='"{wall_ms:013d}-{counter:05d}"')


class PulledEvent(EventWire):
    seq: int


class SessionWire(Wire):
    id: str = ID
    hall_code: str = Field(min_length=1, max_length=40)
    course: str = Field(min_length=1, max_length=200)
    trainer: str = Field(default="", max_length=200)
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    deleted: bool = False


class PulledSession(SessionWire):
    seq: int


class ClosureWire(Wire):
    id: str = ID
    start_day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    end_day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    name: str = Field(min_length=1, max_length=200)
    name_ar: str = Field(default="", max_length=200)
    estimated: bool = False
    deleted: bool = False
    updated_at: datetime


class PulledClosure(ClosureWire):
    seq: int


class RosterWire(Wire):
    id: str
    title: str
    title_ar: str = ""
    responsibility: str = ""
    contact: str = ""
    deleted: bool = False
    seq: int


class KbArticleWire(Wire):
    """A knowledge-base article (both languages, Markdown); `deleted` is a tombstone."""

    id: str
    slug: str
    title: str = ""
    title_ar: str = ""
    tags: list[str] = Field(default_factory=list)
    body: str = ""
    body_ar: str = ""
    updated_at: datetime
    deleted: bool = False
    seq: int


class PersonWire(Wire):
    """A person of the staff directory as this device may see them; `deleted` alone (no name)
    when the person was removed or is out of the device's scope. `email` and `lang` are empty
    except on contact-centre and manager desks."""

    id: str
    name: str = ""
    role: str = ""
    halls: list[str] = Field(default_factory=list)
    email: str = ""
    lang: str = ""
    deleted: bool = False
    seq: int


class HelloRequest(Wire):
    device_id: str = ID
    ref_prefix: str = Field(pattern=r"^[A-Za-z0-9]{1,8}$")
    issued: int = Field(ge=0, description="tickets this laptop has already numbered")


ROLE_FIELD = Field(
    default="hall",
    description="what this device may do (docs/roles.md): hall, contact-centre, level2, manager",
)


class DeviceScopeWire(Wire):
    role: str = ROLE_FIELD
    halls: list[str] = Field(default_factory=list, description="empty when all_halls")
    all_halls: bool = Field(default=False, description="every hall, including halls added later")


class HelloResponse(Wire):
    server_time: datetime
    device_name: str
    halls: list[str]
    role: str = ROLE_FIELD
    all_halls: bool = False
    ref_prefix: str = Field(description="the prefix the laptop must use (its own if free)")
    head: int = Field(description="the newest server sequence")


class PushRequest(Wire):
    events: list[EventWire] = Field(
        default_factory=list, description="at most max_batch (default 1000) per request"
    )
    sessions: list[SessionWire] = Field(default_factory=list)
    closures: list[ClosureWire] = Field(default_factory=list)


class EventResult(Wire):
    id: str
    status: Literal["applied", "duplicate", "rejected"]
    seq: int | None = None
    reason: str = ""
    canonical: PulledEvent | None = Field(
        default=None,
        description="the server's copy, which wins: on a duplicate whose stored copy differs, "
        "or when the server corrected the event's times (laptop clock off)",
    )


class RowResult(Wire):
    table: Literal["session", "closure"]
    id: str
    status: Literal["applied", "superseded", "rejected"]
    seq: int | None = None
    reason: str = ""
    current: dict[str, Any] | None = Field(
        default=None, description="on superseded: the newer row the server keeps"
    )


class PushResponse(Wire):
    server_time: datetime
    results: list[EventResult]
    rows: list[RowResult] = Field(default_factory=list)
    head: int


class PullResponse(Wire):
    server_time: datetime
    cursor: int = Field(description="pass as `since` next time; store it with the page")
    has_more: bool
    head: int
    device: DeviceScopeWire | None = Field(
        default=None, description="this device's role and halls as of this page"
    )
    events: list[PulledEvent] = Field(default_factory=list)
    sessions: list[PulledSession] = Field(default_factory=list)
    closures: list[PulledClosure] = Field(default_factory=list)
    roster: list[RosterWire] = Field(default_factory=list)
    kb: list[KbArticleWire] = Field(
        default_factory=list, description="knowledge-base articles, for offline self-help"
    )
    people: list[PersonWire] = Field(
        default_factory=list, description="the staff directory, filtered for this device"
    )
