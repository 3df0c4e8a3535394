"""The knowledge base (self-help articles): the article format, search that ignores Arabic
diacritics and letter variants, and safe Markdown rendering. Headless and pure (no I/O but
reading a file someone names); the central server stores and serves articles, laptops keep a
synced copy for offline use (see `LocalKnowledgeBase`).

An article file is Markdown with a small front matter; an optional line `<!-- ar -->` starts
the Arabic body (before it: the English body)::

    ---
    title: Projector shows "No signal"
    title_ar: جهاز العرض يعرض "لا توجد إشارة"
    slug: projector-no-signal
    tags: projector, hdmi, جهاز العرض
    ---
    English text ...

    <!-- ar -->
    النص العربي ...
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

MAX_SLUG = 80
MAX_TITLE = 200
MAX_TAGS = 20
MAX_TAG = 40
MAX_BODY = 100_000  # characters, per language
MAX_QUERY = 200
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
ARABIC_MARKER = "<!-- ar -->"
FRONT_KEYS = ("title", "title_ar", "slug", "tags")


class ArticleError(ValueError):
    """An article that cannot be stored; the message names the field."""


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    title_ar: str = ""
    tags: tuple[str, ...] = ()
    body: str = ""
    body_ar: str = ""

    def title_in(self, language: str) -> str:
        if language == "ar":
            return self.title_ar or self.title
        return self.title or self.title_ar

    def body_in(self, language: str) -> str:
        if language == "ar":
            return self.body_ar or self.body
        return self.body or self.body_ar


def check_article(article: Article) -> Article:
    """The article as it will be stored (trimmed titles and tags), or ArticleError."""
    slug = article.slug.strip()
    if not SLUG_RE.match(slug):
        raise ArticleError(
            f"slug {slug[:40]!r}: lowercase letters, digits and dashes, 1-{MAX_SLUG} characters"
        )
    title, title_ar = article.title.strip(), article.title_ar.strip()
    if not title and not title_ar:
        raise ArticleError("title: an article needs a title (title or title_ar)")
    for name, value in (("title", title), ("title_ar", title_ar)):
        if len(value) > MAX_TITLE or "\n" in value:
            raise ArticleError(f"{name}: one line of at most {MAX_TITLE} characters")
    tags = tuple(dict.fromkeys(t.strip() for t in article.tags if t.strip()))
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG or "," in t for t in tags):
        raise ArticleError(f"tags: at most {MAX_TAGS}, each at most {MAX_TAG} characters")
    for name, value in (("body", article.body), ("body_ar", article.body_ar)):
        if len(value) > MAX_BODY:
            raise ArticleError(f"{name}: at most {MAX_BODY} characters")
    if not article.body.strip() and not article.body_ar.strip():
        raise ArticleError("body: an article needs some text")
    return Article(slug, title, title_ar, tags, article.body.strip(), article.body_ar.strip())


def parse_tags(text: str) -> tuple[str, ...]:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return tuple(t.strip().strip("'\"").strip() for t in text.split(",") if t.strip())


def parse_article(text: str, *, source: str = "article") -> Article:
    """An article from its file text (front matter + Markdown), checked."""
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ArticleError(f"{source}: the file must start with a '---' front matter line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ArticleError(f"{source}: the front matter has no closing '---' line") from None
    front: dict[str, str] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in FRONT_KEYS:
            raise ArticleError(
                f"{source}:{number}: expected one of {', '.join(FRONT_KEYS)} as 'key: value'"
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        front[key] = value
    body = "\n".join(lines[end + 1 :])
    english, marker, arabic = body.partition(ARABIC_MARKER)
    if not marker:
        english, arabic = body, ""
    try:
        return check_article(
            Article(
                slug=front.get("slug", ""),
                title=front.get("title", ""),
                title_ar=front.get("title_ar", ""),
                tags=parse_tags(front.get("tags", "")),
                body=english,
                body_ar=arabic,
            )
        )
    except ArticleError as exc:
        raise ArticleError(f"{source}: {exc}") from None


def read_articles(folder: Path) -> list[Article]:
    """Every `*.md` file in `folder` (sorted by name); raises ArticleError on the first bad one
    or on two files with the same slug, so an import is all or nothing."""
    found: list[Article] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.md")):
        article = parse_article(path.read_text(encoding="utf-8"), source=path.name)
        if article.slug in seen:
            raise ArticleError(
                f"{path.name}: slug {article.slug!r} is also in {seen[article.slug]}"
            )
        seen[article.slug] = path.name
        found.append(article)
    return found


def starter_articles_dir() -> Path:
    """The articles that ship with the product (common hall problems, Arabic and English)."""
    return Path(__file__).parent / "kb_articles"


# --------------------------------------------------------------------------- search

_TATWEEL = "\u0640"
# After NFKD has split hamza/madda off their carriers (and the marks are gone), these remain.
_LETTERS = str.maketrans(
    {
        "\u0671": "\u0627",  # alef wasla -> alef
        "\u0629": "\u0647",  # ta marbuta -> ha
        "\u0649": "\u064a",  # alef maqsura -> ya
        "\u06cc": "\u064a",  # Farsi ya -> ya
        "\u06a9": "\u0643",  # keheh -> kaf
        _TATWEEL: None,
    }
)
_WORD = re.compile(r"\w+")


def fold_text(text: str) -> str:
    """Text reduced for matching: compatibility forms unified (Arabic presentation forms, full
    width Latin), every combining mark dropped (Arabic harakat, shadda, superscript alef, and
    the hamza/madda that NFKD splits off أ إ آ ؤ ئ; Latin accents), tatweel removed, alef
    wasla/ta marbuta/alef maqsura unified, digits made ASCII, case folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = kept.translate(_LETTERS)
    out = []
    for ch in kept:
        digit = unicodedata.decimal(ch, None) if not ch.isascii() else None
        out.append(str(digit) if digit is not None else ch)
    return "".join(out).casefold()


