"""`classroom-support tickets respond|note|assign|... REF`: every ticket action from scripts,
through the same TicketDesk methods as the keys, with --json, exit codes and one-line errors."""

from __future__ import annotations

import functools
import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import pin_device, set_role
from sync_support import Central

from classroom_support import context
from classroom_support.cli import main
from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.tickets import TicketDesk, TicketDraft, can_verify

RIYADH = ZoneInfo("Asia/Riyadh")
CONFIG = '[ui]\nlanguage = "en"\n[device]\nhall = "A101"\ntechnician = "Sami"\n'


@dataclass
class Desk:
    """The test's own view of the database the commands work on (same file, same clock)."""

    ctx: AppContext
    paths: list[str]
    clock: FixedClock

    def ticket(self, title: str = "Projector dead") -> str:
        return self.ctx.desk.create(TicketDraft(title=title)).ref

    def kinds(self, ref: str) -> list[str]:
        return [e.kind for e in self.ctx.desk.history(self.ctx.desk.get(ref).id)]


@pytest.fixture
def desk(
    make_ctx: Callable[..., AppContext], clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Desk:
    ctx = make_ctx(config=CONFIG, name="desk")
    pin_device(ctx, "K7QD")
    set_role(ctx, "level2", halls="A101")  # a desk that may do every action (docs/roles.md)
    # The commands open their own context on the same files; give it the test's clock.
    monkeypatch.setattr(
        context, "open_context", functools.partial(context.open_context, clock=clock)
    )
    paths = ["--config", str(ctx.paths.config_file), "--db", str(ctx.paths.database)]
    return Desk(ctx=ctx, paths=paths, clock=clock)


def run(capsys: pytest.CaptureFixture[str], desk: Desk, *args: str) -> tuple[int, str, str]:
    code = main([*args, *desk.paths])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], desk: Desk, *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, desk, *args, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    return lines[0]


def breached_and_resolved(desk: Desk) -> str:
    """A ticket that missed its first response long ago and has since been resolved."""
    desk.clock.set(datetime(2026, 11, 1, 10, tzinfo=RIYADH))
    ref = desk.ticket()
    desk.clock.set(datetime(2026, 11, 28, 10, tzinfo=RIYADH))
    desk.ctx.sla.run()
    desk.ctx.desk.resolve(ref, "bulb replaced")
    return ref


# --------------------------------------------------------------------------- happy paths


def test_every_action_in_turn_with_json(capsys: pytest.CaptureFixture[str], desk: Desk) -> None:
    code, out, err = run(capsys, desk, "tickets", "add", "--title", "Projector dead")
    assert code == 0, err
    ref = out.strip()
    steps: list[tuple[list[str], str, dict[str, Any], dict[str, Any]]] = [
        (["respond", ref, "On my way"], "responded", {"message": "On my way"},
         {"status": "in_progress"}),
        (["note", ref.lower(), "cable [b]checked[/b]"], "note", {"text": "cable [b]checked[/b]"},
         {}),
        (["assign", ref, "Level 2 - network"], "assigned", {"assignee": "Level 2 - network"},
         {"assignee": "Level 2 - network"}),
        (["priority", ref, "high"], "priority_set", {"priority": "high"}, {"priority": "high"}),
        (["category", ref, "av"], "category_set", {"category": "av"}, {"category": "av"}),
        (["pause", ref, "--reason", "waiting for trainee"], "paused",
         {"reason": "waiting for trainee"}, {"status": "waiting"}),
        (["resume", ref], "resumed", {}, {"status": "in_progress"}),
        (["resolve", ref, "--summary", "bulb replaced"], "resolved", {"summary": "bulb replaced"},
         {"status": "resolved"}),
        (["verify", ref, "--note", "checked with the trainer"], "verified",
         {"note": "checked with the trainer"}, {"status": "verified", "is_open": False}),
        (["reopen", ref, "--reason", "no picture again"], "reopened",
         {"reason": "no picture again"}, {"status": "in_progress", "is_open": True}),
    ]  # fmt: skip
    for argv, kind, payload, fields in steps:
        data = run_json(capsys, desk, "tickets", *argv)
        # The shape of `tickets show --json`: the ticket's fields and its whole history.
        assert data["ref"] == ref
        assert data["events"][0]["kind"] == "created"
        last = data["events"][-1]
        assert (last["kind"], last["actor"], last["payload"]) == (kind, "Sami", payload), argv
        assert {k: data[k] for k in fields} == fields, argv
        assert last["occurred_at"] == desk.clock.now().isoformat()
    assert run_json(capsys, desk, "tickets", "show", ref) == data
    assert desk.kinds(ref) == ["created", *(kind for _argv, kind, _p, _f in steps)]


