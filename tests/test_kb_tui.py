"""The knowledge base on the laptop: search as you type, the reader, the article's QR code, and
the suggestions on a ticket. Articles are put in the laptop's table as a sync leaves them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import FIXED_NOW
from qr_screen import decode_screen, screen_cells, screen_text
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.context import AppContext
from classroom_support.i18n import display
from classroom_support.kb import Article, read_articles, starter_articles_dir
from classroom_support.models import KbArticleRow
from classroom_support.qr import kb_url
from classroom_support.screens.help import HelpScreen
from classroom_support.screens.kb import (
    ArticleCodeScreen,
    ArticleScreen,
    KnowledgeBaseScreen,
    render_article,
)
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.tickets import TicketDraft

MakeApp = Callable[..., ClassroomSupportApp]
SMALL, MEDIUM = (80, 24), (120, 36)

NASTY = Article(
    slug="nasty-text",
    title="Odd text [bold]x[/]",
    title_ar="نص غريب",
    body=(
        "Literal [bold]x[/] and [link=https://evil.example]click[/link].\n\n"
        "Escape \x1b[31mred\x1b[0m here.\n\n"
        "[site](https://khit.sa/help) and [bad](javascript:alert(1))"
    ),
)


def add_articles(ctx: AppContext, articles: list[Article]) -> None:
    with ctx.db.write() as s:
        for n, article in enumerate(articles):
            s.add(
                KbArticleRow(
                    id=f"id-{n}",
                    slug=article.slug,
                    title=article.title,
                    title_ar=article.title_ar,
                    tags=",".join(article.tags),
                    body=article.body,
                    body_ar=article.body_ar,
                    updated_at=FIXED_NOW,
                )
            )


def starter() -> list[Article]:
    return read_articles(starter_articles_dir())


def listed(app: ClassroomSupportApp) -> list[str]:
    options = app.screen.query_one("#kb-list", OptionList)
    if not options.display:
        return []
    return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]


def text_of(app: ClassroomSupportApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_search_as_you_type_narrows_the_list_and_enter_opens_the_article(
    make_app: MakeApp, language: str
) -> None:
    app = make_app(language=language)
    add_articles(app.ctx, starter())
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, KnowledgeBaseScreen)
        assert len(listed(app)) == 4  # nothing typed: every article
        await pilot.press(*"wifi")
        await settle(pilot)
        assert listed(app) == ["wifi-connection"]
        # Arabic with harakat and shadda, the article, and ta marbuta typed as ha: the same
        # folding as the server finds "سماعة".
        search = app.screen.query_one("#kb-search", Input)
        search.value = ""
        await settle(pilot)
        await pilot.press(*"السَّمّاعه")
        await settle(pilot)
        assert listed(app) == ["headset-audio"]
        # A hamza left off and a ta marbuta as ha: "إشارة" — the projector article first.
        search.value = ""
        await pilot.press(*"اشَارَه")
        await settle(pilot)
        assert listed(app)[0] == "projector-no-signal"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ArticleScreen)
        assert app.screen.slug == "projector-no-signal"
        shown = screen_text(screen_cells(app))
        assert "HDMI" in shown
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, KnowledgeBaseScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, KnowledgeBaseScreen)


async def test_empty_knowledge_base_and_no_match_say_so(make_app: MakeApp) -> None:
    app = make_app(language="en")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("k")
        await settle(pilot)
        assert listed(app) == []
        assert "The knowledge base is empty" in text_of(app, "#kb-empty")
        assert "classroom-support sync" in text_of(app, "#kb-empty")
        await pilot.press("escape")
        add_articles(app.ctx, starter())
        await pilot.press("k")
        await settle(pilot)
        await pilot.press(*"zzqx")
        await settle(pilot)
        assert listed(app) == []
        assert text_of(app, "#kb-empty") == "No article matches “zzqx”."
        await pilot.press("enter")  # nothing to open: stays, no traceback
        await settle(pilot)
        assert isinstance(app.screen, KnowledgeBaseScreen)


async def test_article_text_is_shown_literally_and_links_as_text(make_app: MakeApp) -> None:
    app = make_app(language="en")
    add_articles(app.ctx, [NASTY])
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ArticleScreen)
        shown = screen_text(screen_cells(app))
        assert "Odd text [bold]x[/]" in shown
        assert "Literal [bold]x[/] and [link=https://evil.example]click[/link]." in shown
        assert "\x1b" not in shown and "␛[31mred␛[0m" in shown
        assert "site (https://khit.sa/help)" in shown
        assert "[bad](javascript:alert(1))" in shown  # not a link at all


def test_markdown_lists_and_wrapping_keep_logical_order() -> None:
    text = "# Title\n\n1. first step is long enough to wrap\n2. second\n\n- a\n- b"
    lines = render_article(text, 20).plain.split("\n")
    assert lines == [
        "Title",
        "",
        "1. first step is",
        "   long enough to",
        "   wrap",
        "2. second",
        "",
        "• a",
        "• b",
    ]


@pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
@pytest.mark.parametrize("language", ["en", "ar"])
async def test_article_qr_code_decodes_to_the_article_link(
    make_app: MakeApp, language: str, size: tuple[int, int]
) -> None:
    app = make_app(language=language)
    add_articles(app.ctx, starter())
    async with app.run_test(size=size) as pilot:
        await pilot.press("k")
        await settle(pilot)
        await pilot.press(*"projector", "enter")
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ArticleCodeScreen)
        expected = kb_url(app.ctx.config.central_url, "projector-no-signal")
        assert expected == "https://support.khit.sa/kb/projector-no-signal"
        assert decode_screen(app) == [expected]
        # The link is on screen as text too, whole (wrapped only when wider than the side).
        link = app.screen.query_one("#kb-qr-url", Static)
        assert str(link.render()).replace("\n", "") == expected


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_ticket_detail_suggests_articles_and_k_opens_them(
    make_app: MakeApp, language: str
) -> None:
    app = make_app(language=language)
    add_articles(app.ctx, starter())
    app.ctx.desk.create(TicketDraft(title="جهاز العرض لا يظهر صورة الحاسب", seat="3"))
    async with app.run_test(size=MEDIUM) as pilot:
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketDetailScreen)
        line = app.screen.query_one("#detail-kb", Static)
        assert line.display
        assert [a.slug for a in app.screen.suggested or []] == ["projector-no-signal"]
        title = "Projector shows" if language == "en" else "جهاز العرض يظهر"
        assert display(title) in str(line.render())  # as the terminal shows it
        assert display(title) in screen_text(screen_cells(app))
        ref = app.screen.ref
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, KnowledgeBaseScreen)
        assert app.screen.query_one("#kb-search", Input).value == "جهاز العرض لا يظهر صورة الحاسب"
        assert listed(app)[0] == "projector-no-signal"
        assert ref in text_of(app, "#kb-title")


async def test_detail_without_matching_article_shows_no_suggestion_line(
    make_app: MakeApp,
) -> None:
    app = make_app(language="en")
    add_articles(app.ctx, starter())
    app.ctx.desk.create(TicketDraft(title="Printer in the hall is jammed", seat="3"))
    async with app.run_test(size=MEDIUM) as pilot:
        await pilot.press("enter")
        await settle(pilot)
        assert not app.screen.query_one("#detail-kb", Static).display


async def test_help_lists_the_knowledge_base_key(make_app: MakeApp) -> None:
    app = make_app(language="en")
    async with app.run_test(size=MEDIUM) as pilot:
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "       k  Articles\n" in text_of(app, "#help-text")


async def test_demo_has_the_starter_articles(make_app: MakeApp) -> None:
    app = make_app(language="en", demo=True)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("k")
        await settle(pilot)
        assert sorted(listed(app)) == sorted(a.slug for a in starter())


def test_suggestions_need_a_telling_word_not_just_a_common_one() -> None:
    from classroom_support.kb import suggest

    articles = starter()

    def slugs(text: str) -> list[str]:
        return [a.slug for a in suggest(articles, text)]

    assert slugs("جهاز العرض لا يظهر صورة الحاسب") == ["projector-no-signal"]
    assert slugs("الصوت لا يعمل في السماعات") == ["headset-audio"]
    assert slugs("Forgot platform password") == ["platform-login"]
    # Only common words ("not", "working", "يعمل"): no suggestion rather than a wrong one.
    assert slugs("Mouse not working") == []
    assert slugs("Need Excel add-in installed") == []
    assert slugs("لا يعمل") == []