# The definite article, alone or after a clitic (و ب ف ك ل): "الإشارة" should find "إشارة".
_ARTICLE = re.compile("^(?:[\u0648\u0628\u0641\u0643]?\u0627\u0644|\u0644\u0644)(?=..)")


def query_words(query: str) -> list[str]:
    """The folded words of a query, without a leading Arabic definite article (a substring
    match on the rest still finds the word with its article)."""
    words = _WORD.findall(fold_text(query[:MAX_QUERY]))
    return list(dict.fromkeys(_ARTICLE.sub("", w) if len(w) >= 5 else w for w in words))


class Searchable(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def title_ar(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def body_ar(self) -> str: ...


T = TypeVar("T", bound=Searchable)


def _tags_text(item: Any) -> str:
    tags = item.tags
    return " ".join(tags) if isinstance(tags, tuple | list) else str(tags)


def search(items: Iterable[T], query: str) -> list[T]:
    """Items in which every word of the query occurs (as part of a word: "بروجكتر" finds
    "والبروجكتر"), in both languages at once, best first: title hits, then tag hits, then
    how often the words occur in the text. An empty query finds nothing."""
    words = query_words(query)
    if not words:
        return []
    scored: list[tuple[int, str, T]] = []
    for item in items:
        title = fold_text(f"{item.title} {item.title_ar}")
        tags = fold_text(_tags_text(item))
        body = fold_text(f"{item.body} {item.body_ar}")
        score = 0
        for word in words:
            in_title, in_tags, in_body = word in title, word in tags, body.count(word)
            if not (in_title or in_tags or in_body):
                break
            score += 100 * in_title + 20 * in_tags + min(in_body, 10)
        else:
            scored.append((score, title, item))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [item for _score, _title, item in scored]


# Words too common to say what a problem is about (compared after folding, see `fold_text`).
_COMMON = (
    "the and for with not are was were from this that does doesn can cannot has have had",
    "any all after into very when what there their its our your his her they them",
    "need please unable able work works working",
    "أستطيع استطيع يمكن يمكنني أريد اريد ممكن يعمل تعمل يشتغل تشتغل",
    "في من على إلى الى عند لا لم لن ما مع عن هذا هذه ذلك جدا بعد قبل كل أو او ثم",
)
_COMMON_WORDS = frozenset(fold_text(word) for line in _COMMON for word in line.split())


def suggest(items: Iterable[T], text: str, limit: int = 3) -> list[T]:
    """Items that look relevant to free text such as a ticket's problem, best first. Unlike
    `search`, not every word has to occur: an item qualifies with a word in its title or
    tags, or with at least two (and two thirds) of the words in its text. Common and one- or
    two-letter words are ignored."""
    words = [w for w in query_words(text) if len(w) >= 3 and w not in _COMMON_WORDS]
    if not words:
        return []
    scored: list[tuple[int, str, T]] = []
    for item in items:
        title = fold_text(f"{item.title} {item.title_ar}")
        tags = fold_text(_tags_text(item))
        body = fold_text(f"{item.body} {item.body_ar}")
        score = heading = found = 0
        for word in words:
            in_title, in_tags, in_body = word in title, word in tags, body.count(word)
            heading += in_title or in_tags
            found += bool(in_title or in_tags or in_body)
            score += 100 * in_title + 20 * in_tags + min(in_body, 10)
        if heading or (found >= 2 and 3 * found >= 2 * len(words)):
            scored.append((score, title, item))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [item for _score, _title, item in scored[:limit]]


# --------------------------------------------------------------------------- rendering

SAFE_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:")


def safe_link(url: str) -> bool:
    """Links may be http(s) or relative (path, query or fragment); nothing else: no
    javascript:, data:, vbscript:, file:, mailto: ... (checked after entity decoding and
    normalisation, which markdown-it does before asking)."""
    cleaned = "".join(ch for ch in url if ch.isprintable() and not ch.isspace())
    if _SCHEME.match(cleaned):
        return urlsplit(cleaned).scheme.lower() in SAFE_SCHEMES
    return not cleaned.startswith("\\")  # "\\host" is read by browsers as "//host"


def _markdown() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")  # no third-party images on the phone (and the CSP forbids them)
    md.validateLink = safe_link  # type: ignore[method-assign]

    def link_open(self: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
        return str(self.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


_MD: Any = None


def render_markdown(text: str) -> str:
    """HTML for an article body. Raw HTML in the Markdown is shown as text (html disabled),
    images are not loaded, and links that are not http(s) or relative lose their href."""
    global _MD
    if _MD is None:
        _MD = _markdown()
    return str(_MD.render(text))


# --------------------------------------------------------------------------- on the laptop


class LocalKnowledgeBase:
    """The laptop's synced copy (table `kb_article`), readable offline."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def articles(self) -> list[Any]:
        from sqlmodel import select

        from classroom_support.models import KbArticleRow

        with self.db.read() as s:
            return list(s.exec(select(KbArticleRow).order_by(KbArticleRow.slug)).all())

    def get(self, slug: str) -> Any | None:
        from sqlmodel import select

        from classroom_support.models import KbArticleRow

        with self.db.read() as s:
            return s.exec(select(KbArticleRow).where(KbArticleRow.slug == slug)).first()

    def search(self, query: str) -> list[Any]:
        return search(self.articles(), query)

    def suggest(self, text: str, limit: int = 3) -> list[Any]:
        return suggest(self.articles(), text, limit)
