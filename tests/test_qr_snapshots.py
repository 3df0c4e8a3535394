"""Snapshots of the trainee QR screen and the kiosk at 120×36, in English and Arabic.

Fixed clock and device (conftest), and fixed UUIDs: the course session's id is in the web-form
code, so random ids would change the picture. Each snapshot's codes are also decoded from the
screen (see test_qr_screens.py), so an updated snapshot cannot hide an unreadable code.
Update only after looking: `pytest tests/test_qr_snapshots.py --snapshot-report`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from qr_screen import decode_screen
from textual.pilot import Pilot

from classroom_support import i18n

SIZE = (120, 36)
LANGUAGES = ["en", "ar"]


@pytest.fixture
def fixed_uuids(monkeypatch: pytest.MonkeyPatch) -> None:
    generator = random.Random(2026)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=generator.getrandbits(128), version=4))


def open_and_decode(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """Press `keys`, then decode the screen: exactly the web-form and WhatsApp links."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.pause()
        app = pilot.app
        session = app.ctx.sessions.current()  # type: ignore[attr-defined]
        assert session is not None  # the demo's morning course is running at 10:30
        hall = "Hall A101" if i18n.language() == "en" else "قاعة A101"
        assert decode_screen(app) == sorted(
            [
                f"https://support.khit.sa/form?hall=A101&session={session.id[:8]}",
                "https://wa.me/966566812777?text=" + quote(hall, safe=""),
            ]
        )

    return run_before


@pytest.mark.parametrize("language", LANGUAGES)
def test_trainee_screen(
    snap_compare: Any, make_app: Callable[..., Any], fixed_uuids: None, language: str
) -> None:
    app = make_app(language=language, demo=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_and_decode("q"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_kiosk(
    snap_compare: Any, make_app: Callable[..., Any], fixed_uuids: None, language: str
) -> None:
    app = make_app(language=language, demo=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_and_decode("q", "k"))
