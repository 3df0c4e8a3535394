"""The trainee pages in real headless Chromium (Debian's, through Playwright): invalid input,
XSS payloads, right-to-left layout on a phone, labels, CSRF, the honeypot and the rate limit.
Screenshots land in tests/artifacts/web/ for review."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import Phone, _open_phone
from postgres_support import ENGINES
from sync_support import Central

from classroom_support import qr
from classroom_support.central.kb import CentralKnowledgeBase
from classroom_support.central.web import WebSettings, configure_web
from classroom_support.kb import read_articles, starter_articles_dir
from classroom_support.textsafe import visible

SCRIPT = "<script>alert('title')</script>"
PAYLOADS = {
    "title": f"{SCRIPT}<img src=x onerror=alert('title-img')> & \u202eRTL",
    "seat": '"><script>alert("seat")</script>',
    "name": "<img src=x onerror=alert('name')>",
    # still a valid email address, so it gets as far as the confirmation page
    "contact": "<svg/onload=alert('contact')>@x.co",
}


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


def form_url(central: Central, **values: str) -> str:
    return qr.web_form_url(central.url, hall=values.pop("hall", "A101"), **values)


def injected_elements(phone: Phone) -> int:
    """Elements a payload would have created if it had been parsed as markup."""
    return int(
        phone.page.evaluate(
            """() => document.querySelectorAll(
                'main script, main img, main svg:not(.qr), main [onerror], main [onload]'
            ).length"""
        )
    )


def assert_phone_layout(phone: Phone, direction: str = "rtl") -> None:
    layout = phone.layout()
    assert layout["dir"] == direction and layout["direction"] == direction, layout
    assert layout["scrollWidth"] <= layout["innerWidth"], layout  # no sideways scrolling


def submit(phone: Phone) -> Any:
    with phone.page.expect_navigation():
        phone.page.click("button[type=submit]")


def test_invalid_input_is_explained_next_to_the_fields_and_kept(
    central: Central, phone: Phone
) -> None:
    page = phone.page
    page.goto(f"{central.url}/form?lang=en&seat=7")  # no hall in the link: a choice
    assert page.get_attribute("html", "lang") == "en"
    assert phone.unlabelled_fields() == []
    page.fill("#title", "   ")
    page.fill("#name", "Omar")
    page.fill("#contact", "not a phone")
    submit(phone)

    assert page.get_attribute("html", "lang") == "en"  # the language survives the post
    assert page.text_content(".banner").strip() == "Please correct the fields marked below."
    assert page.text_content("#title-error").strip() == "Describe the problem."
    assert "phone number" in page.text_content("#contact-error")
    assert page.text_content("#hall-error").strip() == "Choose your hall from the list."
    assert page.get_attribute("#contact", "aria-invalid") == "true"
    assert "contact-error" in page.get_attribute("#contact", "aria-describedby")
    assert page.get_attribute("#name", "aria-invalid") is None
    # What was typed is still there.
    assert (page.input_value("#name"), page.input_value("#contact")) == ("Omar", "not a phone")
    assert page.input_value("#seat") == "7"
    assert_phone_layout(phone, "ltr")
    phone.screenshot("form-en-errors-phone")
    assert central.store.tickets() == []

    page.select_option("#hall", "B201")
    page.fill("#title", "PC 7 does not start")
    page.fill("#contact", "omar@example.com")
    submit(phone)
    assert "/form/sent/" in page.url and "lang=en" in page.url
    [ticket] = central.store.tickets()
    assert (ticket.hall_code, ticket.seat, ticket.trainee_contact) == (
        "B201",
        "7",
        "omar@example.com",
    )
    assert page.text_content("#ref").strip() == ticket.ref
    assert phone.dialogs == [] and phone.outside == []


def test_xss_payloads_show_as_text_on_every_page(central: Central, phone: Phone) -> None:
    page = phone.page
    # In the link itself (prefilled note and seat, a bogus ref and session) ...
    page.goto(
        f"{central.url}/form?hall=A101&seat=%3Cscript%3Ealert(1)%3C/script%3E"
        "&note=%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E&ref=%22%3E%3Cscript%3Ealert(3)%3C/script%3E"
        "&session=%3Cscript%3E"
    )
    assert page.input_value("#seat") == "<script>alert(1)</script>"
    assert page.input_value("#title") == "<img src=x onerror=alert(2)>"
    assert injected_elements(phone) == 0
    # ... and typed into every field.
    for field, payload in PAYLOADS.items():
        page.fill(f"#{field}", payload)
    submit(phone)
    assert "/form/sent/" in page.url, page.text_content("main")
    for field, payload in PAYLOADS.items():
        assert page.text_content(f"#sent-{field}") == visible(payload)
    assert "<U+202E>RTL" in page.text_content("#sent-title")  # the override is shown, not obeyed
    assert injected_elements(phone) == 0
    phone.screenshot("sent-ar-xss-phone")

    [ticket] = central.store.tickets()
    assert ticket.title == PAYLOADS["title"]
    page.click("#status-link")
    page.wait_for_url(f"**/status/{ticket.id}")
    assert page.text_content("#status-title") == visible(PAYLOADS["title"])
    assert page.text_content("#status-seat") == PAYLOADS["seat"]
    assert injected_elements(phone) == 0
    assert_phone_layout(phone)

    # Invalid input re-rendered with the payloads in the fields' values: still inert.
    page.goto(form_url(central))
    page.fill("#title", PAYLOADS["title"])
    page.fill("#contact", "<script>alert('bad-contact')</script>")
    submit(phone)
    assert page.input_value("#contact") == "<script>alert('bad-contact')</script>"
    assert page.input_value("#title") == PAYLOADS["title"]
    assert injected_elements(phone) == 0
    assert phone.dialogs == []
    assert phone.outside == []


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_every_page_fits_a_phone_in_its_direction(
    central: Central, phone: Phone, lang: str
) -> None:
    CentralKnowledgeBase(central.store).put_many(read_articles(starter_articles_dir()), "test")
    direction = "rtl" if lang == "ar" else "ltr"
    suffix = "" if lang == "ar" else "&lang=en"
    page = phone.page
    long_word = "x" * 300  # one unbreakable word: must wrap, not widen the page
    page.goto(form_url(central, seat="12") + suffix)
    assert phone.unlabelled_fields() == []
    assert_phone_layout(phone, direction)
    phone.screenshot(f"form-{lang}-phone")
    page.fill("#title", f"{long_word} مشكلة في الطابعة")
    page.fill("#name", long_word)
    submit(phone)
    assert_phone_layout(phone, direction)
    phone.screenshot(f"sent-{lang}-phone")
    page.click("#status-link")
    page.wait_for_url("**/status/**")
    assert_phone_layout(phone, direction)
    phone.screenshot(f"status-{lang}-phone")
    page.goto(f"{central.url}/kb?q=بروجكتر{suffix}")
    assert page.locator("#articles a").count() == 1
    assert_phone_layout(phone, direction)
    phone.screenshot(f"kb-search-{lang}-phone")
    with page.expect_navigation():
        page.click("#articles a")
    assert page.locator("#article > ol > li").count() == 6
    assert_phone_layout(phone, direction)
    phone.screenshot(f"kb-article-{lang}-phone")
    page.goto(f"{central.url}/status/00000000-0000-4000-8000-000000000000{suffix[:0]}")
    assert_phone_layout(phone)
    assert phone.outside == [] and phone.dialogs == []


def test_labels_on_every_field_in_both_form_variants(central: Central, phone: Phone) -> None:
    for url in (form_url(central, seat="3"), f"{central.url}/form", f"{central.url}/form?hall=ZZZ"):
        phone.page.goto(url)
        assert phone.unlabelled_fields() == []
        count = phone.page.evaluate(
            "() => document.querySelectorAll('input:not([type=hidden]), textarea, select').length"
        )
        assert count >= 5


def test_a_post_without_or_with_a_wrong_token_is_refused(central: Central, phone: Phone) -> None:
    page = phone.page
    page.goto(form_url(central))
    page.fill("#title", "Forged?")
    page.evaluate("() => document.querySelector('input[name=csrf]').value = 'x.1.y'")
    submit(phone)
    assert page.text_content(".banner").startswith("انتهت صلاحية النموذج")
    assert page.input_value("#title") == "Forged?"  # kept, with a fresh token to send again
    page.evaluate("() => document.querySelector('input[name=csrf]').remove()")
    submit(phone)
    assert page.text_content(".banner").startswith("انتهت صلاحية النموذج")
    assert central.store.tickets() == []

    # Another site's page posting the form: the browser does not send the SameSite cookie.
    page.set_content(
        f'<form id="f" method="post" action="{central.url}/form">'
        '<input name="csrf" value="stolen"><input name="hall" value="A101">'
        '<input name="title" value="from another site"></form>'
    )
    with page.expect_navigation():
        page.evaluate("() => document.getElementById('f').submit()")
    assert page.url.startswith(central.url)
    assert page.text_content(".banner").startswith("انتهت صلاحية النموذج")
    assert central.store.tickets() == []

    # The same form, sent properly after that, works.
    submit(phone)
    assert "/form/sent/" in page.url
    assert [t.title for t in central.store.tickets()] == ["from another site"]


def test_a_filled_honeypot_files_nothing(central: Central, phone: Phone) -> None:
    page = phone.page
    page.goto(form_url(central))
    # Out of sight (a 1-pixel clipped box), out of the tab order and the accessibility tree.
    box = page.evaluate(
        """() => { const r = document.querySelector('.hp').getBoundingClientRect();
                   return [r.width, r.height]; }"""
    )
    assert box == [1, 1]
    assert page.get_attribute("#website", "tabindex") == "-1"
    assert page.get_attribute(".hp", "aria-hidden") == "true"
    page.fill("#title", "Buy cheap watches")
    page.evaluate("() => document.getElementById('website').value = 'http://spam.example'")
    submit(phone)
    assert page.title().startswith("لم يُقبل الطلب")
    assert "تعذّر قبول هذا الطلب" in page.text_content("main")
    assert central.store.tickets() == []


def test_the_post_over_the_limit_gets_429_and_keeps_the_text(
    central: Central, browser: Any
) -> None:
    configure_web(central.app, WebSettings(rate_per_minute=3))
    phone = _open_phone(browser)
    try:
        page = phone.page
        for n in range(3):
            page.goto(form_url(central))
            page.fill("#title", f"problem {n}")
            submit(phone)
            assert "/form/sent/" in page.url
        page.goto(form_url(central))
        page.fill("#title", "the fourth one")
        with page.expect_navigation() as nav:
            page.click("button[type=submit]")
        response = nav.value
        assert response.status == 429
        assert response.headers["retry-after"].isdigit()
        assert page.text_content(".banner").startswith("طلبات كثيرة من اتصالك")
        assert page.input_value("#title") == "the fourth one"
        assert_phone_layout(phone)
        phone.screenshot("form-ar-429-phone")
        assert len(central.store.tickets()) == 3
    finally:
        phone.context.close()
