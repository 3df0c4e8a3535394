"""The logical↔visual map of an edited line: checked against a full bidi implementation."""

from __future__ import annotations

import pytest
from bidi import get_display
from hypothesis import given, settings
from hypothesis import strategies as st

from classroom_support.bidi_map import (
    clusters,
    embedding_levels,
    first_strong_is_rtl,
    visual_line,
    visual_order,
)

ARABIC = "ابجدهوزلأإآةى"
# Letters of both directions, European and Arabic-Indic digits, the punctuation typed in tickets,
# brackets, directional marks and harakat.
MIXED = st.text(
    alphabet=st.sampled_from(
        [*ARABIC, *"abcXY0123٠١٢۱ .,:-+/%$#()[]{}!", "\u200e", "\u200f", "\u064e"]
    ),
    max_size=16,
)
TYPED = st.text(
    alphabet=st.sampled_from([*ARABIC, *"abcXY0123٠١ .:-()", "\u064e", "\u200d", "😀"]),
    max_size=16,
)


@settings(max_examples=400)
@given(text=MIXED, rtl=st.booleans())
def test_order_matches_the_full_algorithm(text: str, rtl: bool) -> None:
    # python-bidi's Rust binding (unicode-bidi) implements all of UAX #9 but mirrors nothing.
    mine = "".join(text[i] for i in visual_order(embedding_levels(text, rtl)))
    assert mine == get_display(text, base_dir="R" if rtl else "L")


@settings(max_examples=300)
@given(text=TYPED, rtl=st.booleans())
def test_every_character_is_in_exactly_one_cell(text: str, rtl: bool) -> None:
    line = visual_line(text, rtl=rtl)
    covered = sorted(i for cell in line.cells for i in range(cell.start, cell.end))
    assert covered == list(range(len(text)))
    assert [cell.is_end for cell in line.cells].count(True) == 1


@settings(max_examples=300)
@given(text=TYPED, rtl=st.booleans())
def test_slots_and_positions_round_trip(text: str, rtl: bool) -> None:
    line = visual_line(text, rtl=rtl)
    for slot in range(len(line.cells)):
        assert line.slot_of(line.position_of(slot)) == slot
    # Inside a cluster or a lam-alef ligature the cursor is drawn on that one cell.
    starts = {cell.start for cell in line.cells}
    assert starts >= {len(text)} and starts <= {start for start, _ in clusters(text)} | {len(text)}
    for position in range(len(text) + 1):
        back = line.position_of(line.slot_of(position))
        assert back == position if position in starts else back < position


@settings(max_examples=200)
@given(text=TYPED, rtl=st.booleans())
def test_right_from_the_left_edge_visits_every_slot_once(text: str, rtl: bool) -> None:
    line = visual_line(text, rtl=rtl)
    position, seen = line.position_of(0), []
    for _ in line.cells:
        seen.append(line.slot_of(position))
        position = line.moved(position, 1)
    assert seen == list(range(len(line.cells)))


def test_arabic_with_a_room_and_a_number_reads_from_the_right() -> None:
    line = visual_line("جهاز العرض لا يعمل A101 2", rtl=True)
    assert line.text == "A101 2 ﻞﻤﻌﻳ ﻻ ﺽﺮﻌﻟﺍ ﺯﺎﻬﺟ"
    # Typed last, "2" has the end cell right after it.
    assert [cell.text for cell in line.cells[5:8]] == ["2", " ", " "]
    assert line.cells[6].is_end


def test_brackets_pair_and_mirror() -> None:
    assert visual_line("القاعة (A101) جاهزة", rtl=True).text == "ﺓﺰﻫﺎﺟ (A101) ﺔﻋﺎﻘﻟﺍ"
    # N0: the brackets around English in an Arabic line stay with it.
    assert visual_line("Excel (PC 3) جهاز", rtl=True).text == "ﺯﺎﻬﺟ Excel (PC 3)"
    assert visual_line("(مطلوب)", rtl=True).text == "(ﺏﻮﻠﻄﻣ)"


def test_lam_alef_is_one_cell_for_two_characters() -> None:
    line = visual_line("لا", rtl=True)
    assert [(c.text, c.start, c.end) for c in line.cells] == [(" ", 2, 2), ("ﻻ", 0, 2)]
    joined = visual_line("علا", rtl=True)
    assert joined.text == "ﻼﻋ"


def test_marks_stay_on_their_letter() -> None:
    line = visual_line("بَب", rtl=True)
    assert [(c.text, c.start, c.end) for c in line.cells] == [
        (" ", 3, 3),
        ("ﺐ", 2, 3),
        ("ﺑَ", 0, 2),
    ]
    assert visual_line("\u064e", rtl=True).cells[-1].text == "◌\u064e"


def test_unshaped_keeps_letters_as_typed() -> None:
    assert visual_line("جهاز", rtl=True, shape=False).text == "زاهج"


@pytest.mark.parametrize(
    ("text", "rtl"),
    [("", None), ("123 +", None), ("abc جهاز", False), ("جهاز abc", True), ("  A", False)],
)
def test_first_strong_character_sets_the_direction(text: str, rtl: bool | None) -> None:
    assert first_strong_is_rtl(text) is rtl


def test_a_latin_line_is_shown_as_typed() -> None:
    line = visual_line("http://x.y/ 10:00")
    assert line.text == "http://x.y/ 10:00"
    assert line.cells[-1].is_end
