"""Reports from the store, for the screens and the command line (headless)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from classroom_support.context import AppContext

BREACH_COLUMNS = (
    "ref",
    "hall",
    "title",
    "priority",
    "channel",
    "status",
    "clocks",
    "due_local",
    "escalation_level",
    "rca_recorded",
    "rca_cause",
    "rca_what",
    "rca_action",
    "rca_owner",
    "rca_at_local",
)


def breach_rows(ctx: AppContext) -> list[dict[str, Any]]:
    """Every ticket that missed an SLA clock, with its RCA status (ledger order: oldest first)."""
    zone = ctx.config.zone
    now = ctx.clock.now()
    rows = []
    for t in ctx.desk.breaches():
        clocks = [c for c in ("first_response", "resolution") if c in t.breached.split(",")]
        status = ctx.sla.clocks(t, now)
        first = status.first_response if "first_response" in clocks else status.resolution
        rows.append(
            {
                "ref": t.ref,
                "hall": t.hall_code,
                "title": t.title,
                "priority": t.priority,
                "channel": t.channel,
                "status": t.status,
                "clocks": clocks,
                "due_local": first.due.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                if first.due
                else "",
                "escalation_level": t.escalation_level,
                "rca_recorded": t.rca_at is not None,
                "rca_cause": t.rca_cause,
                "rca_what": t.rca_what,
                "rca_action": t.rca_action,
                "rca_owner": t.rca_owner,
                "rca_at_local": t.rca_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                if t.rca_at
                else "",
            }
        )
    return rows


def _csv_safe(value: Any) -> str:
    # Spreadsheets run cells that start with = + - @ as formulas; trainee text must stay text.
    text = " + ".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_breach_csv(ctx: AppContext, path: Path) -> int:
    rows = breach_rows(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:  # BOM: Excel reads Arabic
        writer = csv.writer(handle)
        writer.writerow(BREACH_COLUMNS)
        for row in rows:
            writer.writerow([_csv_safe(row[c]) for c in BREACH_COLUMNS])
    return len(rows)
