"""QR codes for trainees: the web support form and WhatsApp, a ticket's status page, a kiosk.

`TraineeScreen` (``q`` on the queue, ``t`` on a ticket) shows the codes with captions in Arabic
and English at once, the link and the phone number under each. `KioskScreen` (``k`` from the
trainee screen, or ``classroom-support kiosk``) shows the same codes full screen for a
projector, with the opening hours and the contacts, larger when the terminal is large.

The layout follows the terminal and the actual codes (`plan_layout`): side by side when they
fit, else stacked, else one code at a time with its text beside it ("compact", what 80×24 gets),
Tab showing the next. It is decided again when the terminal is resized.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Resize
from textual.widgets import Static

from classroom_support import i18n
from classroom_support.config import DAY_NAMES, Config
from classroom_support.i18n import display, tr
from classroom_support.models import Ticket
from classroom_support.qr import (
    qr_matrix,
    status_url,
    tr_in,
    web_form_url,
    whatsapp_message,
    whatsapp_number,
    whatsapp_url,
)
from classroom_support.screens.base import AppScreen
from classroom_support.textsafe import visible
from classroom_support.widgets import LocalizedFooter, QRCode
from classroom_support.widgets.qr_code import code_cells

SIDE_WIDTH = 32  # the text column beside a code in the compact layout
ROTATE_SECONDS = 20.0  # the kiosk shows the next code this often when they do not all fit
LRM = "\u200e"


def ltr(text: str, language: str) -> str:
    """Keep a number such as "+966…" in one left-to-right run inside Arabic text."""
    return f"{LRM}{text}{LRM}" if language == "ar" else text


@dataclass(frozen=True)
class Card:
    """One code on screen: what it opens, its caption key and the lines of text under it."""

    kind: str  # "status" | "form" | "whatsapp"
    url: str  # "" when the link cannot be made (see `problem`)
    caption: str  # catalog key; shown in both languages
    caption_values: dict[str, str] = field(default_factory=dict)
    lines: tuple[str, ...] = ()  # logical text under the code: the link, the number, ...
    problem: str = ""


@dataclass(frozen=True)
class Plan:
    """How the cards are laid out: `per_page` of them side by side ("row") or one above the
    other ("column"), or one at a time with the text beside the code ("compact")."""

    arrangement: str
    per_page: int

    @property
    def compact(self) -> bool:
        return self.arrangement == "compact"


# --------------------------------------------------------------------------- text


def wrap(text: str, width: int) -> list[str]:
    """Logical lines of at most `width` characters (words kept whole unless longer than a line).
    Wrapped before shaping: wrapping shaped right-to-left text would put its lines out of order.
    """
    lines: list[str] = []
    for paragraph in visible(text).split("\n"):
        lines += textwrap.wrap(
            paragraph, max(width, 1), break_long_words=True, break_on_hyphens=False
        ) or [""]
    return lines


def block(text: str, width: int) -> Content:
    """User or catalog text as display-ready lines: never markup, Arabic shaped per line."""
    # A number kept left to right stays on the line of the word before it: a line that began
    # with the mark would be taken for a left-to-right paragraph.
    text = text.replace(" " + LRM, "\u00a0" + LRM)
    return Content("\n".join(display(line) for line in wrap(text, width)))


def both(key: str, /, **values: object) -> tuple[str, str]:
    """A message in the interface language and in the other one (logical order)."""
    first = i18n.language()
    second = "en" if first == "ar" else "ar"
    return tr_in(first, key, **values), tr_in(second, key, **values)


def hours_text(config: Config, language: str) -> str:
    """The weekly opening hours, e.g. "Open every day 10:00–16:00 and during courses"."""

    def hhmm(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    join = tr_in(language, "qr.hours.join")
    parts = []
    for window in config.weekly_windows:
        span = f"{hhmm(window.start_minute)}–{hhmm(window.end_minute)}"
        if len(set(window.days)) == 7:
            parts.append(tr_in(language, "qr.hours.daily", hours=span))
        else:
            days = join.join(tr_in(language, f"qr.day.{DAY_NAMES[d]}") for d in window.days)
            parts.append(tr_in(language, "qr.hours.days", days=days, hours=span))
    return tr_in(language, "qr.hours", hours=join.join(parts))


def contacts_text(config: Config, language: str) -> str:
    contact = tr_in(
        language,
        "qr.kiosk.contact",
        phone=ltr(config.phone, language),
        whatsapp=ltr(config.whatsapp, language),
        email=config.email,
    )
    return f"{hours_text(config, language)} · {contact}"


def text_rows(texts: Sequence[str], width: int) -> int:
    return sum(len(wrap(text, width)) for text in texts)


# --------------------------------------------------------------------------- cards and layout


def build_cards(
    config: Config,
    *,
    language: str,
    hall: str,
    session_id: str | None,
    seat: str,
    ticket: Ticket | None,
) -> list[Card]:
    """The codes to show: the ticket's status page first when there is a ticket, then the web
    form and WhatsApp, both carrying the ticket's ref. The WhatsApp message is in `language`."""
    cards: list[Card] = []
    ref = ticket.ref if ticket else ""
    if ticket is not None:
        url = status_url(config.central_url, ticket.id)
        cards.append(Card("status", url, "qr.status.caption", {"ref": ref}, (url,)))
    form = web_form_url(config.central_url, hall=hall, session_id=session_id, seat=seat, ref=ref)
    cards.append(Card("form", form, "qr.form.caption", {}, (form,)))
    message = whatsapp_message(language, hall=hall, seat=seat, ref=ref)
    try:
        number = whatsapp_number(config.whatsapp or config.phone, config.country_code)
    except ValueError as exc:
        cards.append(Card("whatsapp", "", "qr.whatsapp.caption", problem=str(exc)))
        return cards
    number_text = tr_in(
        language, "qr.whatsapp.number", number=ltr(f"+{number}", language), local=config.phone
    )
    cards.append(
        Card(
            "whatsapp",
            whatsapp_url(number, message),
            "qr.whatsapp.caption",
            {},
            (
                f"https://wa.me/{number}",
                number_text,
                tr_in(language, "qr.whatsapp.message", message=message),
            ),
        )
    )
    return cards


