"""The trainee pages over plain HTTP (httpx against the live server on 127.0.0.1): escaping,
size limits, 404s, CSRF and rate-limit edges, the status page's privacy, session matching."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from postgres_support import ENGINES
from sync_support import Central

from classroom_support.central.web import WebSettings, configure_web
from classroom_support.central.web.form import FormValues, valid_contact, validate
from classroom_support.central.web_messages import AR, EN
from classroom_support.config import Config
from classroom_support.syncwire import iso
from classroom_support.tickets import MAX_SHORT, MAX_TITLE, TicketDraft

TOKEN_RE = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


class Clocks:
    """A steppable wall clock for the CSRF tokens and the rate limit."""

    def __init__(self) -> None:
        self.wall = 1_800_000_000.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds


@pytest.fixture
def clocks(central: Central) -> Clocks:
    c = Clocks()
    configure_web(
        central.app,
        WebSettings(rate_per_minute=5, wall_clock=lambda: c.wall),
    )
    return c


@pytest.fixture
def http(central: Central) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=central.url, timeout=5.0, follow_redirects=False) as client:
        yield client


def token(http: httpx.Client, path: str = "/form?hall=A101") -> str:
    response = http.get(path)
    assert response.status_code == 200
    found = TOKEN_RE.search(response.text)
    assert found is not None
    return found.group(1)


def post(http: httpx.Client, csrf: str | None, **fields: str) -> httpx.Response:
    data: dict[str, Any] = {"hall": "A101", "hall_from_link": "1", "title": "Projector", **fields}
    if csrf is not None:
        data["csrf"] = csrf
    return http.post("/form", data=data)


# --------------------------------------------------------------------------- happy path, headers


def test_a_valid_post_creates_one_web_form_ticket_and_redirects(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    response = post(http, token(http), title="  لا يعمل الصوت  ", seat="4", category="av")
    assert response.status_code == 303
    [ticket] = central.store.tickets()
    assert response.headers["location"] == f"/form/sent/{ticket.id}"
    assert (ticket.channel, ticket.title, ticket.created_by) == (
        "web_form",
        "لا يعمل الصوت",
        "web-form",
    )
    [created] = central.store.events(ticket.id)
    assert created["kind"] == "created" and created["seq"] == central.store.head()
    sent = http.get(response.headers["location"])
    assert sent.status_code == 200 and ticket.ref in sent.text


def test_pages_carry_the_security_headers_and_no_external_assets(
    central: Central, http: httpx.Client
) -> None:
    for path in ("/form", "/form?lang=en", "/kb", f"/status/{uuid.uuid4()}"):
        response = http.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "<script" not in response.text
        assert not re.search(
            r'(src|href)="(https?:)?//(?!127\.0\.0\.1)', response.text.split("<footer")[0]
        )
    css = http.get("/static/web.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "url(" not in css.text and "@import" not in css.text
    assert http.get("/").headers["location"] == "/form"


def test_arabic_by_default_english_on_request(http: httpx.Client) -> None:
    ar = http.get("/form?hall=A101")
    assert '<html lang="ar" dir="rtl">' in ar.text
    assert 'href="/form?hall=A101&amp;lang=en"' in ar.text  # the switch keeps the link's values
    en = http.get("/form?hall=A101&lang=en")
    assert '<html lang="en" dir="ltr">' in en.text
    assert '<input type="hidden" name="lang" value="en">' in en.text
    assert '<html lang="ar" dir="rtl">' in http.get("/form?lang=fr").text


# --------------------------------------------------------------------------- escaping, limits


def test_link_values_are_escaped_in_the_form(http: httpx.Client) -> None:
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    response = http.get("/form", params={"hall": "A101", "seat": evil, "note": evil, "ref": evil})
    assert "<script>alert" not in response.text and "<img src=x" not in response.text
    escaped = "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
    assert f'value="{escaped}"' in response.text  # the seat
    assert f">{escaped}</textarea>" in response.text  # the note prefills the problem
    assert 'name="ref"' not in response.text  # not a ref: ignored


def test_posted_text_is_escaped_when_the_form_comes_back(
    http: httpx.Client, clocks: Clocks
) -> None:
    evil = "</textarea><script>alert(1)</script>"
    response = post(http, token(http), title=evil, contact=evil)
    assert response.status_code == 400
    assert "<script>" not in response.text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in response.text


def test_size_limits_come_from_the_ticket_domain(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    csrf = token(http)
    over = post(http, csrf, title="ع" * (MAX_TITLE + 1), seat="s" * (MAX_SHORT + 1))
    assert over.status_code == 400
    assert f"2001 حرفًا، والحد الأقصى {MAX_TITLE}" in over.text
    assert 'id="seat-error"' in over.text
    assert central.store.tickets() == []
    at_limit = post(http, csrf, title="ع" * MAX_TITLE, seat="s" * MAX_SHORT, name="ن" * MAX_SHORT)
    assert at_limit.status_code == 303
    [ticket] = central.store.tickets()
    assert len(ticket.title) == MAX_TITLE


def test_follow_up_ref_prefix_counts_against_the_limit(central: Central) -> None:
    config = central.store.config
    values = FormValues(hall="A101", ref="k7qd-3", title="x" * (MAX_TITLE - 9))
    assert validate(values, config, "en") == {}
    too_long = FormValues(hall="A101", ref="K7QD-3", title="x" * (MAX_TITLE - 8))
    assert "title" in validate(too_long, config, "en")


def test_oversized_unreadable_and_foreign_bodies_are_refused(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    csrf = token(http)
    big = http.post("/form", data={"csrf": csrf, "hall": "A101", "title": "x" * 60_000})
    assert big.status_code == 413 and "كبير جدًا" in big.text
    bad = http.post(
        "/form",
        content=b"csrf=x&title=%ff%fe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert bad.status_code == 400
    multipart = http.post("/form", files={"title": ("a.txt", b"hello")})
    assert multipart.status_code == 415
    assert central.store.tickets() == []


def test_contact_is_a_phone_or_an_email() -> None:
    for ok in ("0551234567", "+966 55 123 4567", "(055) 123-4567", "٠٥٥١٢٣٤٥٦٧", "a.b@x.co"):
        assert valid_contact(ok), ok
    for bad in ("123", "call me", "55+1234567", "a@b", "@x.co", "1" * 16, "05512345678abc"):
        assert not valid_contact(bad), bad
    config = Config()
    errors = validate(FormValues(hall="Z9", title="t", category="x", contact="nope"), config, "ar")
    assert set(errors) == {"hall", "category", "contact"}


# --------------------------------------------------------------------------- CSRF, honeypot, rate


def test_csrf_needs_the_cookie_and_the_field_to_match_a_valid_signed_token(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    csrf = token(http)
    assert post(http, None).status_code == 403  # no field
    assert post(http, csrf + "x").status_code == 403  # field differs from the cookie
    nonce, issued, _sig = csrf.split(".")
    forged = f"{nonce}.{issued}.{'A' * 43}"
    http.cookies.set("cs_form", forged, domain="127.0.0.1", path="/form")
    assert post(http, forged).status_code == 403  # equal but not signed by this server
    with httpx.Client(base_url=central.url, timeout=5.0) as stranger:
        assert post(stranger, csrf).status_code == 403  # the field alone (no cookie)
    assert central.store.tickets() == []

    fresh = token(http)
    clocks.advance(4 * 3600 + 1)  # older than csrf_max_age
    expired = post(http, fresh)
    assert expired.status_code == 403 and "انتهت صلاحية النموذج" in expired.text
    renewed = TOKEN_RE.search(expired.text)
    assert renewed is not None and renewed.group(1) != fresh
    assert post(http, renewed.group(1)).status_code == 303


def test_sending_the_same_form_again_files_nothing_and_shows_the_first_ticket(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    csrf = token(http)
    first = post(http, csrf)
    assert first.status_code == 303
    again = post(http, csrf)  # the back button and Send again, or a double click
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert len(central.store.tickets()) == 1


def test_honeypot_filled_means_no_ticket(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    response = post(http, token(http), website="http://spam.example")
    assert response.status_code == 400
    assert central.store.tickets() == []


def test_rate_limit_per_client_with_retry_after_then_recovers(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    csrf = token(http)
    codes = [
        post(http, csrf, title=f"t{n}", seat="x" * (MAX_SHORT + 1)).status_code for n in range(5)
    ]
    assert codes == [400] * 5  # invalid posts count too
    limited = post(http, csrf)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "60"
    assert "طلبات كثيرة" in limited.text and "Projector</textarea>" in limited.text
    clocks.advance(30)
    assert post(http, csrf).headers["retry-after"] == "30"
    clocks.advance(30.5)
    assert post(http, csrf).status_code == 303
    assert len(central.store.tickets()) == 1


# --------------------------------------------------------------------------- status and sent pages


def test_status_page_404s(central: Central, http: httpx.Client) -> None:
    ticket = central.store.create_ticket(TicketDraft(title="t", hall_code="A101"))
    assert http.get(f"/status/{ticket.id}").status_code == 200
    for path in (
        f"/status/{uuid.uuid4()}",
        "/status/not-a-uuid",
        f"/status/{ticket.ref}",  # a ref is guessable: never accepted
        f"/status/{ticket.id.upper()}",
        f"/status/{ticket.id.replace('-', '')}",
        f"/form/sent/{uuid.uuid4()}",
        "/kb/no-such-article",
        "/kb/Bad%20Slug",
    ):
        response = http.get(path)
        assert response.status_code in (404, 303), path
        if response.status_code == 303:  # the sent page without its cookie: the status page
            assert http.get(response.headers["location"]).status_code == 404
        else:
            assert "الصفحة غير موجودة" in response.text


def test_status_page_shows_the_public_history_only(central: Central, http: httpx.Client) -> None:
    ticket = central.store.create_ticket(
        TicketDraft(
            title="No sound",
            hall_code="A101",
            channel="web_form",
            trainee_name="Huda Secret-Name",
            trainee_contact="huda@private.example",
        ),
        actor="web-form",
    )
    store = central.store
    store.act(ticket.id, "responded", {"message": "internal: called IT on 555-SECRET"}, "Tech Sami")
    store.act(ticket.id, "note", {"text": "NOTE-SECRET"}, "Tech Sami")
    store.act(ticket.id, "assigned", {"assignee": "ASSIGNEE-SECRET"}, "Tech Sami")
    store.act(ticket.id, "resolved", {"summary": "SUMMARY-SECRET"}, "Tech Sami")
    store.act(ticket.id, "verified", {"note": "VERIFY-SECRET"}, "L2 Mona")
    page = http.get(f"/status/{ticket.id}?lang=en").text
    kinds = re.findall(r'data-kind="(\w+)"', page)
    assert kinds == ["created", "responded", "resolved", "verified"]
    assert "Closed: the solution was confirmed" in page
    for secret in ("Secret-Name", "huda@private", "SECRET", "Sami", "Mona", "web-form"):
        assert secret not in page, secret


def test_status_page_due_time_follows_the_central_calendar(
    central: Central, http: httpx.Client
) -> None:
    ticket = central.store.create_ticket(TicketDraft(title="t", hall_code="A101"))
    page = http.get(f"/status/{ticket.id}?lang=en").text
    # Saturday 10:30 Riyadh + 48 working hours of 10:00-16:00 = Sunday 6 December 10:30.
    assert re.search(r'Sun</span> <time datetime="2026-12-06T10:30\+03:00"', page)
    # A course on Sunday 29 November 16:00-22:00 in Riyadh adds 6 working hours: a day sooner.
    store = central.store
    store.put_session(
        {
            "id": str(uuid.uuid4()),
            "hall_code": "A101",
            "course": "Evening course",
            "starts_at": "2026-11-29T13:00:00+00:00",
            "ends_at": "2026-11-29T19:00:00+00:00",
            "updated_at": iso(store.clock.now()),
        }
    )
    page = http.get(f"/status/{ticket.id}?lang=en").text
    assert re.search(r'Sat</span> <time datetime="2026-12-05T10:30\+03:00"', page)
    store.act(ticket.id, "responded", {"message": "x"})
    page = http.get(f"/status/{ticket.id}?lang=en").text
    assert "First response" in page and 'id="due"' not in page


def test_sent_page_shows_personal_details_only_to_the_sender(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    response = post(http, token(http), name="Reem", contact="0551234567")
    location = response.headers["location"]
    assert "Reem" in http.get(location).text
    with httpx.Client(base_url=central.url, timeout=5.0) as other:
        elsewhere = other.get(location)
        assert elsewhere.status_code == 303
        assert elsewhere.headers["location"].startswith("/status/")
        assert "Reem" not in other.get(elsewhere.headers["location"]).text


def test_session_token_from_the_link_finds_the_running_session(
    central: Central, http: httpx.Client, clocks: Clocks
) -> None:
    store = central.store
    now = store.clock.now()
    running = "ab12cd34-0000-4000-8000-000000000001"
    for sid, hall, course, start in (
        ("ab12cd34-0000-4000-8000-000000000002", "A101", "Last week", now - timedelta(days=7)),
        (running, "A101", "Networks", now - timedelta(hours=1)),
        ("ab12cd34-0000-4000-8000-000000000003", "B201", "Other hall", now - timedelta(hours=1)),
    ):
        store.put_session(
            {
                "id": sid,
                "hall_code": hall,
                "course": course,
                "starts_at": iso(start),
                "ends_at": iso(start + timedelta(hours=3)),
                "updated_at": iso(now),
            }
        )
    page = http.get("/form?hall=A101&session=ab12cd34&lang=en").text
    assert "Networks" in page and "Last week" not in page
    response = post(http, token(http), session="ab12cd34")
    assert response.status_code == 303
    assert post(http, token(http), session="%' OR 1=1 --").status_code == 303
    # Both were filed at the same (fixed) instant: compare without relying on their order.
    tickets = central.store.tickets()
    assert sorted((t.session_id or "", t.session_label) for t in tickets) == [
        ("", ""),
        (running, "Networks"),  # the course name travels to the laptop
    ]


def test_web_catalogs_match() -> None:
    assert set(AR) == set(EN)
    for key in EN:
        assert set(re.findall(r"{(\w+)}", EN[key])) == set(re.findall(r"{(\w+)}", AR[key])), key
    arabic = re.compile("[\u0600-\u06ff]")
    assert [k for k, v in AR.items() if not arabic.search(v) and k != "lang.other"] == []
