"""The managers' desk in the TUI: RCA state on the escalations screen, and the charts screen."""

from __future__ import annotations

from collections.abc import Callable

from report_fixture import fill_report_fixture, report_config
from textual.widgets import DataTable

from classroom_support.app import ClassroomSupportApp
from classroom_support.screens.sla_screens import EscalationsScreen


async def test_escalations_show_rca_pending_or_recorded(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app(config=report_config())
    refs = fill_report_fixture(app.ctx)
    app.ctx.desk.record_rca(refs["T4"], "staffing", "nobody on the desk", "rota", "Huda")
    async with app.run_test(size=(160, 36)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EscalationsScreen)
        table = app.screen.query_one("#escalations", DataTable)
        rca = {str(key.value): str(table.get_cell(key, "rca")) for key in table.rows}
        assert rca == {refs["T3"]: "pending", refs["T4"]: "recorded", refs["T5"]: "pending"}