def test_human_answer_names_the_change_and_the_status(
    capsys: pytest.CaptureFixture[str], desk: Desk
) -> None:
    ref = desk.ticket()
    code, out, err = run(capsys, desk, "tickets", "pause", ref, "--reason", "waiting")
    assert (code, err) == (0, "")
    assert out == f"{ref}: Paused (waiting for trainee) (now: Waiting for trainee)\n"
    code, out, _ = run(capsys, desk, "tickets", "resume", ref)
    assert (code, out) == (0, f"{ref}: Resumed (now: In progress)\n")


def test_choosing_the_current_priority_records_nothing(
    capsys: pytest.CaptureFixture[str], desk: Desk
) -> None:
    """As with the picker on screen: the same value again is no change."""
    ref = desk.ticket()
    code, out, _ = run(capsys, desk, "tickets", "priority", ref, "normal")
    assert code == 0 and "already normal" in out
    code, out, _ = run(capsys, desk, "tickets", "category", ref, "other")
    assert code == 0 and "nothing recorded" in out
    assert desk.kinds(ref) == ["created"]
    assert run_json(capsys, desk, "tickets", "priority", ref, "normal")["priority"] == "normal"


def test_rca_then_verify_on_a_breached_ticket(
    capsys: pytest.CaptureFixture[str], desk: Desk
) -> None:
    ref = breached_and_resolved(desk)
    refusal = can_verify(desk.ctx.desk.get(ref))
    assert refusal is not None
    code, out, err = run(capsys, desk, "tickets", "verify", ref)
    # Refused with exactly the words the verify key shows.
    assert (code, out, err) == (4, "", f"classroom-support: {refusal}\n")
    assert desk.ctx.desk.get(ref).status == "resolved"

    code, _out, err = run(capsys, desk, "tickets", "rca", ref, "--cause", "staffing")
    assert code == 2 and "What happened is required" in one_line(err)
    code, _out, err = run(capsys, desk, "tickets", "rca", ref, "--cause", "luck", "--what", "w",
                          "--action", "a", "--owner", "o")  # fmt: skip
    assert code == 2 and "'luck' is not one of" in one_line(err)
    data = run_json(
        capsys, desk, "tickets", "rca", ref, "--cause", "staffing",
        "--what", "no technician on Friday", "--action", "a weekend rota",
        "--owner", "Training-body manager",
    )  # fmt: skip
    assert (data["rca_cause"], data["rca_what"], data["rca_owner"]) == (
        "staffing",
        "no technician on Friday",
        "Training-body manager",
    )
    assert run_json(capsys, desk, "tickets", "verify", ref)["status"] == "verified"


# The method each command calls, and the key's screen that calls the same one.
DESK_METHODS = {
    "respond": ("respond", ["On my way"]),
    "note": ("add_note", ["a note"]),
    "assign": ("assign", ["Ahmed"]),
    "priority": ("set_priority", ["high"]),
    "category": ("set_category", ["av"]),
    "pause": ("pause", ["--reason", "w"]),
    "resume": ("resume", []),
    "resolve": ("resolve", []),
    "verify": ("verify", []),
    "reopen": ("reopen", ["--reason", "back"]),
    "rca": ("record_rca", ["--cause", "skills", "--what", "w", "--action", "a", "--owner", "o"]),
}
SETUP: dict[str, Callable[[TicketDesk, str], object]] = {
    "resume": lambda d, ref: d.pause(ref),
    "verify": lambda d, ref: d.resolve(ref),
    "reopen": lambda d, ref: d.resolve(ref),
}


