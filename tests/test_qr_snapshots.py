"""Snapshots of the trainee QR screen and the kiosk at 120×36, in English and Arabic.

Fixed clock and device (conftest) and a fixed course-session id: the session's id is in the
web-form code, so a random one would change the picture. No demo data (nothing of it shows on
these screens, and its random ids would leak in). Each snapshot's codes are also decoded from
the screen before it is taken, so an updated snapshot cannot hide an unreadable code.
Update only after looking: `pytest tests/test_qr_snapshots.py --snapshot-report`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from qr_screen import decode_screen
from textual.pilot import Pilot

from classroom_support import i18n, sessions
from classroom_support.sessions import SessionDraft

SIZE = (120, 36)
LANGUAGES = ["en", "ar"]
SESSION_ID = uuid.UUID("3f2a9c1e-7b4d-4e8f-9a0b-1c2d3e4f5a6b")


@pytest.fixture
def app_in_session(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Any]:
    """An app whose hall has a course running now (10:30 Riyadh), with a fixed id."""

    def factory(language: str) -> Any:
        app = make_app(language=language)
        monkeypatch.setattr(sessions, "uuid", SimpleNamespace(uuid4=lambda: SESSION_ID))
        app.ctx.sessions.add(
            SessionDraft(
                "Excel المتقدم — Advanced Excel", "أ. سارة", "2026-11-28", "09:00", "13:00"
            )
        )
        return app

    return factory


def open_and_decode(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """Press `keys`, then decode the screen: exactly the web-form and WhatsApp links."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.pause()
        app = pilot.app
        session = app.ctx.sessions.current()  # type: ignore[attr-defined]
        assert session is not None and session.id == str(SESSION_ID)
        hall = "Hall A101" if i18n.language() == "en" else "قاعة A101"
        assert decode_screen(app) == sorted(
            [
                "https://support.khit.sa/form?hall=A101&session=3f2a9c1e",
                "https://wa.me/966566812777?text=" + quote(hall, safe=""),
            ]
        )

    return run_before


@pytest.mark.parametrize("language", LANGUAGES)
def test_trainee_screen(
    snap_compare: Any, app_in_session: Callable[[str], Any], language: str
) -> None:
    app = app_in_session(language)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_and_decode("q"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_kiosk(snap_compare: Any, app_in_session: Callable[[str], Any], language: str) -> None:
    app = app_in_session(language)
    assert snap_compare(app, terminal_size=SIZE, run_before=open_and_decode("q", "k"))
