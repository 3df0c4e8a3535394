"""The knowledge base on the laptop: search the synced articles, read one, show its QR code.

`KnowledgeBaseScreen` (``k`` on the queue and on a ticket) searches as you type with the same
Arabic-aware matching as the central server (`kb.search`; when no article has every word, the
closest ones by `kb.suggest`). `ArticleScreen` reads an article and `ArticleCodeScreen` shows
the QR code of its page on the central server, for a trainee's phone.

Article text is data, never markup: the Markdown is parsed with markdown-it (raw HTML off,
links limited by `kb.safe_link`) and drawn as plain `Content` lines, wrapped in logical order
and then shaped for the terminal like every other text (so Arabic reads right). Links are
shown with their address after the text; nothing on the screen opens a link.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from classroom_support import i18n
from classroom_support.i18n import display, tr, ui
from classroom_support.kb import LocalKnowledgeBase, fold_text, safe_link, search, suggest
from classroom_support.qr import kb_url
from classroom_support.screens.base import AppScreen
from classroom_support.screens.trainee_qr import block as text_block
from classroom_support.textsafe import visible
from classroom_support.widgets import (
    BidiInput,
    HallHeader,
    LocalizedFooter,
    QRCode,
    data_text,
    paragraph_text,
)

MAX_LISTED = 200
SUGGESTIONS = 3


def other_language(language: str) -> str:
    return "en" if language == "ar" else "ar"


def body_language(article: Any, language: str) -> str:
    """The language the article's body is shown in: `language` when it has that text."""
    own = article.body_ar if language == "ar" else article.body
    return language if own.strip() else other_language(language)


def title_of(article: Any, language: str) -> str:
    if language == "ar":
        return str(article.title_ar or article.title)
    return str(article.title or article.title_ar)


# --------------------------------------------------------------------------- Markdown


@dataclass(frozen=True)
class Block:
    """One block of an article in logical order: `prefix` starts its first line (a bullet, a
    number, "> "), `indent` every line; `kind` picks the style ("h", "p", "code", "rule")."""

    kind: str
    text: str
    indent: int = 0
    prefix: str = ""
    gap: bool = True  # a blank line before it (not between the items of a tight list)


def _parser() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = safe_link  # type: ignore[method-assign]
    return md


_MD: Any = None


def _inline(token: Any) -> str:
    """The text of an inline token: emphasis marks dropped, links as "text (address)",
    images (there are none on the server's pages) as their description."""
    out: list[str] = []
    hrefs: list[tuple[str, int]] = []
    for child in token.children or ():
        kind = child.type
        if kind in ("text", "code_inline", "html_inline"):
            out.append(child.content)
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "link_open":
            hrefs.append((str(child.attrGet("href") or ""), len(out)))
        elif kind == "link_close" and hrefs:
            href, start = hrefs.pop()
            label = "".join(out[start:])
            if href and href != label:
                out.append(f" ({href})")
        elif kind == "image":
            out.append(child.content)
    return "".join(out)


def markdown_blocks(text: str) -> list[Block]:
    """The blocks of an article's Markdown body."""
    global _MD
    if _MD is None:
        _MD = _parser()
    blocks: list[Block] = []
    lists: list[list[int]] = []  # per open list: [ordered?, next number]
    quote = 0
    pending = ""  # a list item's marker, put on its first paragraph
    heading = False
    tight = False  # the paragraph being read is hidden: an item of a tight list
    first_item = False
    for token in _MD.parse(text):
        kind = token.type
        indent = 2 * max(0, len(lists) - 1) + 2 * quote
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = int(token.attrGet("start") or 1) if kind == "ordered_list_open" else 0
            lists.append([kind == "ordered_list_open", start])
            first_item = len(lists) == 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open" and lists:
            ordered, number = lists[-1]
            pending = f"{number}. " if ordered else "• "
            lists[-1][1] = number + 1
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "paragraph_open":
            tight = bool(token.hidden)
        elif kind == "heading_open":
            heading = True
        elif kind == "heading_close":
            heading = False
        elif kind == "inline":
            prefix = pending or ("│ " if quote else "")
            if pending:
                indent = 2 * (len(lists) - 1) + 2 * quote
            elif lists:
                indent = 2 * len(lists) + 2 * quote
            gap = not (tight and lists and not first_item)
            blocks.append(Block("h" if heading else "p", _inline(token), indent, prefix, gap))
            pending, tight, first_item = "", False, False
        elif kind in ("fence", "code_block"):
            blocks.append(Block("code", token.content.rstrip("\n"), indent + 2))
        elif kind == "hr":
            blocks.append(Block("rule", ""))
    return blocks


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += textwrap.wrap(
            paragraph, max(width, 1), break_long_words=True, break_on_hyphens=False
        ) or [""]
    return lines


