"""One e-mail message as the e-mail channel reads it: the sender, the subject, the body as plain
text, the attachments by name and size, and whether a machine sent it (loop protection).

Mail is hostile input. Headers are decoded by hand from their raw form (a malformed encoded
word or address does not raise), every part is decoded with its own charset and falls back to
a lossy decode, HTML is reduced to its text (never kept as markup), control characters go, and
line breaks in names and subjects become spaces (no header injection reaches anything). The one
exception that leaves this module is MailRefused, with a short reason for the log and ledger.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser

from classroom_support.people import EMAIL_RE
from classroom_support.qr import cut, single_line

MAX_NAME = 200
MAX_HEADER = 2000  # characters of one header kept for reading
MAX_PARTS = 500  # MIME parts looked at in one message
# C0 controls except tab and newline, DEL and C1 controls: nothing a mail body needs.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
AUTOMATIC_PRECEDENCE = ("bulk", "junk", "list")


class MailRefused(Exception):
    """The message is not filed; `reason` says why (logged, and kept in the ledger)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int


@dataclass(frozen=True)
class IncomingMail:
    sender: str  # the address, checked to look like one
    sender_name: str  # the display name, one line, may be ""
    subject: str  # one line, may be ""
    text: str  # the body as plain text
    attachments: tuple[Attachment, ...]
    message_id: str
    automatic: str  # why a machine sent it ("" for a person): loop protection


def clean_text(text: str) -> str:
    """A body as stored: Unix line breaks, no control characters, no runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def one_line(text: str, limit: int) -> str:
    return cut(single_line(_CONTROL.sub(" ", text)), limit)


# --------------------------------------------------------------------------- headers


def _raw_header(msg: Message, name: str) -> str | None:
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return " ".join(str(value)[:MAX_HEADER].split())  # unfolded
    return None


def _decoded_words(raw: str) -> str:
    try:
        return str(make_header(decode_header(raw)))
    except Exception:  # a malformed encoded word: keep what was sent
        return raw


def _header(msg: Message, name: str) -> str:
    """The header's decoded text ("" when absent), from its raw form: never raises."""
    raw = _raw_header(msg, name)
    return "" if raw is None else _decoded_words(raw)


def _sender(msg: Message) -> tuple[str, str]:
    """(address, display name) of From, or MailRefused when there is no usable address.
    Addresses are read from the header as sent, before encoded words are decoded: a name
    that decodes to a line break and another address must not become the sender."""
    raw = _raw_header(msg, "From") or ""
    try:
        found = getaddresses([raw])
    except Exception:
        found = []
    for name, address in found:
        address = address.strip()
        if (
            address
            and len(address) <= MAX_NAME
            and EMAIL_RE.match(address)
            and not _CONTROL.search(address)
        ):
            return address, one_line(_decoded_words(name), MAX_NAME)
    raise MailRefused("no sender address")


def automatic_reason(msg: Message) -> str:
    """Why this looks machine-sent ("" when it does not): answering it could start a loop."""
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {one_line(auto, 40)}"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    if _header(msg, "Return-Path").strip() == "<>":
        return "bounce (empty Return-Path)"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    return ""


# --------------------------------------------------------------------------- body


class _HtmlText(HTMLParser):
    """The text of an HTML body: tags dropped, blocks on their own lines, script and style
    left out, entities decoded, link targets kept after the link's text."""

    SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
    BLOCK = frozenset(
        {"p", "div", "br", "tr", "table", "ul", "ol", "blockquote", "pre", "hr", "section"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "article", "header", "footer"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n• ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href if href.startswith(("http://", "https://")) else "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self.parts.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(_SPACES.sub(" ", data.replace("\n", " ")))


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # the parser is lenient; keep whatever it read
        pass
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return clean_text("\n".join(lines))


def _decoded(part: Message) -> str:
    """A text part's content in its charset; a lossy decode when the charset is unknown or lies."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    data = payload if isinstance(payload, bytes) else str(part.get_payload() or "").encode()
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return data.decode("utf-8", errors="replace")


def _size(part: Message) -> int:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return len(payload)
    return len(str(part.get_payload() or ""))


def _filename(part: Message) -> str:
    try:
        name = str(part.get_filename() or "")
    except Exception:
        name = ""
    return one_line(_decoded_words(name), MAX_NAME)


def _body(msg: Message) -> tuple[str, tuple[Attachment, ...]]:
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    for count, part in enumerate(msg.walk()):
        if count >= MAX_PARTS:
            break
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        name = _filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        if name or disposition == "attachment" or not kind.startswith("text/"):
            if kind != "message/delivery-status":
                attachments.append(Attachment(name or kind, _size(part)))
            continue
        if kind == "text/html":
            if html is None:
                html = _decoded(part)
        elif plain is None:
            plain = _decoded(part)
    if plain is not None and plain.strip():
        return clean_text(plain), tuple(attachments)
    if html is not None:
        return html_to_text(html), tuple(attachments)
    return clean_text(plain or ""), tuple(attachments)


# --------------------------------------------------------------------------- the message


def read_mail(raw: bytes) -> IncomingMail:
    """The message as the channel files it, or MailRefused."""
    try:
        # compat32: the lenient parser; headers and charsets are decoded here, by hand
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:  # the parser records defects; this is for the truly broken
        raise MailRefused(f"unreadable message ({type(exc).__name__})") from exc
    sender, name = _sender(msg)
    try:
        text, attachments = _body(msg)
    except Exception as exc:
        raise MailRefused(f"unreadable body ({type(exc).__name__})") from exc
    return IncomingMail(
        sender=sender,
        sender_name=name,
        subject=one_line(_header(msg, "Subject"), MAX_HEADER),
        text=text,
        attachments=attachments,
        message_id=one_line(_header(msg, "Message-ID"), 500),
        automatic=automatic_reason(msg),
    )


def message_key(raw: bytes) -> str:
    """What recognises a message seen before under another UID: its Message-ID, or (without
    one) its bytes."""
    try:
        msg = email.message_from_bytes(raw[:65536], policy=email.policy.compat32)
        message_id = " ".join(str(msg.get("Message-ID", "")).split())
    except Exception:
        message_id = ""
    basis = f"mid:{message_id}".encode() if message_id else b"raw:" + raw
    return hashlib.sha256(basis).hexdigest()