def card_texts(card: Card) -> list[str]:
    problem = [tr("qr.bad_link", problem=card.problem)] if card.problem else []
    return problem + list(card.lines)


def smallest_code(card: Card) -> tuple[int, int]:
    """(columns, rows) of the card's smallest code with its quiet zone."""
    if not card.url:
        return (0, 0)
    try:
        return code_cells(qr_matrix(card.url, 0))  # no room: the smallest symbol (level L)
    except ValueError:
        return (0, 0)


def plan_layout(
    width: int,
    height: int,
    cards: Sequence[Card],
    *,
    chrome: int,
    compact_chrome: int,
    caption_rows: int = 2,
) -> Plan:
    """The first that fits the cards' smallest codes: all (or as many as fit per page) side by
    side; stacked; one at a time with the text beside the code; one at a time with the text
    under it. `chrome` is the rows taken besides the cards (title, context, footer, ...)."""
    count = len(cards)
    needs = [smallest_code(card) for card in cards]
    cols = max((c for c, _ in needs), default=0)
    rows = max((r for _, r in needs), default=0)

    def under(card_width: int) -> int:
        return max(text_rows(card_texts(card), card_width - 2) for card in cards)

    def row_fits(k: int) -> bool:
        card_width = width // k
        paged = 1 if k < count else 0
        spare = height - chrome - paged - caption_rows - under(card_width)
        return card_width >= cols and spare >= rows

    def column_fits(k: int) -> bool:
        paged = 1 if k < count else 0
        each = (height - chrome - paged) // k - caption_rows - under(width)
        return width >= cols and each >= rows

    for k in range(count, 1, -1):
        if row_fits(k):
            return Plan("row", k)
    for k in range(count, 1, -1):
        if column_fits(k):
            return Plan("column", k)
    if width - SIDE_WIDTH >= cols and height - compact_chrome >= rows:
        return Plan("compact", 1)
    if row_fits(1):
        return Plan("row", 1)
    return Plan("compact", 1)  # the codes that do not fit say so, and show their link as text


# --------------------------------------------------------------------------- screens


