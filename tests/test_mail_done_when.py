"""Issue 10's "Done when", at process level: a real `central serve` under libfaketime whose
clock the test moves by rewriting a timestamp file, the staff directory and the ticket made
with the CLI, the mails received by an SMTP server in this process (aiosmtpd).

The instants come from the project's own calendar code (the hall's business calendar, the SLA
policy, the escalation ladder); the clock is frozen at each step (a plain timestamp in the
file), so every mail's outbox row carries the step at which it was queued. Waits are bounded
polls; nothing is timed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from central_process import CentralProcess
from postgres_support import ENGINES
from smtp_support import SmtpServer
from sqlalchemy import select

from classroom_support.central import models as m
from classroom_support.central.store import CentralStore
from classroom_support.config import load_config
from classroom_support.sla_policy import rung_deadlines, sla_event_id

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
WAIT_S = 120.0  # a bound for a busy machine, not a speed claim
STEP = timedelta(minutes=1)
STATUS = "https://support.khit.sa/status/"

pytestmark = pytest.mark.skipif(
    not LIBFAKETIME.exists() or shutil.which("faketime") is None,
    reason="libfaketime is not installed (apt-get install faketime)",
)


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass(frozen=True)
class Expected:
    at: datetime  # the instant from which the mail is due
    cause: str
    recipients: frozenset[str]


class FakeClock:
    """The server's wall clock: libfaketime reads the file at every call (no cache); the
    monotonic clock stays real so asyncio's and the sender's timers keep running."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "faketime"
        self.now = datetime(2000, 1, 1, tzinfo=UTC)

    def set(self, when: datetime) -> None:
        self.now = when.astimezone(UTC)
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(self.now.strftime("%Y-%m-%d %H:%M:%S") + "\n")  # frozen, UTC (TZ=UTC)
        tmp.replace(self.file)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LD_PRELOAD": str(LIBFAKETIME),
            "FAKETIME_TIMESTAMP_FILE": str(self.file),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "TZ": "UTC",
            "PYTHONUTF8": "1",
        }


