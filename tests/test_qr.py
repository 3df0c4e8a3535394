"""Link builders and QR matrices (classroom_support.qr): exact links, hostile input, limits."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
import zxingcpp
from PIL import Image

from classroom_support import qr
from classroom_support.config import Config
from classroom_support.locales import ar, en
from classroom_support.qr import (
    ELLIPSIS,
    MAX_NOTE,
    MAX_SEAT,
    QRTooLong,
    central_base,
    cut,
    kb_url,
    qr_matrix,
    session_token,
    single_line,
    status_url,
    web_form_url,
    whatsapp_message,
    whatsapp_number,
    whatsapp_url,
)

BASE = "https://support.khit.sa"
SESSION = "3f2a9c1e-7b4d-4e8f-9a0b-1c2d3e4f5a6b"
HOSTILE = [
    "مقعد ١٢ بجانب النافذة",
    "seat 12 & 13",
    "#12?x=1/2",
    "line one\nline two\r\nthree",
    "👩‍💻 12 🇸🇦",
    "[bold red]12[/] $var {x}",
    "a+b=c;d,e%20f",
    "\x1b[31mred\x00",
]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)


# --------------------------------------------------------------------------- web form


def test_web_form_url_is_exactly_the_documented_shape() -> None:
    url = web_form_url(BASE, hall="A101", session_id=SESSION, seat="12", ref="K7QD-3")
    assert url == "https://support.khit.sa/form?hall=A101&session=3f2a9c1e&seat=12&ref=K7QD-3"


def test_web_form_leaves_out_empty_values_but_keeps_the_hall() -> None:
    assert web_form_url(BASE, hall="A101") == "https://support.khit.sa/form?hall=A101"
    assert web_form_url(BASE + "/", hall="B201", seat="  ") == f"{BASE}/form?hall=B201"


@pytest.mark.parametrize("seat", HOSTILE)
def test_web_form_survives_hostile_seats(seat: str) -> None:
    url = web_form_url(BASE, hall="A101", session_id=SESSION, seat=seat, ref="K7QD-3")
    assert url.isascii()
    assert " " not in url and "#" not in url and "\n" not in url
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https",
        "support.khit.sa",
        "/form",
        "",
    )
    query = query_of(url)
    assert list(query) == ["hall", "session", "seat", "ref"]
    assert query["hall"] == ["A101"] and query["ref"] == ["K7QD-3"]
    assert query["seat"] == [cut(single_line(seat), MAX_SEAT)]
    assert "\n" not in query["seat"][0] and "\x1b" not in query["seat"][0]


def test_a_10000_character_note_is_cut_predictably() -> None:
    note = "الشاشة لا تعمل " * 700  # 10,500 characters
    assert len(note) > 10_000
    url = web_form_url(BASE, hall="A101", note=note)
    [kept] = query_of(url)["note"]
    assert len(kept) == MAX_NOTE
    assert kept.endswith(ELLIPSIS)
    assert note.startswith(kept[:-1].rstrip())
    assert len(url) < 1000  # stays a small code


def test_hall_and_ref_are_single_line_and_bounded() -> None:
    url = web_form_url(BASE, hall="A1\n01" + "x" * 50, ref="K7\tQD-3")
    query = query_of(url)
    assert query["hall"] == ["A1 01" + "x" * 10 + "…"]
    assert query["ref"] == ["K7 QD-3"]


# --------------------------------------------------------------------------- cutting


def test_cut_keeps_short_text_and_marks_a_cut() -> None:
    assert cut("PC-12", 16) == "PC-12"
    assert cut("x" * 16, 16) == "x" * 16
    assert cut("x" * 17, 16) == "x" * 15 + ELLIPSIS
    assert cut("word " * 10, 8) == "word wo" + ELLIPSIS
    with pytest.raises(ValueError):
        cut("x", 0)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("ab👩‍💻cd", "ab"),  # a ZWJ sequence is not torn
        ("abc👍🏽d", "abc"),  # nor an emoji with its skin tone
        ("a🇸🇦🇸🇦b", "a🇸🇦"),  # nor a flag (two regional indicators)
        ("abمَرْحَبًا", "abمَ"),  # nor a letter from its harakat
        ("abce\u0301x", "abc"),  # e + combining acute
    ],
)
def test_cut_never_tears_a_character(text: str, kept: str) -> None:
    limit = 5
    assert len(text) > limit
    result = cut(text, limit)
    assert result == kept + ELLIPSIS
    assert len(result) <= limit
    assert result.encode("utf-8").decode("utf-8") == result


def test_single_line() -> None:
    assert single_line("  a\nb\r\n\tc\x00d\u2028e  ") == "a b c d e"


def test_session_token_is_the_first_8_hex_digits() -> None:
    assert session_token(SESSION) == "3f2a9c1e"
    assert session_token(SESSION.upper()) == "3f2a9c1e"
    assert session_token("s-1") == "s-1"
    assert len(session_token("not a uuid at all, long")) <= 8


# --------------------------------------------------------------------------- status, kb


def test_status_and_kb_links() -> None:
    ticket_id = str(uuid.UUID(int=7, version=4))
    assert status_url(BASE, ticket_id) == f"{BASE}/status/{ticket_id}"
    assert status_url(BASE + "/", ticket_id) == f"{BASE}/status/{ticket_id}"
    assert kb_url(BASE, "projector-no-signal") == f"{BASE}/kb/projector-no-signal"
    assert kb_url(BASE, "جهاز العرض/HDMI #1?") == (
        f"{BASE}/kb/" + quote("جهاز العرض/HDMI #1?", safe="")
    )
    assert urlsplit(kb_url(BASE, "a/../b")).path == "/kb/a%2F..%2Fb"
    with pytest.raises(ValueError):
        status_url(BASE, " ")
    with pytest.raises(ValueError):
        kb_url(BASE, "")


def test_paths_are_named_constants() -> None:
    assert (qr.FORM_PATH, qr.STATUS_PATH, qr.KB_PATH) == ("/form", "/status/{token}", "/kb/{slug}")


def test_central_base_is_ascii() -> None:
    assert central_base("https://support.khit.sa/") == BASE
    assert central_base("http://127.0.0.1:8000/desk/") == "http://127.0.0.1:8000/desk"
    host = "دعم".encode("idna").decode()
    assert host.startswith("xn--")
    assert central_base("https://دعم.example/مسار") == (
        f"https://{host}.example/%D9%85%D8%B3%D8%A7%D8%B1"
    )
    with pytest.raises(ValueError):
        central_base("ftp://x")


# --------------------------------------------------------------------------- WhatsApp


@pytest.mark.parametrize(
    "written",
    [
        "0566812777",
        "056 681 2777",
        "056-681-2777",
        "+966566812777",
        "+966 56 681 2777",
        "00966566812777",
        "00966 56-681-2777",
        "966566812777",
        "566812777",
        "(056) 681.2777",
        "٠٥٦٦٨١٢٧٧٧",
    ],
)
def test_whatsapp_number_normalises_every_way_of_writing_it(written: str) -> None:
    assert whatsapp_number(written, "966") == "966566812777"
    assert whatsapp_number(written, "+966") == "966566812777"


@pytest.mark.parametrize("bad", ["", "call me", "05-abc", "+", "123", "1" * 20])
def test_whatsapp_number_refuses_what_is_not_a_number(bad: str) -> None:
    with pytest.raises(ValueError):
        whatsapp_number(bad, "966")


def test_whatsapp_message_in_both_languages() -> None:
    assert whatsapp_message("en", hall="A101") == "Hall A101"
    assert whatsapp_message("en", hall="A101", seat="12", ref="K7QD-3") == (
        "Hall A101, seat 12, ticket K7QD-3"
    )
    assert whatsapp_message("ar", hall="A101", seat="12", ref="K7QD-3") == (
        "قاعة A101، مقعد 12، تذكرة K7QD-3"
    )
    # the words come from the catalogs
    assert en.MESSAGES["qr.wa.hall"] == "Hall {hall}"
    assert ar.MESSAGES["qr.wa.ref"] == "تذكرة {ref}"


def test_whatsapp_message_note_on_its_own_line_and_cut() -> None:
    message = whatsapp_message("en", hall="A101", seat="1\n2", note="x" * 10_000)
    head, note = message.split("\n")
    assert head == "Hall A101, seat 1 2"
    assert len(note) == MAX_NOTE and note.endswith(ELLIPSIS)


@pytest.mark.parametrize("text", [*HOSTILE, "قاعة A101، مقعد 12", ""])
def test_whatsapp_url_round_trips_the_message(text: str) -> None:
    url = whatsapp_url("966566812777", text)
    assert url.isascii() and " " not in url and "#" not in url
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("wa.me", "/966566812777")
    if text:
        assert query_of(url) == {"text": [text]}
        assert unquote(parts.query.removeprefix("text=")) == text
    else:
        assert url == "https://wa.me/966566812777"


def test_whatsapp_url_needs_digits() -> None:
    with pytest.raises(ValueError):
        whatsapp_url("+966566812777", "x")


def test_default_config_gives_the_policy_number() -> None:
    config = Config()
    number = whatsapp_number(config.phone, config.country_code)
    assert whatsapp_url(number, "Hall A101") == "https://wa.me/966566812777?text=Hall%20A101"
    assert number == whatsapp_number(config.whatsapp, config.country_code)


# --------------------------------------------------------------------------- matrices


def matrix_image(matrix: qr.QRMatrix, pixels: int = 4) -> Image.Image:
    side = matrix.size + 8
    data = bytes(
        0
        if (0 <= y - 4 < matrix.size and 0 <= x - 4 < matrix.size and matrix.modules[y - 4][x - 4])
        else 255
        for y in range(side)
        for x in range(side)
    )
    return Image.frombytes("L", (side, side), data).resize(
        (side * pixels, side * pixels), Image.Resampling.NEAREST
    )


def test_matrix_prefers_m_and_has_no_border() -> None:
    url = web_form_url(BASE, hall="A101", session_id=SESSION, seat="12", ref="K7QD-3")
    matrix = qr_matrix(url)
    assert matrix.level == "M"
    assert matrix.size == 17 + 4 * matrix.version == len(matrix.modules[0])
    assert all(isinstance(m, bool) for row in matrix.modules for m in row)
    # a finder pattern starts in the very first module: no quiet zone inside the matrix
    assert matrix.modules[0][:7] == (True,) * 7
    assert matrix.modules[6][:7] == (True,) * 7
    assert matrix.size_with_quiet_zone == matrix.size + 8
    [decoded] = zxingcpp.read_barcodes(matrix_image(matrix))
    assert decoded.text == url
    assert decoded.ec_level == "M"


def test_matrix_falls_back_to_l_when_m_does_not_fit_the_room() -> None:
    url = web_form_url(BASE, hall="A101", session_id=SESSION, seat="12", ref="K7QD-3")
    m = qr_matrix(url)
    small = qr_matrix(url, m.size - 1)
    assert small.level == "L" and small.size < m.size
    assert qr_matrix(url, m.size).level == "M"
    # no room at all: the smallest symbol, which the caller sees does not fit
    assert qr_matrix(url, 0).size == small.size
    [decoded] = zxingcpp.read_barcodes(matrix_image(small))
    assert decoded.text == url


def test_text_too_long_for_any_qr_code() -> None:
    with pytest.raises(QRTooLong):
        qr_matrix("x" * 3000)
    with pytest.raises(ValueError):
        qr_matrix("")
    long_for_m = "x" * 2500  # fits only at level L
    assert qr_matrix(long_for_m).level == "L"
