"""The whole trainee path, for real: a phone-sized headless Chromium opens the link the hall
laptop's QR code carries (built with `classroom_support.qr`, pointed at a live uvicorn server on
127.0.0.1), files a problem in Arabic, gets a ref, a QR code and a status page; then the hall
laptop syncs and the ticket is in its queue, channel web_form."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
import zxingcpp
from browser_support import Phone
from PIL import Image
from postgres_support import ENGINES
from sync_support import Central, connect, laptop_config, pin

from classroom_support import qr
from classroom_support.context import AppContext
from classroom_support.syncwire import iso
from classroom_support.tickets import QueueQuery

SESSION_ID = "3f2a9c1e-5b7d-4c2a-9e1f-0a1b2c3d4e5f"
PROBLEM = "جهاز العرض لا يعرض شيئًا عند المقعد ١٢"


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


def decode_qr(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png)).convert("L")
    results = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False, try_invert=False
    )
    return [r.text for r in results if r.valid]


def test_trainee_files_from_the_qr_link_and_the_hall_laptop_gets_it(
    central: Central, phone: Phone, make_ctx: Callable[..., AppContext]
) -> None:
    now = central.store.clock.now()
    central.store.put_session(
        {
            "id": SESSION_ID,
            "hall_code": "A101",
            "course": "الشبكات",
            "trainer": "",
            "starts_at": iso(now - timedelta(minutes=30)),
            "ends_at": iso(now + timedelta(hours=3)),
            "updated_at": iso(now),
        }
    )
    link = qr.web_form_url(central.url, hall="A101", session_id=SESSION_ID, seat="12")
    assert link == f"{central.url}/form?hall=A101&session=3f2a9c1e&seat=12"
    page = phone.page

    page.goto(link)
    layout = phone.layout()
    assert (layout["lang"], layout["dir"], layout["direction"]) == ("ar", "rtl", "rtl")
    assert layout["scrollWidth"] <= layout["innerWidth"]
    assert "الشبكات" in page.text_content(".context")  # the course from the short session id
    assert page.input_value("#seat") == "12"
    page.fill("#title", PROBLEM)
    page.fill("#name", "سارة")
    page.fill("#contact", "0551234567")
    page.select_option("#category", "av")
    phone.screenshot("e2e-1-form-ar-phone")
    page.click("button[type=submit]")
    page.wait_for_url("**/form/sent/**")

    ref = page.text_content("#ref").strip()
    [ticket] = [t for t in central.store.tickets("A101") if t.ref == ref]
    assert (ticket.channel, ticket.title, ticket.seat, ticket.category) == (
        "web_form",
        PROBLEM,
        "12",
        "av",
    )
    assert (ticket.session_id, ticket.trainee_name, ticket.trainee_contact) == (
        SESSION_ID,
        "سارة",
        "0551234567",
    )
    status_link = page.get_attribute("#status-link", "href")
    assert status_link == f"{central.url}/status/{ticket.id}"
    # The QR code on the confirmation, as the browser drew it, decodes to that link.
    assert decode_qr(page.locator("svg.qr").screenshot()) == [status_link]
    layout = phone.layout()
    assert layout["dir"] == "rtl" and layout["scrollWidth"] <= layout["innerWidth"]
    phone.screenshot("e2e-2-sent-ar-phone")

    page.click("#status-link")
    page.wait_for_url(f"**/status/{ticket.id}")
    assert page.text_content("#state").strip() == "تم الاستلام، بانتظار الفني"
    # Created Saturday 10:30 Riyadh; 48 working hours of 10:00-16:00 every day: 5.5 h that
    # day, 7 full days (42 h), then 0.5 h: Sunday 6 December, 10:30.
    assert "2026-12-06 10:30" in page.text_content("#due")
    assert "الأحد" in page.text_content("#due")
    assert [li.get_attribute("data-kind") for li in page.locator("#history li").all()] == [
        "created"
    ]
    assert "سارة" not in page.content() and "0551234567" not in page.content()
    phone.screenshot("e2e-3-status-ar-phone")

    # The hall laptop (its own database, a device token for A101) syncs: the ticket is queued.
    ctx = make_ctx(config=laptop_config("A101"), name="laptop")
    pin(ctx, "00000000-0000-4000-8000-000000000101", "LAPA")
    client = connect(ctx, central.url, central.add_device("A101"))
    assert ctx.desk.queue(QueueQuery(hall_code="A101")).total == 0
    report = client.sync()
    assert report.outcome == "ok", report.message
    queue = ctx.desk.queue(QueueQuery(hall_code="A101"))
    [row] = [r for r in queue.rows if r.ref == ref]
    assert (row.id, row.channel, row.title, row.status) == (ticket.id, "web_form", PROBLEM, "new")
    assert row.session_id == SESSION_ID and row.seat == "12"

    assert phone.dialogs == []
    assert phone.outside == []  # nothing but 127.0.0.1 was asked for
