"""The queue's column layout for a terminal width: pure, checked without a screen."""

from __future__ import annotations

import pytest

from classroom_support.columns import ColumnSpec, fit_columns, total_width
from classroom_support.screens.queue import QUEUE_COLUMNS as ALL_COLUMNS

# A hall laptop's queue: the Hall column is only for desks over several halls.
QUEUE_COLUMNS = tuple(c for c in ALL_COLUMNS if c.key != "hall")

# What a typical page holds (header included): demo data in English.
NATURAL = {
    "ref": 7,
    "age": 6,
    "due": 11,
    "seat": 5,
    "title": 60,
    "channel": 13,
    "priority": 8,
    "status": 11,
    "assignee": 8,
}
ESSENTIAL = {"ref", "due", "title", "priority", "status"}


def keys(layout: list[tuple[str, int]]) -> list[str]:
    return [k for k, _ in layout]


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160])
def test_essential_columns_stay_and_the_table_fits(width: int) -> None:
    layout = fit_columns(QUEUE_COLUMNS, width, NATURAL)
    assert set(keys(layout)) >= ESSENTIAL
    assert total_width(layout) <= width
    # Declared order is kept, whatever was dropped.
    order = [c.key for c in QUEUE_COLUMNS]
    assert keys(layout) == sorted(keys(layout), key=order.index)


def test_at_60_the_kept_columns_narrow_for_problem() -> None:
    layout = dict(fit_columns(QUEUE_COLUMNS, 60, NATURAL))
    assert set(layout) == ESSENTIAL
    assert layout["title"] >= 16
    assert layout["due"] == 11  # a countdown is never cut
    assert total_width(list(layout.items())) == 60


def test_at_80_the_least_useful_go_first() -> None:
    layout = dict(fit_columns(QUEUE_COLUMNS, 80, NATURAL))
    assert set(layout) == ESSENTIAL | {"seat"}
    # No filler: Time left is as wide as its widest text, Problem takes the rest.
    assert layout["due"] == 11
    assert total_width(list(layout.items())) == 80
    assert layout["title"] >= 20


def test_at_100_only_age_is_dropped() -> None:
    layout = dict(fit_columns(QUEUE_COLUMNS, 100, NATURAL))
    assert set(layout) == set(NATURAL) - {"age"}
    assert total_width(list(layout.items())) == 100


def test_at_120_every_column_and_more_room_for_problem_than_before() -> None:
    layout = dict(fit_columns(QUEUE_COLUMNS, 120, NATURAL))
    assert set(layout) == set(NATURAL)
    assert layout["title"] > 22  # what the fixed widths left it
    assert layout["channel"] == 11  # capped: a long channel name is cut, not given room


def test_at_160_problem_gets_everything_left() -> None:
    layout = dict(fit_columns(QUEUE_COLUMNS, 160, NATURAL))
    others = sum(w + 2 for k, w in layout.items() if k != "title")
    assert layout["title"] == 160 - 2 - others - 2


def test_a_wider_time_left_is_given_room_not_cut() -> None:
    # Outside working hours a cell reads "▲3 ⏸-42h 53m →Sat 10:00".
    layout = dict(fit_columns(QUEUE_COLUMNS, 80, {**NATURAL, "due": 23}))
    assert layout["due"] == 23


def test_columns_never_go_below_their_minimum_even_when_nothing_fits() -> None:
    layout = dict(fit_columns(QUEUE_COLUMNS, 30, NATURAL))
    specs = {c.key: c for c in QUEUE_COLUMNS if not c.flex}
    assert set(layout) == ESSENTIAL
    assert all(w >= specs[k].min_width for k, w in layout.items() if k in specs)
    assert layout["title"] >= 4


def test_adding_a_column_is_one_spec() -> None:
    # A multi-hall desk's Hall column: one more spec, kept at every width.
    natural = {**NATURAL, "hall": 5}
    wide = keys(fit_columns(ALL_COLUMNS, 160, natural))
    assert wide[:2] == ["ref", "hall"]
    narrow = fit_columns(ALL_COLUMNS, 80, natural)
    assert set(keys(narrow)) == ESSENTIAL | {"hall"}
    assert total_width(narrow) == 80
    # And one that may go: dropped with Age, first, on a narrow terminal; shown on a wide one.
    extra = ColumnSpec("trainer", "field.trainer", 6, 10, drop=1)
    columns = (*QUEUE_COLUMNS, extra)
    assert "trainer" in keys(fit_columns(columns, 160, NATURAL))
    assert "trainer" not in keys(fit_columns(columns, 100, NATURAL))
