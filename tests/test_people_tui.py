"""The staff directory in the TUI: Assign picks from it (type to filter, free text still
possible), the escalations screen names the people at each rung."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from textual.widgets import DataTable, OptionList, Static

from classroom_support import i18n
from classroom_support.app import ClassroomSupportApp
from classroom_support.context import AppContext
from classroom_support.i18n import display
from classroom_support.models import PersonRow, TicketEvent
from classroom_support.screens.people_picker import AssignPicker
from classroom_support.screens.sla_screens import EscalationsScreen, names_cell
from classroom_support.screens.ticket_detail import TicketDetailScreen
from classroom_support.tickets import TicketDraft

RIYADH = ZoneInfo("Asia/Riyadh")
MakeApp = Callable[..., ClassroomSupportApp]
SMALL = (80, 24)

STAFF = (
    ("p-sami", "Sami Al-Omari", "technician", "A101"),
    ("p-yusuf", "Yusuf Karim", "technician", "B201"),
    ("p-khalid", "خالد المطيري", "L2", ""),
    ("p-huda", "هدى الشمري", "training_body_manager", ""),
    ("p-salem", "Salem Al-Harbi", "administrative_body_manager", ""),
    ("p-gm", "Abdulrahman", "general_manager", ""),
)


def synced_directory(ctx: AppContext) -> None:
    """The directory as a pull leaves it (tests/test_people.py syncs it for real)."""
    with ctx.db.write() as s:
        for person_id, name, role, halls in STAFF:
            s.add(PersonRow(id=person_id, name=name, role=role, halls=halls))


def listed(app: ClassroomSupportApp) -> list[str]:
    options = app.screen.query_one("#assign-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def assigned_payloads(ctx: AppContext) -> list[dict[str, str]]:
    with ctx.db.read() as s:
        rows = s.exec(select(TicketEvent).where(TicketEvent.kind == "assigned")).all()
        return [json.loads(e.payload) if isinstance(e.payload, str) else e.payload for e in rows]


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_assign_picks_from_the_directory_typing_filters(
    make_app: MakeApp, language: str
) -> None:
    app = make_app(language=language)
    ctx = app.ctx
    synced_directory(ctx)
    ref = ctx.desk.create(TicketDraft(title="Projector dead")).ref
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "a")
        await pilot.pause()
        assert isinstance(app.screen, AssignPicker)
        shown = listed(app)
        assert len(shown) == len(STAFF)
        assert "Sami Al-Omari" in shown[0]  # this hall's technician first
        await pilot.press(*"yus")
        await pilot.pause()
        assert len(listed(app)) == 2  # Yusuf, and the typed text as a last resort
        assert "Yusuf Karim" in listed(app)[0]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketDetailScreen)
        assert ctx.desk.get(ref).assignee == "Yusuf Karim"
        assert assigned_payloads(ctx)[-1] == {"assignee": "Yusuf Karim", "person_id": "p-yusuf"}

        # Arrows move the highlight while the filter keeps the focus; Arabic is matched
        # without its letter variants.
        await pilot.press("a", *"al-")
        await pilot.pause()
        shown = listed(app)
        assert len(shown) == 3
        assert "Sami Al-Omari" in shown[0] and "Salem Al-Harbi" in shown[1]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert ctx.desk.get(ref).assignee == "Salem Al-Harbi"
        await pilot.press("a", *"المطيرى", "enter")
        await pilot.pause()
        assert ctx.desk.get(ref).assignee == "خالد المطيري"

        # Someone not in the directory: the last line takes the name as typed.
        await pilot.press("a", *"Network team")
        await pilot.pause()
        assert len(listed(app)) == 1
        await pilot.press("enter")
        await pilot.pause()
        assert ctx.desk.get(ref).assignee == "Network team"
        assert assigned_payloads(ctx)[-1] == {"assignee": "Network team"}

        # With nothing typed, the last line clears the assignee; Esc changes nothing.
        await pilot.press("a", "escape")
        await pilot.pause()
        assert ctx.desk.get(ref).assignee == "Network team"
        await pilot.press("a", *["down"] * 10, "enter")
        await pilot.pause()
        assert ctx.desk.get(ref).assignee == ""


async def test_an_empty_directory_says_so_and_takes_a_typed_name(make_app: MakeApp) -> None:
    app = make_app()
    ref = app.ctx.desk.create(TicketDraft(title="No sound")).ref
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "a")
        await pilot.pause()
        hint = str(app.screen.query_one("#assign-hint", Static).render())
        assert "The staff directory is empty (it comes with sync)" in hint
        assert listed(app) == []
        await pilot.press("enter")  # nothing to assign: a bell, the dialog stays
        await pilot.pause()
        assert isinstance(app.screen, AssignPicker)
        await pilot.press(*"Ahmed", "enter")
        await pilot.pause()
        assert app.ctx.desk.get(ref).assignee == "Ahmed"


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_escalations_name_the_people_at_each_rung(make_app: MakeApp, language: str) -> None:
    app = make_app(language=language)
    ctx = app.ctx
    ctx.clock.set(datetime(2026, 11, 1, 10, tzinfo=RIYADH))  # type: ignore[attr-defined]
    ref = ctx.desk.create(TicketDraft(title="Projector dead")).ref
    ctx.clock.set(datetime(2026, 11, 28, 10, tzinfo=RIYADH))  # type: ignore[attr-defined]
    ctx.sla.run()
    assert ctx.desk.get(ref).escalation_level == 3  # the general manager's rung
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EscalationsScreen)
        table = app.screen.query_one("#escalations", DataTable)
        title = "General Manager" if language == "en" else display("المدير العام")
        assert str(table.get_cell(ref, "who")) == title  # nobody in the directory yet
        synced_directory(ctx)
        app.screen.reload()
        assert str(table.get_cell(ref, "who")) == "Abdulrahman"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_assign_picker_snapshot_80x24(snap_compare: Any, make_app: MakeApp, language: str) -> None:
    """The demo's directory (made-up names) in the picker, at the smallest size."""
    assert snap_compare(
        make_app(language=language, demo=True), terminal_size=SMALL, press=["enter", "a"]
    )


def test_names_cell_keeps_each_name_whole_and_counts_the_rest() -> None:
    i18n.set_language("en")
    names = ["هدى الشمري", "Salem Al-Harbi", "Huda"]
    assert str(names_cell(names, 49)) == f"{display('هدى الشمري')}, Salem Al-Harbi, Huda"
    assert str(names_cell(names, 20)) == f"{display('هدى الشمري')}, +2"
    assert str(names_cell(["Abdulrahman", "Salem"], 10)) == "Abdul…, +1"
    long = names_cell(["Manager of the training body", "Manager of the administrative body"], 49)
    assert str(long) == "Manager of the training body, Manager of the adm…"
    i18n.set_language("ar")  # the app lays Arabic out: the first name is on the right
    assert str(names_cell(names[:2], 49)) == f"Salem Al-Harbi، {display('هدى الشمري')}"
