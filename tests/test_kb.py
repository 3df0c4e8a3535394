"""The knowledge base: search normalisation (Arabic and English), the article format, safe
Markdown, the admin API, the CLI import, the pages, and the sync down to a laptop (offline)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from postgres_support import ENGINES
from sync_support import Central, connect, laptop_config, pin

from classroom_support.central.kb import CentralKnowledgeBase
from classroom_support.cli import main
from classroom_support.context import AppContext
from classroom_support.kb import (
    Article,
    ArticleError,
    LocalKnowledgeBase,
    fold_text,
    parse_article,
    read_articles,
    render_markdown,
    safe_link,
    search,
    starter_articles_dir,
)


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


# --------------------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("إِشَارَة", "اشاره"),  # harakat, hamza under alef, ta marbuta
        ("أداة", "اداه"),  # hamza over alef
        ("آلة", "الة"),  # madda
        ("ٱلشبكة", "الشبكه"),  # alef wasla
        ("مستشفى", "مستشفي"),  # alef maqsura
        ("مـــرحـبـا", "مرحبا"),  # tatweel
        ("مسؤول", "مسوول"),  # hamza on waw
        ("قارئ", "قاري"),  # hamza on ya
        ("ﻻ ﺇﺷﺎﺭﺓ", "لا اشاره"),  # presentation forms
        ("المقعد ١٢", "المقعد 12"),  # Arabic-Indic digits
        ("Projector HDMI", "projector hdmi"),
        ("Café STRASSE", "cafe strasse"),
    ],
)
def test_fold_text_makes_variants_equal(written: str, typed: str) -> None:
    assert fold_text(written) == fold_text(typed)


def test_search_ranks_title_hits_and_needs_every_word() -> None:
    a = Article("a", "Projector has no signal", "جهاز العرض", ("hdmi",), "Check the cable.", "")
    b = Article("b", "Wi-Fi", "الشبكة", (), "The projector room has Wi-Fi too.", "")
    assert [x.slug for x in search([b, a], "projector")] == ["a", "b"]
    assert [x.slug for x in search([a, b], "projector cable")] == ["a"]
    assert [x.slug for x in search([a, b], "جِهَازُ")] == ["a"]
    assert search([a, b], "   ") == [] and search([a, b], "printer") == []


def test_starter_articles_answer_common_questions_in_both_languages() -> None:
    articles = read_articles(starter_articles_dir())
    assert {a.slug for a in articles} >= {
        "projector-no-signal",
        "wifi-connection",
        "platform-login",
        "headset-audio",
    }
    for a in articles:
        assert a.title and a.title_ar and len(a.body) > 300 and len(a.body_ar) > 300
    found = {
        query: [a.slug for a in search(articles, query)][:1]
        for query in (
            "بروجكتر",
            "الإشارة",
            "نسيت كلمة المرور",
            "forgot password",
            "الواي فاي",
            "wifi slow",
            "ميكروفون",
            "no sound",
        )
    }
    assert found == {
        "بروجكتر": ["projector-no-signal"],
        "الإشارة": ["projector-no-signal"],
        "نسيت كلمة المرور": ["platform-login"],
        "forgot password": ["platform-login"],
        "الواي فاي": ["wifi-connection"],
        "wifi slow": ["wifi-connection"],
        "ميكروفون": ["headset-audio"],
        "no sound": ["headset-audio"],
    }


# --------------------------------------------------------------------------- format


def test_parse_article_and_its_errors() -> None:
    text = (
        "---\ntitle: Hello\ntitle_ar: 'مرحبا'\nslug: hello-world\ntags: [a, b, ب]\n---\n"
        "English **body**\n\n<!-- ar -->\nنص عربي\n"
    )
    article = parse_article(text)
    assert article == Article(
        "hello-world", "Hello", "مرحبا", ("a", "b", "ب"), "English **body**", "نص عربي"
    )
    for bad, message in (
        ("no front matter", "must start"),
        ("---\ntitle: x\n", "no closing"),
        ("---\ncolour: red\n---\nx", "expected one of"),
        ("---\ntitle: x\nslug: Bad Slug\n---\nbody", "slug"),
        ("---\nslug: ok\n---\nbody", "needs a title"),
        ("---\ntitle: x\nslug: ok\n---\n  \n", "needs some text"),
    ):
        with pytest.raises(ArticleError, match=message):
            parse_article(bad)


# --------------------------------------------------------------------------- Markdown safety


def test_markdown_is_rendered_without_raw_html_or_unsafe_links() -> None:
    html = render_markdown(
        "<script>alert(1)</script>\n\n"
        '<img src=x onerror="alert(2)">\n\n'
        "[a](javascript:alert(3)) [b](JaVaScRiPt:alert(4)) [c](&#106;avascript:alert(5)) "
        "[d](data:text/html;base64,PHNjcmlwdD4=) [e](vbscript:x) [f](file:///etc/passwd)\n\n"
        "[r]: javascript:alert(6)\n\n[g][r] <javascript:alert(7)> ![i](https://evil.example/x.png)\n\n"
        "[ok](https://khit.sa/help) [rel](/kb/wifi-connection) **bold** `code`"
    )
    assert "<script" not in html and "<img" not in html
    assert not re.search(r"<[^>]+\son\w+=", html)  # no event-handler attributes anywhere
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs == ["https://evil.example/x.png", "https://khit.sa/help", "/kb/wifi-connection"]
    assert 'rel="nofollow noopener noreferrer"' in html
    assert "&lt;script&gt;" in html and "<strong>bold</strong>" in html


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://x.y/a", True),
        ("HTTP://x.y", True),
        ("/kb/a", True),
        ("#top", True),
        ("?q=1", True),
        ("javascript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        (" javascript:x", False),
        ("data:,x", False),
        ("mailto:a@b.c", False),
        ("\\\\evil.example", False),
    ],
)
def test_safe_link(url: str, ok: bool) -> None:
    assert safe_link(url) is ok


# --------------------------------------------------------------------------- admin API


@pytest.fixture
def kb(central: Central) -> CentralKnowledgeBase:
    return CentralKnowledgeBase(central.store)


def test_api_needs_an_admin_token_not_a_device_token(
    central: Central, kb: CentralKnowledgeBase
) -> None:
    device_token = central.add_device("A101")
    admin_id, admin_token = kb.add_admin("Mona")
    body = {"title": "Printer", "title_ar": "الطابعة", "tags": ["printer"], "body": "Turn it on."}
    with httpx.Client(base_url=central.url + "/api/v1/kb", timeout=5.0) as api:
        for headers in ({}, {"Authorization": f"Bearer {device_token}"}):
            response = api.put("/printer", json=body, headers=headers)
            assert response.status_code == 401
            assert response.json()["detail"]["code"] == "unauthorized"
        auth = {"Authorization": f"Bearer {admin_token}"}
        created = api.put("/printer", json=body, headers=auth)
        assert created.status_code == 200, created.text
        assert created.json()["seq"] == central.store.head()
        assert api.get("/printer", headers=auth).json()["title_ar"] == "الطابعة"
        listed = api.get(central.url + "/api/v1/kb", headers=auth).json()["articles"]
        assert [a["slug"] for a in listed] == ["printer"]
        bad = api.put("/Not%20A%20Slug", json=body, headers=auth)
        assert bad.status_code == 400 and "slug" in bad.json()["detail"]["message"]
        empty = api.put("/empty", json={"title": "x"}, headers=auth)
        assert empty.status_code == 400
        assert api.delete("/printer", headers=auth).status_code == 200
        assert api.get("/printer", headers=auth).status_code == 404
        assert api.delete("/printer", headers=auth).status_code == 404
        kb.revoke_admin(admin_id)
        assert api.get(central.url + "/api/v1/kb", headers=auth).status_code == 401
    assert kb.articles() == []
    assert [a.deleted for a in kb.articles(include_deleted=True)] == [True]


def test_kb_import_cli_is_all_or_nothing_and_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "kb-central.sqlite3")
    assert main(["central", "kb-import", "--db", db, "--starter", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == sorted(
        a.slug for a in read_articles(starter_articles_dir())
    )
    assert main(["central", "kb-import", "--db", db, str(starter_articles_dir())]) == 0
    assert capsys.readouterr().out.strip() == "0 added, 0 updated, 4 unchanged"

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.md").write_text("---\ntitle: A\nslug: new-one\n---\nText\n", encoding="utf-8")
    (folder / "b.md").write_text("---\ntitle: B\nslug: BAD SLUG\n---\nText\n", encoding="utf-8")
    assert main(["central", "kb-import", "--db", db, str(folder)]) == 2
    assert "nothing imported: b.md: slug" in capsys.readouterr().err
    (folder / "b.md").unlink()
    assert main(["central", "kb-import", "--db", db, str(folder)]) == 0
    assert capsys.readouterr().out.strip() == "1 added, 0 updated, 0 unchanged"

    assert main(["central", "add-admin", "--db", db, "--name", "Mona", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert len(made["token"]) >= 40
    assert main(["central", "admins", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert "active" in listed and "Mona" in listed and made["token"] not in listed
    assert main(["central", "revoke-admin", "--db", db, made["admin"]]) == 0
    capsys.readouterr()
    assert main(["central", "admins", "--db", db]) == 0
    assert "revoked" in capsys.readouterr().out


# --------------------------------------------------------------------------- pages


def test_kb_pages_search_both_languages_and_render_safely(
    central: Central, kb: CentralKnowledgeBase
) -> None:
    kb.put_many(read_articles(starter_articles_dir()), "test")
    kb.put(
        Article(
            "evil",
            "Evil <script>alert(1)</script>",
            "",
            ("x",),
            "<img src=x onerror=alert(1)> [click](javascript:alert(2))",
        ),
        "test",
    )
    with httpx.Client(base_url=central.url, timeout=5.0) as http:
        listing = http.get("/kb")
        assert listing.status_code == 200 and listing.text.count('data-slug="') == 5

        def slugs(query: str, lang: str = "ar") -> list[str]:
            page = http.get("/kb", params={"q": query, "lang": lang}).text
            return re.findall(r'data-slug="([^"]+)"', page)

        # Best match first (other articles may mention the words too).
        assert slugs("جِهازُ العَرْض")[0] == "projector-no-signal"
        assert slugs("الـــواي فاي")[0] == "wifi-connection"
        assert slugs("كلمه المرور")[0] == "platform-login"
        assert slugs("PASSWORD", "en")[0] == "platform-login"
        assert slugs("ميكروفون السماعه") == ["headset-audio"]
        assert slugs("no such thing at all") == []
        results = http.get("/kb", params={"q": "<b>x</b>"}).text
        assert "<b>x</b>" not in results and "&lt;b&gt;x&lt;/b&gt;" in results

        article = http.get("/kb/projector-no-signal").text
        assert '<article class="article" lang="ar" dir="rtl"' in article
        assert "Windows + P" in article and "أعد تشغيل جهاز العرض" in article
        english = http.get("/kb/projector-no-signal?lang=en").text
        assert '<article class="article" lang="en" dir="ltr"' in english
        assert "Restart the projector" in english

        evil = http.get("/kb/evil").text  # only English: shown, marked ltr, on the Arabic page
        assert '<html lang="ar" dir="rtl">' in evil and 'lang="en" dir="ltr"' in evil
        assert "<script>alert" not in evil and "<img" not in evil
        assert "&lt;img src=x onerror=alert(1)&gt;" in evil  # shown as text
        assert not re.search(r'href="\s*javascript', evil, re.IGNORECASE)
        assert http.get("/kb/missing").status_code == 404


# --------------------------------------------------------------------------- sync down


def test_articles_sync_down_to_the_laptop_and_work_offline(
    central: Central, kb: CentralKnowledgeBase, make_ctx: Callable[..., AppContext]
) -> None:
    kb.put_many(read_articles(starter_articles_dir()), "test")
    ctx = make_ctx(config=laptop_config("B201"), name="laptop")
    pin(ctx, "00000000-0000-4000-8000-000000000201", "LAPB")
    client = connect(ctx, central.url, central.add_device("B201"), page_size=2)
    report = client.sync()
    assert report.outcome == "ok", report.message
    local = LocalKnowledgeBase(ctx.db)
    assert [a.slug for a in local.articles()] == sorted(
        a.slug for a in read_articles(starter_articles_dir())
    )
    assert [a.slug for a in local.search("اشاره")][:1] == ["projector-no-signal"]
    assert local.get("platform-login").title_ar.startswith("لا أستطيع الدخول")

    # An edit and a deletion on the server arrive with the next sync; the slug is reused.
    kb.put(Article("wifi-connection", "Wi-Fi (new)", "", (), "New text", "نص جديد"), "test")
    kb.delete("headset-audio", "test")
    kb.put(Article("headset-audio-2", "Headsets", "سماعات", ("audio",), "x"), "test")
    kb.delete("headset-audio-2", "test")
    kb.put(Article("headset-audio", "Headsets again", "", (), "y"), "test")
    assert client.sync().outcome == "ok"
    assert local.get("wifi-connection").title == "Wi-Fi (new)"
    assert local.get("headset-audio").title == "Headsets again"
    assert local.get("headset-audio-2") is None
    assert client.sync().rows_pulled == 0  # nothing new: nothing moves
