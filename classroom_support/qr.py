"""Links that take a trainee's phone to support, and the QR matrices that carry them.

Headless and pure: no Textual, no I/O. The TUI's `widgets.qr_code.QRCode` draws a `QRMatrix`.

Links (the paths are the contract with the central server, which implements them later):

- web support form   ``{central}/form?hall=A101&session=1a2b3c4d&seat=12&ref=K7QD-3``
- WhatsApp           ``https://wa.me/966566812777?text=<message>``
- ticket status page ``{central}/status/{ticket uuid}`` (the UUID is the unguessable token)
- knowledge base     ``{central}/kb/{slug}``

Every value is percent-encoded with ``quote(value, safe="")`` (UTF-8), so Arabic, spaces, ``&``,
``#``, ``?``, ``/``, newlines and emoji can never end a parameter early or change the path.
Free text is cut *before* encoding so the code stays small: at most `MAX_SEAT` characters of a
seat, `MAX_HALL` of a hall code, `MAX_NOTE` of a note; a cut text ends with "…" and never splits
a character (a code point with its combining marks, an emoji with its modifiers or joiners).
Single-line fields (hall, seat, ref) have line breaks and control characters turned into spaces.

The form's ``session`` is the first 8 hex digits of the course session's UUID (32 bits): the
server matches it against the sessions of that hall, so it needs no more than that, and a full
UUID would cost 28 more bytes and a bigger code (see docs/architecture.md, "QR codes").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

import qrcode
from qrcode.constants import ERROR_CORRECT_L, ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

from classroom_support.i18n import CATALOGS

# --------------------------------------------------------------------------- the contract

FORM_PATH = "/form"
STATUS_PATH = "/status/{token}"
KB_PATH = "/kb/{slug}"
WHATSAPP_BASE = "https://wa.me/"
# Query parameter names of the web form, in the order they appear.
FORM_PARAMS = ("hall", "session", "seat", "ref", "note")

# --------------------------------------------------------------------------- limits

MAX_HALL = 16
MAX_SEAT = 16
MAX_REF = 24
MAX_NOTE = 80
SESSION_TOKEN_LEN = 8
ELLIPSIS = "…"

# The widget draws this many light modules around the symbol (the standard's minimum).
QUIET_ZONE = 4

_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ZWJ = "\u200d"


# --------------------------------------------------------------------------- text helpers


def _clings(ch: str) -> bool:
    """True for a code point that belongs to the character before it (cutting before it would
    tear a character apart): combining marks, joiners, variation selectors, emoji modifiers and
    tag characters."""
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or ch == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tags (flag sequences)
    )


def cut(text: str, limit: int) -> str:
    """`text` if it has at most `limit` code points, else its beginning plus "…", `limit` code
    points in all, cut where no character is torn apart."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    end = limit - len(ELLIPSIS)
    # Move the cut left until the code point after it starts a new character.
    while end > 0 and (_clings(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    # Regional indicators pair up into flags: do not keep half a flag.
    flags = 0
    while end - flags > 0 and 0x1F1E6 <= ord(text[end - flags - 1]) <= 0x1F1FF:
        flags += 1
    if flags % 2:
        end -= 1
    return text[:end].rstrip() + ELLIPSIS


def single_line(text: str) -> str:
    """Line breaks and control characters become spaces; runs of spaces collapse; trimmed."""
    return " ".join(_CONTROL_OR_BREAK.sub(" ", text).split())


def encode(value: str) -> str:
    """Percent-encode one URL component (path segment or query value): nothing is left safe."""
    return quote(_SURROGATE.sub("\ufffd", value), safe="")


def central_base(url: str) -> str:
    """The central server's address as an ASCII URL without a trailing slash (IDNA host,
    percent-encoded path), so every link built on it is plain ASCII."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) address")
    host = parts.hostname.encode("idna").decode("ascii")
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    path = quote(parts.path.rstrip("/"), safe="/%:@!$&'()*+,;=-._~")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def session_token(session_id: str) -> str:
    """The short form of a course session's id the web form carries: its first 8 hex digits."""
    digits = re.sub("[^0-9a-fA-F]", "", session_id).lower()
    if len(digits) >= SESSION_TOKEN_LEN:
        return digits[:SESSION_TOKEN_LEN]
    return cut(single_line(session_id), SESSION_TOKEN_LEN)  # not a UUID: still short


# --------------------------------------------------------------------------- link builders


def web_form_url(
    central_url: str,
    *,
    hall: str,
    session_id: str | None = None,
    seat: str = "",
    ref: str = "",
    note: str = "",
) -> str:
    """The web support form, prefilled. Empty values are left out; `hall` is always there."""
    values = {
        "hall": cut(single_line(hall), MAX_HALL),
        "session": session_token(session_id) if session_id else "",
        "seat": cut(single_line(seat), MAX_SEAT),
        "ref": cut(single_line(ref), MAX_REF),
        "note": cut(note.strip(), MAX_NOTE),
    }
    query = "&".join(f"{key}={encode(values[key])}" for key in FORM_PARAMS if values[key])
    return f"{central_base(central_url)}{FORM_PATH}?{query}"


def status_url(central_url: str, ticket_id: str) -> str:
    """A ticket's status page; the ticket's UUID is the token that makes it unguessable."""
    if not ticket_id.strip():
        raise ValueError("a ticket id is needed")
    return central_base(central_url) + STATUS_PATH.format(token=encode(ticket_id.strip()))


def kb_url(central_url: str, slug: str) -> str:
    """A knowledge-base article."""
    if not slug.strip():
        raise ValueError("an article slug is needed")
    return central_base(central_url) + KB_PATH.format(slug=encode(slug.strip()))


def _ascii_digits(text: str) -> str | None:
    out = []
    for ch in text:
        value = unicodedata.decimal(ch, None)  # also Arabic-Indic digits ٠١٢ and ۰۱۲
        if value is None:
            return None
        out.append(str(value))
    return "".join(out)


def whatsapp_number(phone: str, country_code: str) -> str:
    """The international number wa.me wants (digits only, no + or 00) from a number written as
    a local one (05…), or with +966, 00966 or 966, with spaces, dashes, dots or brackets."""
    cc = _ascii_digits(re.sub(r"^(\+|00)", "", country_code.strip()))
    if not cc:
        raise ValueError(f"country code {country_code!r} has no digits")
    cleaned = re.sub(r"[\s\-.()/\u00a0\u200e\u200f]", "", phone)
    international = cleaned.startswith(("+", "00", "٠٠", "۰۰"))
    cleaned = cleaned.lstrip("+")
    digits = _ascii_digits(cleaned)
    if not digits:
        raise ValueError(f"{phone!r} is not a phone number")
    if digits.startswith("00"):
        digits, international = digits[2:], True
    if not international:
        if digits.startswith("0"):
            digits = cc + digits[1:]  # trunk prefix: 05… → 9665…
        elif not (digits.startswith(cc) and len(digits) >= len(cc) + 8):
            digits = cc + digits
    if not 8 <= len(digits) <= 15:  # E.164: at most 15 digits
        raise ValueError(f"{phone!r} is not a phone number")
    return digits


def tr_in(language: str, key: str, /, **values: object) -> str:
    """A catalog message in `language`, whatever the interface language is."""
    template = CATALOGS[language].get(key) or CATALOGS["en"].get(key, key)
    return template.format(**values) if values else template


def whatsapp_message(
    language: str, *, hall: str, seat: str = "", ref: str = "", note: str = ""
) -> str:
    """The prefilled message: hall, seat and ticket ref (those given), then a note on its own
    line. Words come from the translation catalogs in `language`."""
    parts = [tr_in(language, "qr.wa.hall", hall=cut(single_line(hall), MAX_HALL))]
    if seat.strip():
        parts.append(tr_in(language, "qr.wa.seat", seat=cut(single_line(seat), MAX_SEAT)))
    if ref.strip():
        parts.append(tr_in(language, "qr.wa.ref", ref=cut(single_line(ref), MAX_REF)))
    message = tr_in(language, "qr.wa.join").join(parts)
    if note.strip():
        message += "\n" + cut(note.strip(), MAX_NOTE)
    return message


def whatsapp_url(number: str, message: str = "") -> str:
    """wa.me link to `number` (international digits, see `whatsapp_number`) with a message."""
    if not number.isascii() or not number.isdigit():
        raise ValueError(f"{number!r} must be international digits only")
    url = f"{WHATSAPP_BASE}{number}"
    return f"{url}?text={encode(message)}" if message else url


# --------------------------------------------------------------------------- QR matrix

# Preferred first: M survives ~15 % damage (glare on a projector screen); L only ~7 %.
LEVELS: tuple[tuple[str, int], ...] = (("M", ERROR_CORRECT_M), ("L", ERROR_CORRECT_L))


class QRTooLong(ValueError):
    """The text does not fit in any QR code (version 40)."""


@dataclass(frozen=True)
class QRMatrix:
    """The modules of a QR symbol, row by row (True = dark), without the quiet zone."""

    text: str
    version: int
    level: str
    modules: tuple[tuple[bool, ...], ...]

    @property
    def size(self) -> int:
        """Modules per side (21 for version 1, +4 per version)."""
        return len(self.modules)

    @property
    def size_with_quiet_zone(self) -> int:
        return self.size + 2 * QUIET_ZONE


@lru_cache(maxsize=128)  # each (text, level) is encoded once, whatever room is asked about
def _encode(text: str, level: int) -> tuple[int, tuple[tuple[bool, ...], ...]]:
    code = qrcode.QRCode(version=None, error_correction=level, box_size=1, border=0)
    code.add_data(text)
    code.make(fit=True)
    assert code.version is not None
    return code.version, tuple(tuple(bool(m) for m in row) for row in code.get_matrix())


@lru_cache(maxsize=128)
def qr_matrix(text: str, max_modules: int | None = None) -> QRMatrix:
    """The QR symbol for `text`: level M in the smallest version that holds it; level L instead
    when the M symbol would be wider than `max_modules` (the room there is) but L is not, or
    when only L can hold the text. The result can still exceed `max_modules`: callers check
    `size`. Raises `QRTooLong` when no QR code can hold the text."""
    if not text:
        raise ValueError("nothing to encode")
    fallback: QRMatrix | None = None
    for name, level in LEVELS:
        try:
            version, modules = _encode(text, level)
        except (DataOverflowError, ValueError):  # qrcode says "Invalid version (was 41...)"
            continue
        matrix = QRMatrix(text=text, version=version, level=name, modules=modules)
        if max_modules is None or matrix.size <= max_modules:
            return matrix
        fallback = matrix  # the last (smallest) one that holds the text
    if fallback is None:
        raise QRTooLong(f"{len(text.encode())} bytes do not fit in a QR code")
    return fallback
