"""Knowledge-base pages: `/kb` (all articles, or `?q=` search in Arabic and English at once,
diacritics-insensitive) and `/kb/{slug}` (one article, its Markdown rendered safely: raw HTML
shown as text, only http(s) and relative links). The article in the page language, falling back
to the other one when it has only one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from classroom_support.central.kb import CentralKnowledgeBase
from classroom_support.central.web.common import language_of, not_found, render, store_of, with_lang
from classroom_support.kb import MAX_QUERY, SLUG_RE, render_markdown

router = APIRouter(include_in_schema=False)


@router.get("/kb")
def kb_index(request: Request) -> Response:
    lang = language_of(request)
    kb = CentralKnowledgeBase(store_of(request))
    query = request.query_params.get("q", "").strip()[:MAX_QUERY]
    articles = kb.search(query) if query else kb.articles()
    return render(
        request,
        "kb_list.html",
        lang,
        query=query,
        articles=[(a.slug, a.title_in(lang), a.tags) for a in articles],
        switch=with_lang("/kb", "en" if lang == "ar" else "ar", {"q": query}),
    )


@router.get("/kb/{slug}")
def kb_article(slug: str, request: Request) -> Response:
    lang = language_of(request)
    if not SLUG_RE.match(slug):
        return not_found(request, lang)
    article = CentralKnowledgeBase(store_of(request)).get(slug)
    if article is None:
        return not_found(request, lang)
    body = article.body_in(lang)
    # The body's own language decides its direction when it is the fallback one.
    body_lang = (
        lang
        if (article.body_ar if lang == "ar" else article.body)
        else ("en" if lang == "ar" else "ar")
    )
    return render(
        request,
        "kb_article.html",
        lang,
        article=article,
        title=article.title_in(lang),
        body_html=Markup(render_markdown(body)),
        body_lang=body_lang,
        body_dir="rtl" if body_lang == "ar" else "ltr",
    )
