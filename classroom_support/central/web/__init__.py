"""The trainee-facing pages of the central server, in Arabic (default, right-to-left) and
English: the web support form and its confirmation (`form`), ticket status (`status`), the
knowledge base (`kb_pages`), and the one stylesheet. HTML only, no scripts, no external assets.

`router` holds them all; `create_app` includes it next to the sync API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from classroom_support.central.web import form, kb_pages, status
from classroom_support.central.web.common import (
    STATIC,
    WebSettings,
    WebState,
    configure_web,
    css_version,
    language_of,
    with_lang,
)

router = APIRouter(include_in_schema=False)
router.include_router(form.router)
router.include_router(status.router)
router.include_router(kb_pages.router)


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse(with_lang("/form", language_of(request)), status_code=303)


@router.get("/static/web.css")
def stylesheet() -> Response:
    return Response(
        (STATIC / "web.css").read_bytes(),
        media_type="text/css; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=86400",
            "ETag": f'"{css_version()}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


__all__ = ["WebSettings", "WebState", "configure_web", "router"]
