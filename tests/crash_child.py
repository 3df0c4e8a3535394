"""The child of tests/test_crash.py: logs tickets until it is SIGKILLed. Not a test module.

Usage: python crash_child.py CONFIG_PATH DB_PATH ROUND

Every line is printed and flushed only *after* the call that saved it returned, so each line
is a promise: this ticket (or event) is committed. Lines are pure ASCII (text is JSON-escaped):

    READY <ref_prefix>
    TKT <ref> <ticket_id> <json title>
    EVT <ref> <kind> <json text>
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from classroom_support.context import open_context
from classroom_support.tickets import MAX_TITLE, TicketDraft

# Text that must come back byte-for-byte: RTL script, Rich/Textual markup, a ZWJ emoji
# sequence, terminal escape sequences, bidi controls, LIKE wildcards, quotes and backslashes.
HOSTILE = (
    "جهاز العرض لا يعمل في القاعة",
    "[bold]x[/]",
    "[red]not markup[/red] [link=http://x]y[/link]",
    "technician \U0001f469\u200d\U0001f4bb and family \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J",
    "mixed \u202eevil\u202c العربية 123 \u200f",
    "100% _done_ \\ 'quoted' \"double\" `tick`",
    "e\u0301 combining, \ufeff BOM, \u00a0nbsp, tab\there",
)


def title_for(round_no: int, n: int, rng: random.Random) -> str:
    base = f"#{round_no}.{n} "
    pick = rng.random()
    if pick < 0.15:
        return base + "plain title"
    if pick < 0.20:
        return (base + ("long " + rng.choice(HOSTILE) + " ") * 60)[:MAX_TITLE]  # at the limit
    return base + " | ".join(rng.sample(HOSTILE, rng.randint(1, 3)))


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    config_path, db_path, round_no = Path(argv[1]), Path(argv[2]), int(argv[3])
    rng = random.Random(1000 + round_no)
    ctx = open_context(config_path, db_path)
    emit(f"READY {ctx.desk.device.ref_prefix}")  # device identity exists from here on
    created: list[str] = []
    responded: set[str] = set()
    n = 0
    while True:
        n += 1
        title = title_for(round_no, n, rng)
        ticket = ctx.desk.create(TicketDraft(title=title, seat=f"R{round_no}-S{n % 30}"))
        emit(f"TKT {ticket.ref} {ticket.id} {json.dumps(title)}")
        created.append(ticket.ref)
        # The first ticket always gets an event, later ones now and then.
        if n == 1 or rng.random() < 0.3:
            ref = rng.choice(created)
            if ref not in responded and rng.random() < 0.5:
                text = f"on my way {round_no}.{n} \U0001f6b6 [b]now[/b] قادم"
                ctx.desk.respond(ref, text)
                responded.add(ref)
                emit(f"EVT {ref} responded {json.dumps(text)}")
            else:
                text = f"note {round_no}.{n} \x1b[1mcable\x1b[0m \u200d ملاحظة"
                ctx.desk.add_note(ref, text)
                emit(f"EVT {ref} note {json.dumps(text)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
