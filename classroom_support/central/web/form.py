"""The trainee web support form, at the URL the laptop's QR codes encode
(`/form?hall=A101&session=3f2a9c1e&seat=12&ref=K7QD-3&note=...`, see `classroom_support.qr`),
and the confirmation page a successful post redirects to.

A post goes through, in order: the per-client rate limit (429, counted in the database), the
size and encoding of the body (413/400), the CSRF token (403), the honeypot (400), an expired
token that already filed this very ticket (its confirmation) or not (403), the fields (400,
errors next to them, typed text kept), then `CentralStore.file_form_ticket` (channel
`web_form`), which writes the ticket, its `created` event with a server sequence number and the
spent token in one transaction: the hall's laptop pulls it on its next sync. Success answers
303 to `/form/sent/{ticket id}` (post/redirect/get); so does a re-sent post of a token that
already filed a ticket (same ticket); a different problem on a spent token gets the form back
(409). See `formguard` for why a token files at most one ticket.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from classroom_support.central import models as m
from classroom_support.central.formguard import CsrfTokens, FormToken
from classroom_support.central.storable import holds_nul
from classroom_support.central.store import REF_RE, CentralStore, FormFiling
from classroom_support.central.web.common import (
    client_key,
    language_of,
    not_found,
    qr_svg,
    render,
    store_of,
    web_state,
    with_lang,
)
from classroom_support.central.web_messages import t
from classroom_support.config import Config
from classroom_support.qr import SESSION_TOKEN_LEN, status_url
from classroom_support.tickets import (
    CATEGORIES,
    MAX_SHORT,
    MAX_TITLE,
    TicketDraft,
    TicketError,
    TicketNotFound,
)

CSRF_COOKIE = "cs_form"
SENT_COOKIE = "cs_sent"
ACTOR = "web-form"
MAX_FIELDS = 30
SESSION_TOKEN_RE = re.compile(rf"^[0-9a-f]{{{SESSION_TOKEN_LEN}}}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+$")
PHONE_EXTRA = set("+-(). ")

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class FormValues:
    """What the form shows and posts back (always as typed)."""

    hall: str = ""
    hall_from_link: bool = False
    session: str = ""
    ref: str = ""
    title: str = ""
    seat: str = ""
    category: str = "other"
    name: str = ""
    contact: str = ""

    @classmethod
    def from_post(cls, form: dict[str, str]) -> FormValues:
        return cls(
            hall=form.get("hall", "").strip(),
            hall_from_link=form.get("hall_from_link") == "1",
            session=form.get("session", "").strip(),
            ref=form.get("ref", "").strip(),
            title=form.get("title", "").replace("\r\n", "\n").replace("\r", "\n"),
            seat=form.get("seat", ""),
            category=form.get("category", "other"),
            name=form.get("name", ""),
            contact=form.get("contact", ""),
        )


def parse_ticket_id(text: str) -> str | None:
    """The canonical UUID text, or None: status links accept nothing else (not a ref)."""
    try:
        value = str(uuid.UUID(text))
    except (ValueError, TypeError):
        return None
    return value if value == text else None


def valid_contact(text: str) -> bool:
    """An email address, or a phone number: 7-15 digits (Arabic-Indic too), + - ( ) . spaces."""
    if EMAIL_RE.match(text):
        return True
    digits = sum(1 for ch in text if unicodedata.decimal(ch, None) is not None)
    others_ok = all(ch in PHONE_EXTRA or unicodedata.decimal(ch, None) is not None for ch in text)
    return others_ok and 7 <= digits <= 15 and "+" not in text[1:]


def follow_up_ref(text: str) -> str:
    """The ticket ref a follow-up link carries, if it looks like one (else it is ignored)."""
    ref = text.strip().upper()
    return ref if REF_RE.match(ref) else ""


def full_title(values: FormValues) -> str:
    ref = follow_up_ref(values.ref)
    title = values.title.strip()
    return f"[{ref}] {title}" if ref else title


def validate(values: FormValues, config: Config, lang: str) -> dict[str, str]:
    """Field name → message, in the page language. Empty: the ticket may be created."""
    errors: dict[str, str] = {}
    if not values.title.strip():
        errors["title"] = t(lang, "error.problem_required")
    else:
        overhead = len(full_title(values)) - len(values.title.strip())
        if len(values.title.strip()) > MAX_TITLE - overhead:
            errors["title"] = t(
                lang, "error.too_long", length=len(values.title.strip()), limit=MAX_TITLE - overhead
            )
    for name in ("seat", "name", "contact"):
        value = getattr(values, name).strip()
        if len(value) > MAX_SHORT:
            errors[name] = t(lang, "error.too_long", length=len(value), limit=MAX_SHORT)
    contact = values.contact.strip()
    if "contact" not in errors and contact and not valid_contact(contact):
        errors["contact"] = t(lang, "error.contact")
    if config.hall_named(values.hall) is None:
        errors["hall"] = t(lang, "error.hall")
    if values.category not in CATEGORIES:
        errors["category"] = t(lang, "error.category")
    return errors


def find_session(store: CentralStore, hall: str, token: str) -> tuple[str, str] | None:
    """(session id, course) for the short session token of a QR link: that hall's session whose
    id starts with it, preferring one running now, else the nearest in time."""
    if not SESSION_TOKEN_RE.match(token) or not hall:
        return None
    now = store.clock.now()
    with store.read() as conn:
        rows = conn.execute(
            select(
                m.sessions.c.id, m.sessions.c.course, m.sessions.c.starts_at, m.sessions.c.ends_at
            ).where(
                m.sessions.c.hall_code == hall,
                m.sessions.c.deleted.is_(False),
                m.sessions.c.id.like(f"{token}%"),
            )
        ).all()
    if not rows:
        return None
    running = [r for r in rows if r.starts_at <= now < r.ends_at]
    best = running[0] if running else min(rows, key=lambda r: abs(r.starts_at - now))
    return str(best.id), str(best.course)


def _halls(config: Config, lang: str) -> list[tuple[str, str]]:
    return [(h.code, (h.name_ar or h.name) if lang == "ar" else h.name) for h in config.halls]


def _form_page(
    request: Request,
    lang: str,
    values: FormValues,
    token: tuple[str, str],
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    banner: str = "",
    course: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    config = store_of(request).config
    errors = errors or {}
    hall_known = config.hall_named(values.hall) is not None
    link_params = {
        "hall": values.hall if values.hall_from_link else "",
        "session": values.session,
        "seat": values.seat,
        "ref": values.ref,
    }
    response = render(
        request,
        "form.html",
        lang,
        status=status,
        headers=headers,
        switch=with_lang("/form", "en" if lang == "ar" else "ar", link_params),
        values=values,
        hall_fixed=values.hall_from_link and hall_known,
        hall_name=dict(_halls(config, lang)).get(values.hall, ""),
        halls=_halls(config, lang),
        categories=[(c, t(lang, f"category.{c}")) for c in CATEGORIES],
        followup=follow_up_ref(values.ref),
        course=course,
        errors=errors,
        banner=banner or (t(lang, "error.summary") if errors else ""),
        token=token[1],
        limits={"title": MAX_TITLE, "short": MAX_SHORT},
    )
    _set_csrf_cookie(request, response, token[0])
    return response


def _set_csrf_cookie(request: Request, response: Response, cookie: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        cookie,
        max_age=int(web_state(request).settings.csrf_max_age),
        path=request.scope.get("root_path", "") + "/form",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def _new_token(request: Request, csrf: CsrfTokens) -> tuple[str, str]:
    """(browser cookie, a new token for one form page): the visitor's cookie if this server
    set it (other tabs' tokens stay valid), else a new one."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if csrf.browser_of(cookie) is None:
        cookie = csrf.new_browser()
    return cookie, csrf.issue(cookie)


@router.get("/form")
def form_page(request: Request) -> Response:
    store = store_of(request)
    lang = language_of(request)
    q = request.query_params
    hall = q.get("hall", "").strip()
    values = FormValues(
        hall=hall,
        hall_from_link=store.config.hall_named(hall) is not None,
        session=q.get("session", "").strip()[:64],
        ref=q.get("ref", "").strip()[:64],
        title=q.get("note", "")[:MAX_TITLE],
        seat=q.get("seat", "")[:MAX_SHORT],
    )
    found = find_session(store, values.hall, values.session)
    return _form_page(
        request,
        lang,
        values,
        _new_token(request, web_state(request).csrf(store)),
        course=found[1] if found else "",
        # Kept for the browser's history: Back shows this very page and its token, so Send
        # from there is recognised as the same submission (see formguard), not a new one.
        headers={"Cache-Control": "private, no-cache"},
    )


def _message(request: Request, lang: str, status: int, text_key: str, **extra: Any) -> Response:
    return render(
        request,
        "message.html",
        lang,
        status=status,
        title_key="refused.title",
        text_key=text_key,
        back_url=with_lang("/form", lang),
        back_key="refused.back",
        **extra,
    )


@router.post("/form")
async def submit(request: Request) -> Response:
    state = web_state(request)
    store = store_of(request)
    busy = False
    try:
        wait = await run_in_threadpool(state.limiter.hit, store, client_key(request))
    except OperationalError:  # the database is busy: nothing counted, nothing filed
        wait, busy = 0.0, True
    lang = language_of(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > state.settings.max_form_bytes:
        return _message(request, lang, 413, "refused.too_large")
    body = await request.body()
    if len(body) > state.settings.max_form_bytes:
        return _message(request, lang, 413, "refused.too_large")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return _message(request, lang, 415, "refused.bad_request")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        return _message(request, lang, 400, "refused.bad_request")
    if holds_nul(pairs):  # no browser sends it, and PostgreSQL cannot store it
        return _message(request, lang, 400, "refused.bad_request")
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)  # a repeated field: the first one counts
    lang = language_of(request, form)
    values = FormValues.from_post(form)
    csrf = await run_in_threadpool(state.csrf, store)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    token = csrf.read(cookie, form.get("csrf"))
    # The page's own token while it is good (sending it again is still the same submission).
    same_token = (cookie, form["csrf"]) if token is not None and token.fresh else None
    if wait or busy:
        return _form_page(
            request,
            lang,
            values,
            same_token or _new_token(request, csrf),
            status=503 if busy else 429,
            banner=t(lang, "error.saving" if busy else "error.rate"),
            headers={"Retry-After": "2" if busy else str(math.ceil(wait))},
        )
    if token is None:
        return _form_page(
            request,
            lang,
            values,
            _new_token(request, csrf),
            status=403,
            banner=t(lang, "error.csrf"),
        )
    if form.get("website", ""):
        return _message(request, lang, 400, "refused.honeypot")
    digest = csrf.mac("form", submission_text(values))
    if same_token is None:  # expired: it may have filed this very ticket hours ago
        earlier = await run_in_threadpool(store.form_submission, token.nonce)
        if earlier is not None and earlier[1] == digest:
            return _to_sent_page(request, lang, csrf, earlier[0])
        return _form_page(
            request,
            lang,
            values,
            _new_token(request, csrf),
            status=403,
            banner=t(lang, "error.csrf"),
        )
    errors = validate(values, store.config, lang)
    if errors:
        return _form_page(request, lang, values, same_token, status=400, errors=errors)
    try:
        since = store.clock.now() - timedelta(seconds=state.settings.csrf_max_age)
        filing = await run_in_threadpool(_create, store, values, token, digest, since)
    except (TicketError, OperationalError):
        return _form_page(
            request,
            lang,
            values,
            same_token,
            status=503,
            banner=t(lang, "error.saving"),
            headers={"Retry-After": "2"},
        )
    if filing.new or filing.same:  # filed now, or this is the same post again: one ticket
        return _to_sent_page(request, lang, csrf, filing.ticket_id)
    # The token filed another problem earlier (Back, then a new text): keep what was typed.
    first = await run_in_threadpool(store.ticket, filing.ticket_id)
    return _form_page(
        request,
        lang,
        values,
        _new_token(request, csrf),
        status=409,
        banner=t(lang, "error.already_sent", ref=f"\u2066{first.ref}\u2069"),
    )


def submission_text(values: FormValues) -> str:
    """What a post asks to file, as one string: two posts file the same ticket iff equal."""
    return json.dumps(
        [
            values.hall,
            values.session,
            full_title(values),
            values.seat.strip(),
            values.category,
            values.name.strip(),
            values.contact.strip(),
        ],
        ensure_ascii=False,
    )


def _to_sent_page(request: Request, lang: str, csrf: CsrfTokens, ticket_id: str) -> Response:
    """303 to the confirmation, which only this browser may see (a signed cookie)."""
    response = RedirectResponse(with_lang(f"/form/sent/{ticket_id}", lang), status_code=303)
    response.set_cookie(
        SENT_COOKIE,
        f"{ticket_id}.{csrf.mac('sent', ticket_id)}",
        max_age=24 * 3600,
        path=request.scope.get("root_path", "") + "/form/sent",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


def _create(
    store: CentralStore, values: FormValues, token: FormToken, digest: str, since: datetime
) -> FormFiling:
    found = find_session(store, values.hall, values.session)
    draft = TicketDraft(
        title=full_title(values),
        seat=values.seat.strip(),
        trainee_name=values.name.strip(),
        trainee_contact=values.contact.strip(),
        category=values.category,
        channel="web_form",
        hall_code=values.hall,
        session_id=found[0] if found else None,
    )
    return store.file_form_ticket(draft, ACTOR, token.nonce, digest, token.browser, since)


@router.get("/form/sent/{ticket_id}")
def sent_page(ticket_id: str, request: Request) -> Response:
    """The confirmation, with what was sent (name and contact too) — only in the browser that
    sent it (a signed cookie); anyone else holding the id gets the status page instead, which
    shows no personal details (its QR code may be on a projector)."""
    store = store_of(request)
    lang = language_of(request)
    canonical = parse_ticket_id(ticket_id)
    if canonical is None:
        return not_found(request, lang)
    csrf = web_state(request).csrf(store)
    cookie = request.cookies.get(SENT_COOKIE, "")
    if cookie != f"{canonical}.{csrf.mac('sent', canonical)}":
        return RedirectResponse(with_lang(f"/status/{canonical}", lang), status_code=303)
    try:
        ticket = store.ticket(canonical)
    except TicketNotFound:
        return not_found(request, lang)
    link = with_lang(status_url(str(request.base_url), ticket.id), lang)
    hall = store.config.hall_named(ticket.hall_code)
    return render(
        request,
        "sent.html",
        lang,
        ticket=ticket,
        status_link=link,
        qr=qr_svg(link, t(lang, "sent.qr")),
        hall_name=((hall.name_ar or hall.name) if lang == "ar" else hall.name) if hall else "",
        category=t(lang, f"category.{ticket.category}"),
        again_url=with_lang("/form", lang, {"hall": ticket.hall_code}),
        switch=with_lang(f"/form/sent/{ticket.id}", "en" if lang == "ar" else "ar"),
    )