def wait_for(condition: Callable[[], bool], what: Callable[[], str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what()}")
        time.sleep(0.1)


def test_an_unanswered_ticket_under_a_moved_server_clock(
    central_db_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config_path = tmp_path / "central.toml"
    config_path.write_text(
        '[central]\nurl = "https://support.khit.sa"\n'
        f'[mail]\nsmtp = "{smtp_server.url}"\ntimeout = 5\n',
        encoding="utf-8",
    )
    config = load_config(config_path)
    store = CentralStore.open(central_db_url, config)  # the same database, to read it
    clock = FakeClock(tmp_path)
    cal = store.calendar("A101")
    opening = cal.next_opening(datetime(2026, 11, 29, 3, 0, tzinfo=UTC))
    assert opening is not None
    created = opening + timedelta(minutes=30)
    clock.set(created)

    def cli(*args: str) -> str:
        argv = [sys.executable, "-m", "classroom_support.cli", "central", *args]
        argv += ["--db", central_db_url, "--config", str(config_path)]
        done = subprocess.run(argv, env=clock.env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    people = {
        "tech@khit.sa": ("Sami the technician", "technician", "en"),
        "centre@khit.sa": ("Huda at the contact centre", "L1", "ar"),
        "l2@khit.sa": ("Omar of Level 2", "L2", "en"),
        "training@khit.sa": ("Training manager", "training_body_manager", ""),
        "admin@khit.sa": ("Admin manager", "administrative_body_manager", "en"),
        "gm@khit.sa": ("General manager", "general_manager", "en"),
    }
    person_id = {}
    for address, (name, role, lang) in people.items():
        halls = ["--hall", "A101"] if role == "technician" else []
        out = cli("add-person", "--name", name, "--role", role, *halls, "--email", address,
                  "--lang", lang, "--json")  # fmt: skip
        person_id[address] = json.loads(out)["id"]
    rung_people = {
        0: {"tech@khit.sa", "centre@khit.sa"},
        1: {"l2@khit.sa"},
        2: {"training@khit.sa", "admin@khit.sa"},
        3: {"gm@khit.sa"},
    }
    digest_people = {"training@khit.sa", "admin@khit.sa", "gm@khit.sa"}

    server = CentralProcess(
        central_db_url,
        tmp_path / "central.log",
        config=config_path,
        extra=["--sla-interval", "0.2", "--mail-interval", "0.2"],
        env=clock.env(),
    )
    try:
        server.start()
        ticket = json.loads(
            cli(
                "add-ticket",
                "--hall",
                "A101",
                "--title",
                "Projector has no signal",
                "--caller-number",
                "0501234567",
                "--json",
            )
        )
        tid, ref = ticket["id"], ticket["ref"]
        with store.read() as conn:
            row = conn.execute(select(m.tickets).where(m.tickets.c.id == tid)).one()
        assert row.created_at == created  # the CLI ran on the moved clock too

        # The instants, from the project's calendar and policy
        policy, ladder = store.policy, store.config.escalation

        def warn_at(target: timedelta) -> datetime:
            threshold = min(target * policy.warning_fraction, target - policy.warning_left)
            return cal.add(created, max(threshold, timedelta(0)))

        first = policy.target("first_response", row.priority, row.channel)
        resolution = policy.target("resolution", row.priority, row.channel)
        climbs = rung_deadlines(cal, ladder, cal.add(created, first))  # to L2, managers, GM
        rca_at = cal.add(climbs[0], timedelta(hours=config.mail.rca_after_hours))
        timeline = [
            Expected(
                warn_at(first),
                sla_event_id(tid, "first_response", "warning"),
                frozenset(rung_people[0]),
            ),
            *(
                Expected(
                    at, sla_event_id(tid, f"L{level}", "escalated"), frozenset(rung_people[level])
                )
                for level, at in enumerate(climbs, start=1)
            ),
            Expected(rca_at, f"rca/{tid}", frozenset(rung_people[2])),
        ]

        def rung_at(at: datetime) -> int:
            return sum(1 for c in climbs if c <= at)

        for at, key in (
            (warn_at(resolution), "warning"),
            (cal.add(created, resolution), "breached"),
        ):
            timeline.append(  # the resolution clock, told to whichever rung holds it then
                Expected(
                    at, sla_event_id(tid, "resolution", key), frozenset(rung_people[rung_at(at)])
                )
            )
        steps: list[datetime] = []
        for at in sorted({timeline[0].at, *climbs}):
            steps += [at - STEP, at + STEP]
        next_day = (climbs[-1].astimezone(config.zone) + timedelta(days=1)).date()
        midnight = datetime(next_day.year, next_day.month, next_day.day, tzinfo=config.zone)
        digest_time = midnight + timedelta(minutes=config.mail.digest_minute)
        steps += [digest_time - STEP, digest_time + STEP]

        def expected(upto: datetime, stepped: list[datetime]) -> dict[str, set[str]]:
            out = {e.cause: set(e.recipients) for e in timeline if e.at <= upto}
            for when in stepped:  # each day a step reaches after 09:30: that day's digest
                local = when.astimezone(config.zone)
                if local.hour * 60 + local.minute >= config.mail.digest_minute:
                    for who in digest_people:
                        out[f"digest/{local.date().isoformat()}/{person_id[who]}"] = {who}
            return out

        def received() -> dict[str, set[str]]:
            with store.read() as conn:
                causes = dict(
                    conn.execute(select(m.mail_outbox.c.message_id, m.mail_outbox.c.cause)).all()
                )
            got: dict[str, set[str]] = {}
            for r in smtp_server.messages():
                got.setdefault(causes.get(str(r.message["Message-ID"]), "?"), set()).update(
                    r.recipients
                )
            return got

        def within(got: dict[str, set[str]], want: dict[str, set[str]]) -> bool:
            return all(cause in want and who <= want[cause] for cause, who in got.items())

        def server_time() -> str:
            return str(httpx.get(f"{server.url}/api/v1/health").headers["X-Server-Time"])

        stepped: list[datetime] = [created]
        for when in steps:
            clock.set(when)
            stepped.append(when)
            want = expected(when, stepped)
            shown = when.astimezone(UTC).isoformat(timespec="milliseconds")
            wait_for(lambda: server_time() == shown, lambda: "the server to read the clock")  # noqa: B023
            wait_for(
                lambda: received() == want or not within(received(), want),  # noqa: B023
                lambda: f"{want} at {when}, have {received()}",  # noqa: B023
            )
            assert received() == want, when

        # exactly once each: one message per cause and recipient
        pairs = [
            (str(r.message["Message-ID"]), a) for r in smtp_server.messages() for a in r.recipients
        ]
        assert len(pairs) == len(set(pairs))
        # each queued at the first step at or after its instant, never before
        with store.read() as conn:
            queued_at = dict(
                conn.execute(select(m.mail_outbox.c.cause, m.mail_outbox.c.created_at)).all()
            )
        for e in timeline:
            if e.cause in queued_at:
                assert queued_at[e.cause] == min(s for s in stepped if s >= e.at), e

        with store.read() as conn:
            cause_of = dict(
                conn.execute(select(m.mail_outbox.c.message_id, m.mail_outbox.c.cause)).all()
            )

        def mail(cause: str, address: str) -> str:
            [msg] = [
                r
                for r in smtp_server.to(address)
                if cause_of[str(r.message["Message-ID"])] == cause
            ]
            return msg.subject + "\n" + msg.text()

        warning = mail(timeline[0].cause, "tech@khit.sa")
        assert warning.startswith(f"[{ref}] A101 · SLA warning (first response)")
        l2 = mail(timeline[1].cause, "l2@khit.sa")
        assert l2.startswith(f"[{ref}] A101 · SLA breached") and "Late by" in l2
        assert STATUS + tid in l2
        assert "Escalated" in mail(timeline[2].cause, "admin@khit.sa")
        both = mail(timeline[2].cause, "training@khit.sa")  # no language: Arabic, then English
        assert both.index("تصعيد") < both.index("Escalated")
        assert "Escalated" in mail(timeline[3].cause, "gm@khit.sa")
        digest = mail(f"digest/{next_day.isoformat()}/{person_id['gm@khit.sa']}", "gm@khit.sa")
        assert ref in digest and "Projector has no signal" in digest

        assert server.server_errors() == []
    finally:
        server.stop()
        store.close()
    pending = json.loads(cli("mail-queue", "--json"))
    assert pending == []
