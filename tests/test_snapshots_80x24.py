"""Every screen and dialog at 80×24, the smallest size the desk claims, in English and Arabic.

Fixed clock, pinned device, no cursor blink (conftest). Screens that show a QR code use no
demo data: the demo's session ids are random and would change the code. Arabic in SVGs
renders unreliably in some viewers; what the Arabic screens hold is checked with Pilot
elsewhere. Reachability (the focused field in view, the History on screen) is asserted in
tests/test_layout_80x24.py; these pictures show that nothing essential is cut.

Update only after looking at each picture: `pytest tests/test_snapshots_80x24.py
--snapshot-report`, then `--snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import set_role
from test_kb_tui import add_articles, starter

SIZE = (80, 24)
LANGUAGES = ["en", "ar"]

# name: (data, keys). Data: "demo" (the demo's tickets and sessions), "kb" (the starter
# articles, no tickets) or "plain" (an empty desk); "+level2" makes the desk Level 2's (only
# Level 2 and managers record a root-cause analysis).
CASES: dict[str, tuple[str, list[str]]] = {
    "queue": ("demo", []),
    "queue_empty": ("plain", []),
    "new_ticket": ("demo", ["n", *"Projector", "tab", *"12", "tab", "1"]),
    "new_ticket_error": ("demo", ["n", "ctrl+s"]),
    "detail": ("demo", ["enter"]),
    "detail_fields_scrolled": ("demo", ["enter", "tab", "end"]),
    "detail_history_end": ("demo", ["enter", "end"]),
    "history_entry": ("demo", ["enter", "enter"]),
    "edit_ticket": ("demo", ["enter", "e"]),
    "note_prompt": ("demo", ["enter", "n"]),
    "priority_choice": ("demo", ["enter", "p"]),
    "rca_form": ("demo+level2", ["enter", "R"]),
    "help": ("demo", ["f1"]),
    "help_end": ("demo", ["f1", "end"]),
    "sessions": ("demo", ["c"]),
    "session_dialog": ("demo", ["c", "a"]),
    "session_dialog_error": ("demo", ["c", "a", "ctrl+s"]),
    "session_dialog_end": ("demo", ["c", "a", *"Excel", "tab", "tab", "tab", "tab"]),
    "session_delete_confirm": ("demo", ["c", "d"]),
    "holidays": ("demo", ["c", "h"]),
    "holiday_form": ("demo", ["c", "h", "a"]),
    "escalations": ("demo", ["e"]),
    "breach_ledger": ("demo", ["b"]),
    "sync_log": ("demo", ["f6"]),
    "sync_setup": ("demo", ["f6", "u"]),
    "trainee_qr": ("plain", ["q"]),
    "kiosk": ("plain", ["q", "k"]),
    "kb_list": ("kb", ["k"]),
    "kb_article": ("kb", ["k", *"projector", "enter"]),
    "kb_article_qr": ("kb", ["k", *"projector", "enter", "q"]),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", list(CASES))
def test_at_80x24(
    snap_compare: Any, make_app: Callable[..., Any], case: str, language: str
) -> None:
    data, keys = CASES[case]
    app = make_app(language=language, demo=data.startswith("demo"))
    if data == "kb":
        add_articles(app.ctx, starter())
    if data.endswith("+level2"):
        set_role(app.ctx, "level2")
    assert snap_compare(app, terminal_size=SIZE, press=keys)