@pytest.mark.parametrize("command", sorted(DESK_METHODS))
def test_each_command_calls_the_method_the_key_calls(
    capsys: pytest.CaptureFixture[str],
    desk: Desk,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    from classroom_support.screens.sla_screens import RcaForm
    from classroom_support.screens.ticket_detail import TicketDetailScreen

    method, extra = DESK_METHODS[command]
    screen = RcaForm if command == "rca" else TicketDetailScreen
    assert f"desk.{method}(" in inspect.getsource(screen)
    ref = breached_and_resolved(desk) if command == "rca" else desk.ticket()
    if command in SETUP:
        SETUP[command](desk.ctx.desk, ref)
    calls: list[str] = []
    real = getattr(TicketDesk, method)

    def spy(self: TicketDesk, *args: Any, **kwargs: Any) -> Any:
        calls.append(method)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(TicketDesk, method, spy)
    code, _out, err = run(capsys, desk, "tickets", command, ref, *extra)
    assert code == 0, err
    assert calls == [method]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["respond", "NOPE-9", "x"], 3, "No ticket 'NOPE-9'"),
        (["show", "NOPE-9"], 3, "No ticket 'NOPE-9'"),
        (["rca", "NOPE-9", "--cause", "skills", "--what", "w", "--action", "a", "--owner", "o"],
         3, "No ticket 'NOPE-9'"),
        (["priority", "{ref}", "asap"], 2, "Priority: 'asap' is not one of: low, normal"),
        (["category", "{ref}", "coffee"], 2, "Category: 'coffee' is not one of"),
        (["note", "{ref}", ""], 2, "Note is required"),
        (["note", "{ref}", "   "], 2, "Note is required"),
        (["note", "{ref}"], 2, "missing: text"),
        (["reopen", "{ref}"], 2, "Reason is required"),
        (["assign", "{ref}", "x" * 201], 2, "Assignee is too long (201 characters"),
        (["resume", "{ref}"], 4, "Cannot resume a ticket that is 'New'"),
        (["verify", "{ref}"], 4, "Cannot verify a ticket that is 'New'"),
        (["reopen", "{ref}", "--reason", "x"], 4, "Cannot reopen a ticket that is 'New'"),
        (["rca", "{ref}", "--cause", "skills", "--what", "w", "--action", "a", "--owner", "o"],
         4, "Only a ticket whose SLA was breached"),
        (["respond"], 2, "tickets respond: missing: ref, message "
         "(see classroom-support tickets respond --help)"),
        (["assign", "{ref}"], 2, "missing: assignee"),
        (["respond", "{ref}", "On", "my", "way"], 2, "not understood: my way (put text with"),
        (["pause", "{ref}", "--reason"], 2, "--reason needs a value"),
        (["pause", "{ref}", "--why", "x"], 2, "not understood: --why x"),
        (["resume", "{ref}", "--lang", "fr"], 2, "--lang: 'fr' is not one of 'ar', 'en'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_an_exit_code(
    capsys: pytest.CaptureFixture[str], desk: Desk, argv: list[str], code: int, message: str
) -> None:
    ref = desk.ticket()
    before = desk.kinds(ref)
    got, out, err = run(capsys, desk, "--lang", "en", "tickets", *(a.format(ref=ref) for a in argv))
    assert (got, out) == (code, "")
    line = one_line(err)
    assert line.startswith("classroom-support: ") and message in line
    assert desk.kinds(ref) == before  # nothing written


def test_text_that_starts_with_a_dash_or_follows_an_option(
    capsys: pytest.CaptureFixture[str], desk: Desk
) -> None:
    ref = desk.ticket()
    data = run_json(capsys, desk, "tickets", "respond", "--json", ref, "--lang", "en", "")
    assert data["events"][-1]["payload"] == {"message": ""}
    assert run_json(capsys, desk, "tickets", "pause", ref, "--reason", "-")["status"] == "waiting"
    # After `--` everything is text, so the options come first.
    assert main([*desk.paths, "tickets", "note", ref, "--json", "--", "-x"]) == 0
    assert json.loads(capsys.readouterr().out)["events"][-1]["payload"] == {"text": "-x"}
    data = run_json(capsys, desk, "tickets", "resolve", ref, "--summary", "-5 V rail replaced")
    assert data["events"][-1]["payload"] == {"summary": "-5 V rail replaced"}
    assert desk.kinds(ref) == ["created", "responded", "paused", "note", "resolved"]