def render_article(text: str, width: int) -> Content:
    """The article as terminal lines `width` cells wide: wrapped in logical order (a wrapped
    right-to-left line would be reordered across the break), then each line shaped. Control
    and bidi-control characters are shown as visible stand-ins; markup stays text."""
    rows: list[Content] = []
    for block in markdown_blocks(text):
        if rows and block.gap:
            rows.append(Content(""))
        if block.kind == "rule":
            rows.append(Content.styled("─" * max(1, min(width, 40)), "dim"))
            continue
        if block.kind == "code":
            for line in visible(block.text).split("\n"):
                rows.append(Content.styled(" " * block.indent + display(line), "bold"))
            continue
        room = width - block.indent - len(block.prefix)
        for n, line in enumerate(_wrap(visible(block.text), room)):
            lead = block.prefix if n == 0 else " " * len(block.prefix)
            shown = display(" " * block.indent + lead + line)
            rows.append(Content.styled(shown, "bold") if block.kind == "h" else Content(shown))
    return Content("\n").join(rows)


class ArticleBody(Static):
    """An article body that wraps itself again when its width changes."""

    def __init__(self, markdown: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.markdown = markdown
        self.drawn_width = 0

    def on_mount(self) -> None:
        self.draw()

    def on_resize(self, event: Resize) -> None:
        self.draw()

    def draw(self) -> None:
        width = self.content_size.width or max(20, self.app.size.width - 4)
        if width != self.drawn_width:
            self.drawn_width = width
            self.update(render_article(self.markdown, width))


# --------------------------------------------------------------------------- list


class KnowledgeBaseScreen(AppScreen[None]):
    """Search as you type; Enter opens the article under the cursor (or the first one)."""

    AUTO_FOCUS = "#kb-search"
    BINDINGS = [
        Binding("escape", "back", "key.back", id="kb-back"),
        Binding("down", "to_list", show=False),
    ]

    def __init__(self, query: str = "", *, ticket_ref: str | None = None) -> None:
        super().__init__()
        self.initial_query = query
        self.ticket_ref = ticket_ref
        self.articles: list[Any] = []
        self.shown: list[Any] = []

    def compose(self) -> ComposeResult:
        yield HallHeader(id="header")
        yield Static(id="kb-title")
        yield BidiInput(
            value=self.initial_query, placeholder=ui("kb.search_placeholder"), id="kb-search"
        )
        yield Static(id="kb-note", classes="hidden")
        yield OptionList(id="kb-list")
        yield Static(id="kb-empty", classes="hidden")
        yield LocalizedFooter()

    def on_mount(self) -> None:
        self.populate()

    def populate(self) -> None:
        self.articles = LocalKnowledgeBase(self.ctx.db).articles()
        title = tr("kb.title", count=len(self.articles))
        if self.ticket_ref:
            title += " · " + tr("kb.for_ticket", ref=self.ticket_ref)
        self.query_one("#kb-title", Static).update(data_text(title))
        self.refresh_list()

    def save_state(self) -> dict[str, Any]:
        return {"query": self.query_one("#kb-search", Input).value}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.query_one("#kb-search", Input).value = state.get("query", "")
        self.refresh_list()

    def matches(self, query: str) -> tuple[list[Any], str]:
        """The articles to list and a note about them ("" when none is needed)."""
        if not query.strip():
            language = i18n.language()
            ordered = sorted(self.articles, key=lambda a: fold_text(title_of(a, language)))
            return ordered, ""
        found = search(self.articles, query)
        if found:
            return found, ""
        close = suggest(self.articles, query, limit=MAX_LISTED)
        return close, tr("kb.close_matches") if close else ""

    @on(Input.Changed, "#kb-search")
    def typed(self, event: Input.Changed) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        query = self.query_one("#kb-search", Input).value
        options = self.query_one("#kb-list", OptionList)
        empty = self.query_one("#kb-empty", Static)
        note = self.query_one("#kb-note", Static)
        self.shown, note_text = self.matches(query)
        self.shown = self.shown[:MAX_LISTED]
        note.update(paragraph_text(note_text, single_line=True))
        note.set_class(not note_text, "hidden")
        language = i18n.language()
        width = max(20, self.app.size.width - 6)
        options.clear_options()
        options.add_options(
            Option(data_text(title_of(a, language), limit=width), id=a.slug) for a in self.shown
        )
        if self.shown:
            options.highlighted = 0
            empty.add_class("hidden")
            options.remove_class("hidden")
            return
        message = tr("kb.no_match", query=query.strip()) if self.articles else tr("kb.empty")
        empty.update(paragraph_text(message, limit=300))
        empty.remove_class("hidden")
        options.add_class("hidden")

    def action_to_list(self) -> None:
        if self.shown:
            self.query_one("#kb-list", OptionList).focus()

    @on(Input.Submitted, "#kb-search")
    def submitted(self, event: Input.Submitted) -> None:
        options = self.query_one("#kb-list", OptionList)
        index = options.highlighted or 0
        if index < len(self.shown):
            self.open_article(self.shown[index].slug)
        else:
            self.app.bell()

    @on(OptionList.OptionSelected, "#kb-list")
    def selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.open_article(event.option.id)

    def open_article(self, slug: str) -> None:
        self.app.push_screen(ArticleScreen(slug, ticket_ref=self.ticket_ref))

    def action_back(self) -> None:
        self.dismiss(None)


# --------------------------------------------------------------------------- reader


class ArticleScreen(AppScreen[None]):
    """One article, scrollable; `q` shows the QR code of its page, `l` its other language."""

    AUTO_FOCUS = "#kb-scroll"
    BINDINGS = [
        Binding("escape", "back", "key.back", id="kb-back"),
        Binding("q", "article_qr", "key.kb_qr", id="kb-article-qr"),
        Binding("l", "other_language", "key.kb_other_language", id="kb-other-language"),
    ]

    def __init__(self, slug: str, *, ticket_ref: str | None = None) -> None:
        super().__init__()
        self.slug = slug
        self.ticket_ref = ticket_ref
        self.article: Any = None
        self.ui_language = self.shown_language = i18n.language()

    def compose(self) -> ComposeResult:
        if self.ui_language != i18n.language():  # F9: the article follows the interface
            self.ui_language = self.shown_language = i18n.language()
        self.article = LocalKnowledgeBase(self.ctx.db).get(self.slug)
        yield HallHeader(id="header")
        yield Static(id="kb-article-title")
        with VerticalScroll(id="kb-scroll"):
            if self.article is None:
                yield Static(data_text(tr("kb.gone")), id="kb-body")
            else:
                language = body_language(self.article, self.shown_language)
                text = self.article.body_ar if language == "ar" else self.article.body
                body = ArticleBody(text, id="kb-body")
                body.set_class(language == "ar", "-rtl-body")
                yield body
        yield LocalizedFooter()

    def on_mount(self) -> None:
        self.populate()

    def populate(self) -> None:
        title = title_of(self.article, self.shown_language) if self.article else self.slug
        self.query_one("#kb-article-title", Static).update(
            data_text(title, limit=2 * self.app.size.width)
        )

    def save_state(self) -> dict[str, Any]:
        return {"y": self.query_one("#kb-scroll", VerticalScroll).scroll_y}

    def restore_state(self, state: dict[str, Any]) -> None:
        scroll = self.query_one("#kb-scroll", VerticalScroll)
        self.call_after_refresh(scroll.scroll_to, y=state.get("y", 0), animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("article_qr", "other_language") and self.article is None:
            return None
        return True

    def refusal(self, action: str) -> str | None:
        if action in ("article_qr", "other_language") and self.article is None:
            return tr("dimmed.no_article")
        return None

    async def action_other_language(self) -> None:
        self.shown_language = other_language(self.shown_language)
        await self.recompose()

    def action_article_qr(self) -> None:
        self.app.push_screen(ArticleCodeScreen(self.slug))

    def action_back(self) -> None:
        self.dismiss(None)


class ArticleCodeScreen(AppScreen[None]):
    """The QR code of an article's page on the central server, its title and address beside
    it (below it when the terminal is narrow)."""

    BINDINGS = [
        Binding("escape", "back", "key.back", id="kb-back"),
    ]

    def __init__(self, slug: str) -> None:
        super().__init__()
        self.slug = slug

    def compose(self) -> ComposeResult:
        article = LocalKnowledgeBase(self.ctx.db).get(self.slug)
        url = kb_url(self.ctx.config.central_url, self.slug)
        self.url = url
        language = i18n.language()
        side = max(28, self.app.size.width // 2 - 2)  # #kb-qr-side: half the width, padded
        yield Static(data_text(tr("kb.qr_title")), id="kb-qr-head")
        with Horizontal(id="kb-qr-cards"):
            yield QRCode(url, id="kb-qr-code")
            with Vertical(id="kb-qr-side"):
                for line, extra in (
                    (title_of(article, language) if article else self.slug, "kb-qr-caption"),
                    (tr("kb.qr_hint"), ""),
                    (url, "kb-qr-url"),
                ):
                    # Wrapped in logical order, then shaped (see trainee_qr.block).
                    yield Static(
                        text_block(line[:300], side), classes="kb-qr-line", id=extra or None
                    )
        yield LocalizedFooter()

    def action_back(self) -> None:
        self.dismiss(None)


def suggestions_for(ctx: Any, text: str) -> list[Any]:
    """Up to `SUGGESTIONS` articles for a ticket's problem text (cheap: a few articles)."""
    return suggest(LocalKnowledgeBase(ctx.db).articles(), text, SUGGESTIONS)
