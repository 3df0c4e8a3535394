"""Every screen and dialog in Arabic at 120×36 (80×24 is in tests/test_snapshots_80x24.py):
the screen laid out from the right, tables with Ref at the right, labels right of their fields.

SVG viewers re-apply bidi to Arabic text, so a picture can look scrambled when the screen is
right; what the screen holds is asserted in tests/test_rtl_layout.py and tests/test_bidi_runs.py.
Update only after looking at each picture: `--snapshot-report`, then `--snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import set_role
from test_kb_tui import add_articles, starter
from test_snapshots_80x24 import CASES

SIZE = (120, 36)


@pytest.mark.parametrize("case", list(CASES))
def test_arabic_at_120x36(snap_compare: Any, make_app: Callable[..., Any], case: str) -> None:
    data, keys = CASES[case]
    app = make_app(language="ar", demo=data.startswith("demo"))
    if data == "kb":
        add_articles(app.ctx, starter())
    if data.endswith("+level2"):
        set_role(app.ctx, "level2")
    assert snap_compare(app, terminal_size=SIZE, press=keys)
