"""The managers' charts: first responses within target, breaches and the median first response
for the last 4 or 12 weeks, one chart at a time (fits 80×24), one series per hall when the
desk holds several halls, or (p) one per priority. The figures come from `performance_report`,
as for the CLI `report`.

Titles, the legend and the summary are translated and sit outside the plot, where they are
shaped for Arabic like every other label (plotext draws characters left to right and would not);
inside the plot there are only week dates and numbers. The legend outside also keeps the plot's
top-left corner free for the data (plotext draws its own legend over it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from classroom_support.i18n import tr
from classroom_support.performance_report import (
    GroupFigures,
    PerformanceReport,
    build_report,
    duration_text,
    share_text,
)
from classroom_support.screens.base import AppScreen
from classroom_support.screens.history import wrap_logical
from classroom_support.widgets import HallHeader, LocalizedFooter, data_text, paragraph_text

if TYPE_CHECKING:
    from textual_plotext import PlotextPlot

CHARTS = ("share", "breaches", "median")
# One fixed colour per series (hall or priority), the same on every chart and in the legend.
COLOURS: tuple[tuple[int, int, int], ...] = (
    (0, 175, 255),
    (255, 175, 0),
    (215, 95, 215),
    (95, 215, 95),
    (255, 95, 95),
    (135, 135, 255),
    (255, 255, 95),
)
WEEK_CHOICES = (4, 12)
SPLITS = ("hall", "priority")  # one series per hall, or per priority


@dataclass(frozen=True)
class ChartSeries:
    """One line or bar series as handed to the plot: positions are week indexes."""

    label: str
    xs: tuple[int, ...]
    ys: tuple[float, ...]


def chart_series(report: PerformanceReport, chart: str, split: str = "hall") -> list[ChartSeries]:
    """What `chart` draws: split "hall", one series per hall when there are several (else all
    tickets); split "priority", one per priority present. Weeks without a value (nothing
    settled, no response) are left out of a line."""
    halls = report.halls
    groups: list[tuple[str, GroupFigures]]
    if split == "priority":
        groups = [
            (tr(f"priority.{g.value}"), g) for g in report.groups if g.dimension == "priority"
        ]
    elif len(halls) >= 2:
        groups = [(h, g) for h in halls if (g := report.group("hall", h)) is not None]
    else:
        groups = [(tr("charts.all"), report.overall)]
    out = []
    for label, group in groups:
        points: list[tuple[int, float]] = []
        for i, week in enumerate(group.weeks):
            if chart == "breaches":
                points.append((i, float(week.breaches)))
            elif chart == "share" and week.share_within_target is not None:
                points.append((i, round(week.share_within_target * 100, 1)))
            elif chart == "median" and week.median_hours is not None:
                points.append((i, round(week.median_hours, 2)))
        out.append(ChartSeries(label, tuple(x for x, _ in points), tuple(y for _, y in points)))
    return out


def runs(series: ChartSeries) -> list[list[tuple[int, float]]]:
    """The series' points in runs of consecutive weeks."""
    out: list[list[tuple[int, float]]] = []
    for x, y in zip(series.xs, series.ys, strict=True):
        if out and out[-1][-1][0] == x - 1:
            out[-1].append((x, y))
        else:
            out.append([(x, y)])
    return out