class CodesScreen(AppScreen[None]):
    """What the trainee screen and the kiosk share. Subclasses set the chrome and the keys."""

    MAX_SCALE = 1
    TITLE_KEY = "qr.title"
    DEFAULT_CSS = """
    #qr-head { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    #qr-title-en { width: 1fr; }
    #qr-title-ar { width: 1fr; text-align: right; }
    #qr-context, #qr-page { height: auto; padding: 0 1; text-align: center; }
    #qr-cards { height: 1fr; }
    #qr-cards.-column { layout: vertical; }
    .qr-card { width: 1fr; height: 1fr; align: center middle; }
    .qr-card.-compact { layout: horizontal; }
    .qr-side { width: 32; height: 1fr; padding: 0 1; }
    .qr-under { height: auto; }
    .qr-caption { width: 1fr; height: auto; text-align: center; text-style: bold; }
    .qr-line, .qr-info { width: 1fr; height: auto; text-align: center; }
    .qr-side .qr-caption, .qr-side .qr-info { margin-bottom: 1; }
    .qr-problem { width: 1fr; height: auto; text-align: center; color: $text-error; }
    /* A toast over a code stops it scanning: notifications wait for the technician's screens
       (SLA alerts still ring the bell). */
    #textual-toastrack, #textual-toastrack Toast { visibility: hidden; }
    """
    BINDINGS = [
        Binding("escape", "back", "key.back", id="qr-back"),
        Binding("tab", "next_code", "key.next_code", id="next-code", key_display="Tab"),
    ]

    def __init__(self, ticket_ref: str | None = None, *, seat: str = "") -> None:
        super().__init__()
        self.ticket_ref = ticket_ref
        self.seat = seat
        self.page = 0
        self.cards: list[Card] = []
        self.ticket: Ticket | None = None
        self.plan = Plan("row", 1)

    # ------------------------------------------------------------------ content

    def make_cards(self) -> list[Card]:
        ctx = self.ctx
        self.ticket = ctx.desk.get(self.ticket_ref) if self.ticket_ref else None
        if self.ticket is not None:
            t = self.ticket
            hall, session_id, seat = t.hall_code, t.session_id, t.seat
        else:
            current = ctx.sessions.current()
            hall, session_id, seat = ctx.config.hall, current.id if current else None, self.seat
        return build_cards(
            ctx.config,
            language=i18n.language(),
            hall=hall,
            session_id=session_id,
            seat=seat,
            ticket=self.ticket,
        )

    def context_line(self) -> str:
        """Hall · course · seat · ticket, in the interface language."""
        ctx = self.ctx
        config: Config = ctx.config
        ticket = self.ticket
        hall_code = ticket.hall_code if ticket else config.hall
        hall = config.hall_named(hall_code)
        arabic = i18n.language() == "ar"
        name = (hall.name_ar if arabic and hall.name_ar else hall.name) if hall else hall_code
        parts = [name]
        if ticket is not None:
            course = ticket.session_label
            seat = ticket.seat
        else:
            current = ctx.sessions.current()
            course = current.course if current else ""
            seat = self.seat
        if course:
            parts.append(tr("qr.ctx.session", course=course))
        if seat:
            parts.append(tr("qr.ctx.seat", seat=seat))
        if ticket is not None:
            parts.append(tr("qr.ctx.ref", ref=ticket.ref))
        return " · ".join(parts)

    def extra_texts(self) -> list[str]:
        """Lines under the cards (the kiosk's hours and contacts)."""
        return []

    def chrome(self, width: int) -> int:
        """Rows besides the cards in the row/column layouts: title, context, extras, footer."""
        return 1 + text_rows([self.context_line(), *self.extra_texts()], width - 2) + 1

    # ------------------------------------------------------------------ compose

    def compose(self) -> ComposeResult:
        self.cards = self.make_cards()
        width, height = self.app.size
        self.plan = plan_layout(
            width, height, self.cards, chrome=self.chrome(width), compact_chrome=1
        )
        compact = self.plan.compact
        if not compact:
            yield from self.compose_head()
            yield Static(block(self.context_line(), width - 2), id="qr-context")
        cards_class = "-column" if self.plan.arrangement == "column" else ""
        with Horizontal(id="qr-cards", classes=cards_class):
            order = list(enumerate(self.cards))
            if i18n.is_rtl() and self.plan.arrangement == "row":
                order.reverse()  # Arabic reads from the right: the first code on the right
            for index, card in order:
                classes = "qr-card -compact" if compact else "qr-card"
                with Vertical(classes=classes, id=f"card-{index}"):
                    if compact:
                        yield QRCode(card.url, max_scale=self.MAX_SCALE, id=f"qr-{card.kind}")
                        with Vertical(classes="qr-side"):
                            yield from self.compose_side(card)
                    else:
                        yield self.caption(card, self.card_width())
                        yield QRCode(card.url, max_scale=self.MAX_SCALE, id=f"qr-{card.kind}")
                        with Vertical(classes="qr-under"):
                            yield from self.card_lines(card, self.card_width())
        if not compact:
            yield Static(id="qr-page")
            for text in self.extra_texts():
                yield Static(block(text, width - 2), classes="qr-info")
        yield from self.compose_foot()

    def compose_head(self) -> ComposeResult:
        # English from the left edge, Arabic from the right edge, whichever is the interface's.
        with Horizontal(id="qr-head"):
            for language in ("en", "ar"):
                title = visible(tr_in(language, self.TITLE_KEY), single_line=True)
                yield Static(Content(display(title)), id=f"qr-title-{language}")

    def compose_side(self, card: Card) -> ComposeResult:
        inner = SIDE_WIDTH - 2
        yield Static(block("\n".join(both(self.TITLE_KEY)), inner), classes="qr-caption")
        yield Static(block(self.context_line(), inner), classes="qr-info")
        yield self.caption(card, inner)
        yield from self.card_lines(card, inner)
        for text in self.extra_texts():
            yield Static(block(text, inner), classes="qr-info")
        yield Static(classes="qr-info qr-page-side")

    def compose_foot(self) -> ComposeResult:
        yield LocalizedFooter()

    def card_width(self) -> int:
        width = self.app.size.width
        return width if self.plan.arrangement == "column" else width // self.plan.per_page

    def caption(self, card: Card, width: int) -> Static:
        text = "\n".join(both(card.caption, **card.caption_values))
        return Static(block(text, width - 2), classes="qr-caption")

    def card_lines(self, card: Card, width: int) -> ComposeResult:
        if card.problem:
            problem = tr("qr.bad_link", problem=card.problem)
            yield Static(block(problem, width - 2), classes="qr-problem")
        for line in card.lines:
            yield Static(block(line, width - 2), classes="qr-line")

    # ------------------------------------------------------------------ sizes and pages

    def on_mount(self) -> None:
        self.populate()

    def populate(self) -> None:
        self.size_codes()
        self.show_page()

    def size_codes(self) -> None:
        """Give each code exactly the rows it draws in (so caption, code and link sit together,
        centred), as large as the room allows; a code that cannot fit gets all the room to say
        so. The widget checks again against the room it really gets."""
        if self.plan.compact:
            return
        width, height = self.app.size
        card_width = self.card_width()
        k = self.plan.per_page
        paged = 1 if k < len(self.cards) else 0
        under = max(text_rows(card_texts(card), card_width - 2) for card in self.cards)
        room = height - self.chrome(width) - paged
        if self.plan.arrangement == "column":
            room //= k
        room -= 2 + under  # caption rows and the text under the code
        rows_needed = 1
        for card in self.cards:
            rows_needed = max(rows_needed, self.code_rows(card, card_width, room))
        for widget in self.query(QRCode):
            widget.styles.height = max(1, min(rows_needed, room))
        for under_box in self.query(".qr-under"):
            under_box.styles.height = under

    def code_rows(self, card: Card, width: int, rows: int) -> int:
        space = min(width, 2 * rows) - 8
        if not card.url or space < 21:
            return rows
        try:
            matrix = qr_matrix(card.url, space)
        except ValueError:
            return rows
        if matrix.size > space:
            return rows
        for scale in range(self.MAX_SCALE, 0, -1):
            cols, need = code_cells(matrix, scale)
            if cols <= width and need <= rows:
                return need
        return rows

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.cards) / self.plan.per_page))

    def show_page(self) -> None:
        self.page %= self.pages
        first = self.page * self.plan.per_page
        shown = range(first, first + self.plan.per_page)
        for index in range(len(self.cards)):
            self.query_one(f"#card-{index}").display = index in shown
        text = self.page_text(first) if self.pages > 1 else ""
        for line in self.query("#qr-page, .qr-page-side").results(Static):
            line.update(block(text, SIDE_WIDTH - 2 if line.id is None else self.app.size.width))
            line.display = bool(text)
        self.show_hint()
        self.refresh_bindings()

    def page_text(self, first: int) -> str:
        """Which codes are on screen, counted in codes (not pages): "Codes 1–2 of 3"."""
        last = min(first + self.plan.per_page, len(self.cards))
        key = self.key_label("next-code", "Tab")
        if last - first == 1:
            return tr("qr.page", code=first + 1, total=len(self.cards), key=key)
        return tr("qr.pages", first=first + 1, last=last, total=len(self.cards), key=key)

    def show_hint(self) -> None:
        """The kiosk's line of keys (the trainee screen has the footer)."""

    async def on_resize(self, event: Resize) -> None:
        width, height = event.size
        plan = plan_layout(width, height, self.cards, chrome=self.chrome(width), compact_chrome=1)
        if plan != self.plan:
            await self.recompose()
        else:
            self.size_codes()

    def save_state(self) -> dict[str, Any]:
        return {"page": self.page}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.page = state.get("page", 0)
        self.show_page()

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_code":
            return self.pages > 1  # hidden when every code is on screen
        return True

    def action_back(self) -> None:
        self.dismiss(None)

    def action_next_code(self) -> None:
        self.page = (self.page + 1) % self.pages
        self.show_page()


