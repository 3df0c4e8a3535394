"""`[keymap]`: an unknown id or a clashing key is refused in one line before the TUI starts,
and the empty queue's hint names the key new-ticket really has."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from classroom_support.cli import main


def start_tui(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keymap: str,
) -> tuple[int, str]:
    from classroom_support.app import ClassroomSupportApp

    # Were the keymap let through, the app would start: record that instead of a real TUI.
    monkeypatch.setattr(ClassroomSupportApp, "run", lambda self: print("started"))
    config = tmp_path / "config.toml"
    config.write_text(f'[ui]\nlanguage = "en"\n[keymap]\n{keymap}\n', encoding="utf-8")
    code = main(["--config", str(config), "--db", str(tmp_path / "db.sqlite3")])
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return code, err


@pytest.mark.parametrize(
    ("keymap", "named"),
    [
        ('new-tikcet = "f2"', "new-tikcet"),  # a typo in the id
        ('new-ticket = "s"', "sort"),  # s already sorts the queue
        ('respond = "n"', "add-note"),  # on the ticket screen n adds a note
        ('new-ticket = "f2"\nsort = "f2"', "sort"),  # two remapped onto one key
        ('new-ticket = "ctrl+q"', "Ctrl+Q"),
    ],
)
def test_bad_keymap_is_refused_before_the_tui(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keymap: str,
    named: str,
) -> None:
    code, err = start_tui(capsys, tmp_path, monkeypatch, keymap)
    assert code == 2 and named in err and "[keymap]" in err
    assert not (tmp_path / "db.sqlite3").exists()  # refused before anything was opened


def test_good_keymap_passes() -> None:
    from classroom_support.screens.keymap_check import keymap_problem

    assert keymap_problem({"new-ticket": "f2", "sort": "z"}) is None
    assert keymap_problem({}) is None


async def test_empty_queue_hint_follows_the_remapped_key(
    make_app: Callable[..., object],
) -> None:
    from textual.widgets import Static

    from classroom_support.app import ClassroomSupportApp

    app = make_app(config='[ui]\nlanguage = "en"\n[keymap]\nnew-ticket = "f2"\n')
    assert isinstance(app, ClassroomSupportApp)
    async with app.run_test(size=(120, 36)) as pilot:
        text = str(app.screen.query_one("#queue-empty", Static).render())
        assert "Press F2" in text and "Press N" not in text
        await pilot.press("f2")
        await pilot.pause()
        assert type(app.screen).__name__ == "NewTicketScreen"
