"""The managers' desk in the TUI: RCA state on the escalations screen, and the charts screen."""

from __future__ import annotations

from collections.abc import Callable

from conftest import set_role
from report_fixture import NOW, RIYADH, fill_report_fixture, report_config
from textual.widgets import DataTable, Static

from classroom_support.app import ClassroomSupportApp
from classroom_support.performance_report import last_weeks
from classroom_support.screens.charts import ChartSeries, ChartsScreen, chart_series
from classroom_support.screens.queue import QueueScreen
from classroom_support.screens.sla_screens import EscalationsScreen


async def test_escalations_show_rca_pending_or_recorded(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app(config=report_config())
    refs = fill_report_fixture(app.ctx)
    set_role(app.ctx, "manager", all_halls=True)  # a manager records the RCA
    app.ctx.desk.record_rca(refs["T4"], "staffing", "nobody on the desk", "rota", "Huda")
    async with app.run_test(size=(160, 36)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, EscalationsScreen)
        table = app.screen.query_one("#escalations", DataTable)
        rca = {str(key.value): str(table.get_cell(key, "rca")) for key in table.rows}
        assert rca == {refs["T3"]: "pending", refs["T4"]: "recorded", refs["T5"]: "pending"}


def plot_text(app: ClassroomSupportApp) -> str:
    """What the plot widget draws now (plotext's canvas, as text)."""
    from textual_plotext import PlotextPlot

    return str(app.screen.query_one("#chart", PlotextPlot).render())


async def test_charts_empty_state(make_app: Callable[..., ClassroomSupportApp]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartsScreen)
        empty = screen.query_one("#charts-empty", Static)
        assert not empty.has_class("hidden") and screen.query_one("#chart").has_class("hidden")
        assert "Nothing to chart yet" in str(empty.render())
        assert screen.series == []
        await pilot.press("w")  # twelve weeks back: still nothing, still says so
        await pilot.pause()
        assert screen.weeks == 12 and "last 12 weeks" in " ".join(str(empty.render()).split())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


async def test_charts_show_each_hall(make_app: Callable[..., ClassroomSupportApp]) -> None:
    app = make_app(config=report_config())
    fill_report_fixture(app.ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartsScreen)
        assert screen.query_one("#charts-empty").has_class("hidden")
        # Weeks 0..3 start 11-01, 11-08, 11-15, 11-22; a week with nothing settled is no point.
        assert screen.series == [
            ChartSeries("A101", (0, 2, 3), (100.0, 100.0, 50.0)),
            ChartSeries("A102", (2, 3), (0.0, 0.0)),
            ChartSeries("B201", (3,), (100.0,)),
        ]
        assert "11-01" in plot_text(app) and "11-22" in plot_text(app)
        legend = str(screen.query_one("#charts-legend", Static).render())
        assert legend == "■ A101   ■ A102   ■ B201"
        summary = str(screen.query_one("#charts-summary", Static).render())
        assert "5/8  62% within target" in summary and "3 breach(es)" in summary
        await pilot.press("tab")
        await pilot.pause()
        assert screen.series == [
            ChartSeries("A101", (0, 1, 2, 3), (0.0, 0.0, 0.0, 1.0)),
            ChartSeries("A102", (0, 1, 2, 3), (0.0, 0.0, 1.0, 1.0)),
            ChartSeries("B201", (0, 1, 2, 3), (0.0, 0.0, 0.0, 0.0)),
        ]
        assert "Breaches per week" in str(screen.query_one("#charts-title", Static).render())
        await pilot.press("tab")
        await pilot.pause()
        assert screen.series == [
            ChartSeries("A101", (0, 2, 3), (5.0, 2.25, 2.0)),
            ChartSeries("A102", (3,), (3.0,)),
            ChartSeries("B201", (3,), (0.5,)),
        ]
        await pilot.press("p")  # one series per priority (critical first), named in the legend
        await pilot.pause()
        assert screen.series == [
            ChartSeries("Critical", (3,), (3.0,)),
            ChartSeries("High", (3,), (2.0,)),
            ChartSeries("Normal", (0, 2, 3), (5.0, 2.25, 0.5)),
        ]
        legend = str(screen.query_one("#charts-legend", Static).render())
        assert legend == "■ Critical   ■ High   ■ Normal"
        await pilot.press("p")
        await pilot.pause()
        assert screen.split == "hall" and screen.series[0].label == "A101"
        await pilot.press("shift+tab", "shift+tab", "w")  # back to the share, twelve weeks
        await pilot.pause()
        assert screen.weeks == 12 and screen.chart == 0
        # The same weeks, eight places later; T8 (answered 10-20 within target) now counts.
        assert screen.series[0] == ChartSeries("A101", (6, 8, 10, 11), (100.0, 100.0, 100.0, 50.0))
        # At 80 columns every other week is named under the axis.
        drawn = plot_text(app)
        assert "10-18" in drawn and "11-15" in drawn and "10-25" not in drawn


async def test_charts_one_hall_and_from_escalations(
    make_app: Callable[..., ClassroomSupportApp],
) -> None:
    app = make_app(config=report_config())
    refs = fill_report_fixture(app.ctx)
    assert refs
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartsScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, EscalationsScreen)


def test_one_hall_is_one_series_named_all_tickets() -> None:
    from classroom_support import i18n
    from classroom_support.performance_report import GroupFigures, PerformanceReport, WeekFigures

    i18n.set_language("en")
    weeks = [WeekFigures(within_target=1, breaches=1), WeekFigures()]
    report = PerformanceReport(
        NOW,
        RIYADH,
        last_weeks(NOW, RIYADH, 2),
        [GroupFigures("all", "", weeks), GroupFigures("hall", "A101", weeks)],
    )
    assert chart_series(report, "share") == [ChartSeries("All tickets", (0,), (50.0,))]
