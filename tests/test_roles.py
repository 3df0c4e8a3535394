"""Device roles and hall scope: registered with `central add-device`, handed down by hello and
pull against a real central server, kept on the laptop and shown in the header."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from postgres_support import ENGINES
from sync_support import Central, connect, laptop_config, pin

from classroom_support.central import models as m
from classroom_support.central.store import CentralStore, StoreError
from classroom_support.cli import main
from classroom_support.clock import FixedClock
from classroom_support.config import load_config
from classroom_support.context import AppContext
from classroom_support.models import SyncState
from classroom_support.permissions import DeviceScope, scope_label
from classroom_support.tickets import TicketDraft

THREE_HALLS = """
[[halls]]
code = "A101"
name = "Hall A101"
[[halls]]
code = "B201"
name = "Hall B201"
[[halls]]
code = "C301"
name = "Hall C301"
"""


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_device_takes_a_role_and_halls_or_all_halls(
    capsys: pytest.CaptureFixture[str], central_db_url: str
) -> None:
    db = central_db_url
    code, out, err = run(capsys, "central", "add-device", "--db", db, "--role", "contact-centre",
                         "--all-halls", "--name", "Contact centre PC", "--json")  # fmt: skip
    assert code == 0, err
    made = json.loads(out)
    assert (made["role"], made["all_halls"], made["halls"]) == ("contact-centre", True, [])
    code, out, err = run(capsys, "central", "add-device", "--db", db, "--role", "level2",
                         "--hall", "A101", "--hall", "B201")  # fmt: skip
    assert code == 0, err
    assert "level2, halls A101, B201" in out
    code, out, _ = run(capsys, "central", "add-device", "--db", db, "--hall", "A101")
    assert code == 0 and "hall, halls A101" in out  # the role defaults to hall

    code, out, _ = run(capsys, "central", "devices", "--db", db, "--json")
    listed = {d["name"]: d for d in json.loads(out)}
    assert listed["Contact centre PC"]["role"] == "contact-centre"
    assert listed["Contact centre PC"]["all_halls"] is True
    level2 = next(d for d in listed.values() if d["role"] == "level2")
    assert (level2["halls"], level2["all_halls"]) == (["A101", "B201"], False)
    code, out, _ = run(capsys, "central", "devices", "--db", db)
    assert "contact-centre" in out and "all halls" in out

    # Refused in one line each, nothing registered.
    code, _out, err = run(capsys, "central", "add-device", "--db", db, "--role", "boss",
                          "--hall", "A101")  # fmt: skip
    assert code == 2 and "invalid choice: 'boss'" in err
    code, _out, err = run(capsys, "central", "add-device", "--db", db, "--all-halls",
                          "--hall", "A101")  # fmt: skip
    assert code == 2 and "not allowed with argument" in err
    code, _out, err = run(capsys, "central", "add-device", "--db", db, "--role", "manager")
    assert code == 2 and "--hall" in err and "--all-halls" in err
    code, out, _ = run(capsys, "central", "devices", "--db", db, "--json")
    assert len(json.loads(out)) == 3


def test_the_store_refuses_a_scope_it_cannot_serve(central: Central) -> None:
    with pytest.raises(StoreError, match="unknown role"):
        central.store.add_device("x", ["A101"], role="admin")
    with pytest.raises(StoreError, match="either halls or all halls"):
        central.store.add_device("x", ["A101"], all_halls=True)
    with pytest.raises(StoreError, match="at least one hall"):
        central.store.add_device("x", [])


def desk(make_ctx: Callable[..., AppContext], central: Central, n: int, prefix: str) -> AppContext:
    ctx = make_ctx(config=laptop_config("A101"), name=f"desk{n}")
    pin(ctx, f"00000000-0000-4000-8000-{n:012d}", prefix)
    return ctx


def scope_of(ctx: AppContext) -> tuple[str, str, bool]:
    with ctx.db.read() as s:
        state = s.get(SyncState, 1)
        assert state is not None
        return state.role, state.halls, state.all_halls


def test_role_and_scope_come_down_with_hello_and_pull(
    make_ctx: Callable[..., AppContext], central: Central
) -> None:
    a101 = central.store.create_ticket(TicketDraft(title="A101 projector", hall_code="A101"))
    b201 = central.store.create_ticket(TicketDraft(title="B201 login", hall_code="B201"))
    _d, cc_token = central.store.add_device("contact centre", [], role="contact-centre",
                                            all_halls=True)  # fmt: skip
    _d, l2_token = central.store.add_device("level 2", ["B201"], role="level2")

    cc = desk(make_ctx, central, 1, "CCCC")
    cc_client = connect(cc, central.url, cc_token)
    assert cc.desk.scope() == DeviceScope()  # before any sync: a hall desk, as today
    assert cc_client.sync().outcome == "ok"
    assert scope_of(cc) == ("contact-centre", "", True)
    assert {cc.desk.get(a101.ref).id, cc.desk.get(b201.ref).id} == {a101.id, b201.id}
    assert cc_client.status().role == "contact-centre"

    l2 = desk(make_ctx, central, 2, "LTWO")
    l2_client = connect(l2, central.url, l2_token)
    assert l2_client.sync().outcome == "ok"
    assert scope_of(l2) == ("level2", "B201", False)
    assert l2.desk.get(b201.ref).title == "B201 login"
    assert l2.desk.count_open() == 1  # A101's ticket is outside its scope

    # A scope changed centrally arrives with the next pull, without a new hello.
    with central.store.write() as conn:
        level2 = m.devices.c.role == "level2"
        conn.execute(m.devices.update().values(halls="A101,B201").where(level2))
    assert l2_client.sync().outcome == "ok"
    assert scope_of(l2) == ("level2", "A101,B201", False)


def test_all_halls_includes_halls_added_later(
    make_ctx: Callable[..., AppContext],
    central: Central,
    central_db_url: str,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    _d, token = central.store.add_device("managers", [], role="manager", all_halls=True)
    ctx = desk(make_ctx, central, 3, "MGRS")
    client = connect(ctx, central.url, token)
    assert client.sync().outcome == "ok"
    # The institute opens hall C301: the same central database under a config that has it.
    config_file = tmp_path / "three-halls.toml"
    config_file.write_text(THREE_HALLS, encoding="utf-8")
    later = CentralStore.open(central_db_url, load_config(config_file), clock)
    try:
        c301 = later.create_ticket(TicketDraft(title="C301 no network", hall_code="C301"))
    finally:
        later.close()
    assert client.sync().outcome == "ok"
    assert ctx.desk.get(c301.ref).hall_code == "C301"


def test_scope_labels_in_both_languages() -> None:
    from classroom_support import i18n

    i18n.set_language("en")
    centre = DeviceScope("contact-centre", (), True, True)
    assert scope_label(centre) == "Contact centre · all halls"
    assert scope_label(DeviceScope("hall", ("A101",), False, True)) == "Hall A101"
    assert scope_label(DeviceScope("level2", ("A101", "B201"), False, True)) == (
        "Level 2 · A101, B201"
    )
    assert scope_label(DeviceScope("manager", ("A", "B", "C", "D"), False, True)) == (
        "Manager · 4 halls"
    )
    i18n.set_language("ar")
    assert scope_label(centre) == "مركز الاتصال · كل القاعات"
    assert scope_label(DeviceScope("level2", ("A101",), False, True)) == "المستوى الثاني · A101"


async def test_the_header_names_the_role_and_scope(make_app: Callable[..., object]) -> None:
    from textual.widgets import Static

    from classroom_support.app import ClassroomSupportApp
    from classroom_support.widgets import HallHeader

    app = make_app()
    assert isinstance(app, ClassroomSupportApp)
    async with app.run_test(size=(80, 24)) as pilot:
        text = str(app.screen.query_one("#header-hall", Static).render())
        assert "A101" in text and "·" in text  # a laptop never synced: its hall, as before
        with app.ctx.db.write() as s:
            s.merge(SyncState(id=1, role="contact-centre", all_halls=True))
        app._sync_status = (0.0, None)  # read the status afresh on the next tick
        app.screen.query_one(HallHeader).refresh_header()
        await pilot.pause()
        text = str(app.screen.query_one("#header-hall", Static).render())
        assert "Contact centre · all halls" in text