def test_a_hall_desk_is_refused_what_its_role_may_not_do(
    capsys: pytest.CaptureFixture[str], desk: Desk
) -> None:
    """The scripting commands go through the same permission check as the keys."""
    set_role(desk.ctx, "hall", halls="A101")
    ref = desk.ticket()
    assert run(capsys, desk, "tickets", "resolve", ref)[0] == 0
    for argv, reason in (
        (["verify", ref], "Only Level 2 verifies completion"),
        (["reopen", ref, "--reason", "again"], "Only Level 2 reopens a ticket"),
    ):
        code, out, err = run(capsys, desk, "--lang", "en", "tickets", *argv)
        assert (code, out) == (4, "") and reason in one_line(err)
    code, _out, err = run(capsys, desk, "--lang", "ar", "tickets", "verify", ref)
    assert code == 4 and "التحقق من إنجاز العمل للمستوى الثاني فقط" in one_line(err)
    assert desk.kinds(ref) == ["created", "resolved"]


def test_answered_twice_is_refused(capsys: pytest.CaptureFixture[str], desk: Desk) -> None:
    ref = desk.ticket()
    assert run(capsys, desk, "tickets", "respond", ref, "hello")[0] == 0
    code, _out, err = run(capsys, desk, "tickets", "respond", ref, "again")
    assert code == 4 and "already has its first response" in one_line(err)


# --------------------------------------------------------------------------- languages


def test_lang_ar_and_en(capsys: pytest.CaptureFixture[str], desk: Desk) -> None:
    ref = desk.ticket()
    # --lang after the action overrides the config's English, for answers and refusals alike.
    code, out, _ = run(capsys, desk, "tickets", "pause", ref, "--lang", "ar")
    assert (
        code == 0 and out == f"{ref}: إيقاف مؤقت (بانتظار المتدرب) (الحالة الآن: بانتظار المتدرب)\n"
    )
    code, _out, err = run(capsys, desk, "--lang", "ar", "tickets", "pause", ref)
    assert code == 4 and one_line(err) == (
        "classroom-support: لا يمكن إيقاف تذكرة حالتها 'بانتظار المتدرب'"
    )
    code, _out, err = run(capsys, desk, "tickets", "note", ref, "", "--lang", "ar")
    assert code == 2 and one_line(err) == "classroom-support: ملاحظة مطلوب"
    code, _out, err = run(capsys, desk, "--lang", "ar", "tickets", "assign", ref)
    assert code == 2 and "ناقص: assignee" in one_line(err)
    code, _out, err = run(capsys, desk, "--lang", "en", "tickets", "assign", ref)
    assert code == 2 and "missing: assignee" in one_line(err)
    code, out, _ = run(capsys, desk, "--lang", "ar", "tickets", "resume", ref, "--lang", "en")
    assert code == 0 and out == f"{ref}: Resumed (now: In progress)\n"


def test_usage_mistake_speaks_the_configs_language(
    capsys: pytest.CaptureFixture[str], desk: Desk
) -> None:
    desk.ctx.paths.config_file.write_text(CONFIG.replace('"en"', '"ar"'), encoding="utf-8")
    code, _out, err = run(capsys, desk, "tickets", "respond")
    assert code == 2 and "ناقص: ref" in one_line(err)


# --------------------------------------------------------------------------- the real program


