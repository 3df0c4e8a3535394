"""What every trainee page shares: settings and per-app state (rate limit, CSRF tokens),
the Jinja2 environment (autoescaping everything), language and direction, security headers,
local times, and the status-link QR code as inline SVG."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from classroom_support.central.formguard import CsrfTokens, FormRateLimit, load_secret
from classroom_support.central.store import CentralStore
from classroom_support.central.web_messages import WEEKDAYS, pick_language, t
from classroom_support.config import Config
from classroom_support.qr import QUIET_ZONE, qr_matrix, whatsapp_number, whatsapp_url
from classroom_support.textsafe import visible

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# Pages load nothing from elsewhere: one stylesheet of ours, no scripts at all.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a status link must not leak to another site
    "X-Frame-Options": "DENY",
}


@dataclass
class WebSettings:
    """Limits of the public pages. `rate_per_minute` counts every form post per client
    address (valid or not) within `rate_window` seconds, across all server processes."""

    rate_per_minute: int = 30
    rate_window: float = 60.0
    csrf_max_age: float = 4 * 3600.0
    max_form_bytes: int = 48 * 1024  # 2,000 Arabic characters percent-encoded are ~12 KiB
    wall_clock: Callable[[], float] = time.time


@dataclass
class WebState:
    """Per-process settings and caches only: what the workers share is in the database."""

    settings: WebSettings = field(default_factory=WebSettings)
    limiter: FormRateLimit = field(init=False)
    _csrf: CsrfTokens | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.limiter = FormRateLimit(
            limit=self.settings.rate_per_minute,
            window=self.settings.rate_window,
            now=self.settings.wall_clock,
        )

    def csrf(self, store: CentralStore) -> CsrfTokens:
        """The token signer; its secret is read from the database once per process."""
        with self._lock:
            if self._csrf is None:
                self._csrf = CsrfTokens(
                    load_secret(store),
                    max_age=self.settings.csrf_max_age,
                    now=self.settings.wall_clock,
                )
            return self._csrf


def configure_web(app: Any, settings: WebSettings) -> WebState:
    """Install web settings on an app (tests, benchmarks, `central serve --form-rate`)."""
    state = WebState(settings)
    app.state.web = state
    return state


def web_state(request: Request) -> WebState:
    state = getattr(request.app.state, "web", None)
    if state is None:
        state = configure_web(request.app, WebSettings())
    return state  # type: ignore[no-any-return]


def store_of(request: Request) -> CentralStore:
    return request.app.state.store  # type: ignore[no-any-return]


def client_key(request: Request) -> str:
    """The client's address (uvicorn puts the real one here behind a trusted proxy)."""
    return request.client.host if request.client else "unknown"


# --------------------------------------------------------------------------- templates


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # User text on a page: control and bidi-override characters made visible, as in the TUI
    # (an RTL override in a title must not disguise what it says).
    env.filters["visible"] = visible
    return env


@lru_cache(maxsize=1)
def css_version() -> str:
    import hashlib

    return hashlib.sha256((STATIC / "web.css").read_bytes()).hexdigest()[:10]


def language_of(request: Request, form: Mapping[str, str] | None = None) -> str:
    if form is not None and "lang" in form:
        return pick_language(form.get("lang"))
    return pick_language(request.query_params.get("lang"))


def with_lang(path: str, lang: str, params: Mapping[str, str] | None = None) -> str:
    """`path` with its query: the given parameters (empty ones dropped) and `lang` unless it is
    the default (Arabic), so links carry the trainee's choice through the whole flow."""
    query = {k: v for k, v in (params or {}).items() if v and k != "lang"}
    if lang != "ar":
        query["lang"] = lang
    return f"{path}?{urlencode(query)}" if query else path


def hours_text(config: Config) -> str:
    """'10:00–16:00' when the weekly windows are the same every day, else ''."""
    windows = config.weekly_windows
    if len(windows) != 1 or len(windows[0].days) != 7:
        return ""
    start, end = windows[0].start_minute, windows[0].end_minute
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"


def _isolated(text: str) -> str:
    """Left-to-right isolate: "10:00–16:00" must not turn into "16:00–10:00" in Arabic."""
    return f"\u2066{text}\u2069" if text else ""


def _whatsapp_url(config: Config) -> str:
    try:
        return whatsapp_url(whatsapp_number(config.whatsapp or config.phone, config.country_code))
    except ValueError:
        return ""


def render(
    request: Request,
    template: str,
    lang: str,
    *,
    status: int = 200,
    switch: str = "",
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """One page: the template with what the layout needs, and the security headers."""
    store = store_of(request)
    config = store.config
    prefix = request.scope.get("root_path", "")
    html = (
        environment()
        .get_template(template)
        .render(
            lang=lang,
            dir="rtl" if lang == "ar" else "ltr",
            t=partial(t, lang),
            prefix=prefix,
            switch_url=prefix
            + (switch or with_lang(request.url.path, "en" if lang == "ar" else "ar")),
            other_lang="en" if lang == "ar" else "ar",
            css_url=f"{prefix}/static/web.css?v={css_version()}",
            institute=config.institute_name_ar if lang == "ar" else config.institute_name,
            phone=config.phone,
            whatsapp=config.whatsapp,
            email=config.email,
            hours=_isolated(hours_text(config)),
            whatsapp_url=_whatsapp_url(config),
            with_lang=with_lang,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    for name, value in {**SECURITY_HEADERS, **(headers or {})}.items():
        response.headers[name] = value
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def not_found(request: Request, lang: str) -> HTMLResponse:
    return render(
        request,
        "message.html",
        lang,
        status=404,
        title_key="notfound.title",
        text_key="notfound.text",
        back_url=with_lang("/form", lang),
        back_key="nav.form",
    )


# --------------------------------------------------------------------------- data for display


@dataclass(frozen=True)
class LocalTime:
    weekday: str
    text: str  # 2026-11-29 15:00, local
    iso: str  # with offset, for <time datetime>


def local_time(when: datetime, lang: str, config: Config) -> LocalTime:
    local = when.astimezone(config.zone)
    return LocalTime(
        weekday=WEEKDAYS[lang][local.weekday()],
        text=local.strftime("%Y-%m-%d %H:%M"),
        iso=local.isoformat(timespec="minutes"),
    )


@lru_cache(maxsize=256)
def qr_svg(text: str, label: str) -> Markup:
    """A QR code as inline SVG: black modules on white with the quiet zone, one path, runs of
    dark modules merged. Crisp at any size; nothing to fetch."""
    matrix = qr_matrix(text)
    size = matrix.size + 2 * QUIET_ZONE
    parts: list[str] = []
    for y, row in enumerate(matrix.modules):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start + QUIET_ZONE} {y + QUIET_ZONE}h{x - start}v1h-{x - start}z")
    return Markup(
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{escape(label)}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{"".join(parts)}" fill="#000"/></svg>'
    )