class TraineeScreen(CodesScreen):
    """Codes for the trainee in front of the technician, captions in Arabic and English."""

    BINDINGS = [
        Binding("k", "toggle_kiosk", "key.kiosk", id="toggle-kiosk"),
        Binding("e", "set_seat", "key.qr_seat", id="qr-seat"),
    ]

    def action_toggle_kiosk(self) -> None:
        self.app.switch_screen(KioskScreen(self.ticket_ref, seat=self.seat))

    def action_set_seat(self) -> None:
        from classroom_support.screens.prompts import TextPrompt

        def answered(text: str | None) -> None:
            if text is not None and text.strip() != self.seat:
                self.seat = text.strip()
                self.call_later(self.recompose)

        self.app.push_screen(TextPrompt(tr("qr.seat_prompt"), initial=self.seat), answered)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "set_seat":
            return self.ticket_ref is None  # a ticket's codes use the ticket's seat
        return super().check_action(action, parameters)


class KioskScreen(CodesScreen):
    """Full screen for a projector: the codes as large as the terminal allows, the opening hours
    and the contacts in both languages, and one quiet line of keys instead of the footer."""

    MAX_SCALE = 3
    TITLE_KEY = "qr.kiosk.title"
    DEFAULT_CSS = """
    #qr-head { background: $primary; color: $text; }
    .qr-info { text-style: bold; }
    #qr-hint { height: 1; text-align: center; color: $text-muted; }
    """
    BINDINGS = [
        Binding("k", "toggle_kiosk", "key.trainee_view", id="toggle-kiosk"),
    ]

    def extra_texts(self) -> list[str]:
        config: Config = self.ctx.config
        first = i18n.language()
        return [
            contacts_text(config, first),
            contacts_text(config, "en" if first == "ar" else "ar"),
        ]

    def compose_foot(self) -> ComposeResult:
        yield Static(id="qr-hint")

    def show_hint(self) -> None:
        # Tab is named whenever there is a next code: the footer that would say so is not here.
        hint = tr("qr.kiosk.hint", back="Esc", kiosk=self.key_label("toggle-kiosk", "k"))
        if self.pages > 1:
            hint += " · " + tr("qr.kiosk.next", key=self.key_label("next-code", "Tab"))
        self.query_one("#qr-hint", Static).update(Content(display(hint)))

    def on_mount(self) -> None:
        # CodesScreen.on_mount runs as well: Textual dispatches on_mount along the MRO.
        self.set_interval(ROTATE_SECONDS, self.rotate)

    def rotate(self) -> None:
        if self.pages > 1 and not self.rebuilding:
            self.action_next_code()

    def action_toggle_kiosk(self) -> None:
        self.app.switch_screen(TraineeScreen(self.ticket_ref, seat=self.seat))