def console(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The installed `classroom-support` script, as a shell or cron runs it."""
    script = Path(sys.executable).with_name("classroom-support")
    return subprocess.run(
        [str(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )


def test_console_script_exit_codes_and_no_traceback(desk: Desk, tmp_path: Path) -> None:
    ref = breached_and_resolved(desk)
    home = tmp_path / "home"
    cases = [
        (["--lang", "en", "tickets", "verify", ref], 4, "root-cause analysis"),
        (["--lang", "en", "tickets", "respond", "NOPE-1", "x"], 3, "No ticket 'NOPE-1'"),
        (["--lang", "en", "tickets", "priority", ref, "urgent"], 2, "'urgent' is not one of"),
        (["--lang", "ar", "tickets", "note"], 2, "ناقص: ref"),
    ]
    for argv, code, message in cases:
        done = console(*argv, *desk.paths, home=home)
        assert (done.returncode, done.stdout) == (code, ""), done.stderr
        assert message in one_line(done.stderr)
    done = console("tickets", "note", ref, "from cron", "--json", *desk.paths, home=home)
    assert done.returncode == 0 and done.stderr == ""
    data = json.loads(done.stdout)
    assert data["events"][-1]["payload"] == {"text": "from cron"}


# --------------------------------------------------------------------------- sync


def test_an_action_from_the_command_line_reaches_the_central_server(
    capsys: pytest.CaptureFixture[str],
    make_ctx: Callable[..., AppContext],
    central: Central,
    tmp_path: Path,
) -> None:
    """Written like the TUI's: an event in the outbox that `sync` pushes (real server)."""
    ctx = make_ctx(config=CONFIG, name="synced")
    paths = ["--config", str(ctx.paths.config_file), "--db", str(ctx.paths.database)]
    token = tmp_path / "token"
    token.write_text(central.add_device("A101"), encoding="utf-8")
    assert main(["connect", central.url, "--token-file", str(token), *paths]) == 0
    assert main(["tickets", "add", "--title", "No sound", *paths]) == 0
    ref = capsys.readouterr().out.splitlines()[-1]
    assert main(["tickets", "respond", ref, "On my way", *paths]) == 0
    assert main(["tickets", "priority", ref, "critical", *paths]) == 0
    capsys.readouterr()
    assert main(["sync", "--json", *paths]) == 0
    assert json.loads(capsys.readouterr().out)["pushed"] == 3
    local = {e.id: e.kind for e in ctx.desk.history(ctx.desk.get(ref).id)}
    remote = {e["id"]: e["kind"] for e in central.store.events()}
    assert remote == local
    assert sorted(remote.values()) == ["created", "priority_set", "responded"]
    [ticket] = central.store.tickets("A101")
    assert (ticket.ref, ticket.status, ticket.priority) == (ref, "in_progress", "critical")


# --------------------------------------------------------------------------- edit


def test_edit_changes_the_fields_given_and_keeps_the_old_values(
    capsys: pytest.CaptureFixture[str], desk: Desk
) -> None:
    ref = desk.ctx.desk.create(TicketDraft(title="PC dead", seat="12")).ref
    code, out, err = run(
        capsys, desk, "tickets", "edit", ref, "--seat", "14", "--trainee-name", "Huda"
    )
    assert code == 0, err
    assert out == f"{ref}: Edited (now: New)\n"
    ticket = desk.ctx.desk.get(ref)
    assert (ticket.title, ticket.seat, ticket.trainee_name) == ("PC dead", "14", "Huda")
    last = desk.ctx.desk.history(ticket.id)[-1]
    assert json.loads(last.payload) == {
        "changes": {"seat": {"old": "12", "new": "14"}, "trainee_name": {"old": "", "new": "Huda"}}
    }
    data = run_json(capsys, desk, "tickets", "edit", ref, "--title", "-PC 12 will not boot")
    assert data["title"] == "-PC 12 will not boot"
    # The same values again: nothing recorded, not an error.
    code, out, _ = run(capsys, desk, "tickets", "edit", ref, "--seat", "14")
    assert (code, out) == (0, f"{ref}: nothing changed\n")
    assert desk.kinds(ref) == ["created", "edited", "edited"]
    code, out, _ = run(capsys, desk, "tickets", "show", ref)
    assert "edited" in out and "seat=12→14 trainee_name=→Huda" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        ([], 2, "Nothing to edit: give --title, --seat, --trainee-name or --trainee-contact"),
        (["--title", " "], 2, "Problem is required"),
        (["--seat", "9" * 201], 2, "Seat / PC is too long (201 characters; the limit is 200)"),
    ],
)
def test_edit_refuses_in_one_line(
    capsys: pytest.CaptureFixture[str], desk: Desk, argv: list[str], code: int, message: str
) -> None:
    ref = desk.ticket()
    got, _out, err = run(capsys, desk, "tickets", "edit", ref, *argv)
    assert (got, one_line(err)) == (code, f"classroom-support: {message}")
    assert desk.kinds(ref) == ["created"]