class ChartsScreen(AppScreen[None]):
    BINDINGS = [
        Binding("escape", "back", "key.back", id="charts-back"),
        Binding("tab", "next_chart", "key.next_chart", id="charts-next", priority=True),
        Binding(
            "shift+tab",
            "next_chart(-1)",
            "key.previous_chart",
            id="charts-previous",
            show=False,
            priority=True,
        ),
        Binding("w", "toggle_weeks", "key.chart_weeks", id="charts-weeks"),
        Binding("p", "toggle_split", "key.chart_split", id="charts-split"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.chart = 0
        self.weeks = WEEK_CHOICES[0]
        self.split = SPLITS[0]
        self.report: PerformanceReport | None = None
        self.series: list[ChartSeries] = []  # what the plot was last given

    def compose(self) -> ComposeResult:
        from textual_plotext import PlotextPlot  # plotext loads only when a chart is opened

        yield HallHeader(id="header")
        yield Static(id="charts-title")
        yield Static(id="charts-tabs")
        yield Static(id="charts-legend")
        yield PlotextPlot(id="chart")
        yield Static(id="charts-empty", classes="hidden")
        yield Static(id="charts-summary")
        yield LocalizedFooter()

    def on_mount(self) -> None:
        self.populate()

    def populate(self) -> None:
        self.report = build_report(self.ctx, weeks=self.weeks)
        self.draw()

    def on_resize(self) -> None:
        # Text is wrapped, and week dates thinned, for the width: redo both.
        if self.report is not None and not self.rebuilding:
            self.draw()

    def draw(self) -> None:
        report = self.report
        assert report is not None
        name = CHARTS[self.chart]
        self.query_one("#charts-title", Static).update(
            data_text(tr("charts.title", chart=tr(f"charts.{name}.title"), weeks=self.weeks))
        )
        tabs = "   ".join(("● " if c == name else "○ ") + tr(f"charts.{c}.tab") for c in CHARTS)
        self.query_one("#charts-tabs", Static).update(data_text(tabs))
        plot: PlotextPlot = self.query_one("#chart")  # type: ignore[assignment]
        empty = self.query_one("#charts-empty", Static)
        summary = self.query_one("#charts-summary", Static)
        if not report.has_data:
            self.series = []
            message = wrap_logical(tr("charts.empty", weeks=self.weeks), self.app.size.width - 10)
            empty.update(paragraph_text(message))
            empty.remove_class("hidden")
            plot.add_class("hidden")
            summary.update("")
            self.show_legend()
            return
        empty.add_class("hidden")
        plot.remove_class("hidden")
        self.series = chart_series(report, name, self.split)
        self.plot(plot, name)
        self.show_legend()
        total = report.overall.total
        text = tr(
            "charts.summary",
            share=share_text(total),
            breaches=total.breaches,
            median=duration_text(total.median_first_response),
            awaiting=report.overall.awaiting,
        )
        summary.update(data_text(wrap_logical(text, self.app.size.width - 2), single_line=False))

    def show_legend(self) -> None:
        """Which colour is which hall or priority: only when there are several."""
        legend = self.query_one("#charts-legend", Static)
        legend.set_class(len(self.series) < 2 and self.split == "hall", "hidden")
        legend.update(
            Content("   ").join(
                Content.assemble(("■ ", f"#{r:02x}{g:02x}{b:02x}"), data_text(s.label, limit=16))
                for s, (r, g, b) in zip(self.series, self.colours(), strict=True)
            )
        )

    def plot(self, plot: PlotextPlot, name: str) -> None:
        report = self.report
        assert report is not None
        plt = plot.plt
        plt.clear_figure()
        dates = [w.start.strftime("%m-%d") for w in report.weeks]
        # Twelve dates do not fit under a narrow plot: every other one.
        step = 2 if len(dates) > 6 and self.app.size.width < 100 else 1
        ticks = list(range(0, len(dates), step))
        colours = self.colours()
        if name == "breaches":
            values = [[0.0] * len(dates) for _ in self.series]
            for row, s in zip(values, self.series, strict=True):
                for x, y in zip(s.xs, s.ys, strict=True):
                    row[x] = y
            positions = list(range(len(dates)))
            if len(values) > 1:
                plt.stacked_bar(positions, values, width=0.6, color=colours)
            else:
                plt.bar(positions, values[0], width=0.6, color=colours[0])
            top = int(max((sum(col) for col in zip(*values, strict=True)), default=0))
            every = max(1, -(-top // 5))  # at most about five whole-number ticks
            plt.ylim(0, max(1, top))
            plt.yticks(list(range(0, max(1, top) + 1, every)))
            plt.xlim(-0.5, len(dates) - 0.5)
        else:
            for s, colour in zip(self.series, colours, strict=True):
                # A line only joins neighbouring weeks: a week without a value is a gap.
                for run in runs(s):
                    xs, ys = [x for x, _ in run], [y for _, y in run]
                    if len(run) > 1:
                        plt.plot(xs, ys, marker="braille", color=colour)
                    plt.scatter(xs, ys, marker="●", color=colour)
            if name == "share":
                plt.ylim(0, 100)
                plt.yticks([0, 25, 50, 75, 100])
            else:
                top = max((max(s.ys) for s in self.series if s.ys), default=1.0)
                upper = max(1, math.ceil(top * 1.1))  # whole working hours on the axis
                plt.ylim(0, upper)
                plt.yticks(list(range(0, upper + 1, max(1, math.ceil(upper / 5)))))
            plt.xlim(-0.3, len(dates) - 0.7)
        plt.xticks(ticks, [dates[i] for i in ticks])
        plot.refresh()

    def colours(self) -> list[tuple[int, int, int]]:
        return [COLOURS[i % len(COLOURS)] for i in range(len(self.series))]

    def action_next_chart(self, step: int = 1) -> None:
        self.chart = (self.chart + step) % len(CHARTS)
        self.draw()

    def action_toggle_weeks(self) -> None:
        index = WEEK_CHOICES.index(self.weeks)
        self.weeks = WEEK_CHOICES[(index + 1) % len(WEEK_CHOICES)]
        self.populate()

    def action_toggle_split(self) -> None:
        self.split = SPLITS[(SPLITS.index(self.split) + 1) % len(SPLITS)]
        self.draw()

    def action_back(self) -> None:
        self.dismiss(None)
