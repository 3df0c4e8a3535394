"""The staff directory: kept on the central server (store and CLI, both engines), synced down
read-only to the laptops that may see each person, and matched to the escalation ladder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from postgres_support import ENGINES
from sqlmodel import select
from sync_support import Central, connect, laptop_config, pin

from classroom_support.central.store import CentralStore, NotFound, StoreError
from classroom_support.cli import main
from classroom_support.clock import FixedClock
from classroom_support.config import DEFAULT_LADDER, Config
from classroom_support.context import AppContext
from classroom_support.models import PersonRow
from classroom_support.people import (
    Person,
    PersonError,
    canonical_role,
    check_email,
    local_people,
    matches,
    responsible,
    responsible_text,
)


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


# --------------------------------------------------------------------------- rules (pure)

STAFF = [
    Person("t1", "Sami", "technician", ("A101",)),
    Person("t2", "Yusuf", "technician", ("A102", "B201")),
    Person("c1", "Mona", "L1"),
    Person("l2", "خالد المطيري", "L2"),
    Person("m1", "Huda", "training_body_manager"),
    Person("g1", "Abdulrahman", "general_manager"),
]


def test_each_rung_finds_its_people_by_role() -> None:
    config = Config()
    l1, l2, managers, gm = DEFAULT_LADDER

    def names(step: object, hall: str) -> list[str]:
        return [p.name for p in responsible(step, hall, STAFF, config)]  # type: ignore[arg-type]

    assert names(l1, "A101") == ["Sami", "Mona"]  # the hall's technician first
    assert names(l1, "B201") == ["Yusuf", "Mona"]
    assert names(l2, "A101") == ["خالد المطيري"]
    assert names(managers, "A101") == ["Huda"]
    assert names(gm, "A101") == ["Abdulrahman"]
    # A role nobody holds yet is named by its title, so the rung is never blank.
    assert responsible_text(managers, "A101", STAFF, config, arabic=False) == (
        "Huda, Manager of the administrative body"
    )
    assert responsible_text(managers, "A101", [], config, arabic=True) == (
        "مدير الهيئة التدريبية, مدير الهيئة الإدارية"
    )
    assert responsible_text(l2, "A101", [], config, arabic=False) == "Level 2 - technical support"


def test_roles_emails_and_filtering() -> None:
    config = Config()
    assert canonical_role("l2", config) == "L2"
    assert canonical_role("General-Manager", config) == "general_manager"
    with pytest.raises(PersonError, match="unknown role 'boss'; roles: technician, L1, L2"):
        canonical_role("boss", config)
    assert check_email(" huda@khit.sa ") == "huda@khit.sa"
    for bad in ("huda", "huda@khit", "a b@khit.sa", "x@y.sa, z@w.sa", "<x@y.sa>"):
        with pytest.raises(PersonError, match="is not an e-mail address"):
            check_email(bad)
    khalid = STAFF[3]
    assert matches(khalid, "خالد")
    assert matches(khalid, "المطيرى")  # alef maqsura typed for ya
    assert matches(khalid, "l2")
    assert matches(STAFF[1], "b201 yus")
    assert not matches(STAFF[1], "A101")


# --------------------------------------------------------------------------- central store


def test_store_adds_edits_and_removes_people(central: Central) -> None:
    store = central.store
    head = store.head()
    sami = store.add_person("  Sami   Al-Omari ", "technician", ["A101"], "sami@khit.sa", "AR")
    assert (sami.name, sami.role, sami.halls, sami.lang) == (
        "Sami Al-Omari",
        "technician",
        ("A101",),
        "ar",
    )
    assert store.head() == head + 1  # a change takes a sequence number, like other rows
    huda = store.add_person("Huda", "l2")
    assert [p.name for p in store.people()] == ["Huda", "Sami Al-Omari"]

    moved = store.edit_person(sami.id[:8], halls=["B201"], email="")
    assert (moved.halls, moved.email, moved.name) == (("B201",), "", "Sami Al-Omari")
    assert store.head() == head + 3
    store.edit_person(sami.id, halls=["B201"])  # no change: no new sequence number
    assert store.head() == head + 3

    for call, message in (
        (lambda: store.add_person("X", "boss"), "unknown role 'boss'"),
        (lambda: store.add_person("X", "technician"), "needs at least one hall"),
        (lambda: store.add_person("X", "L2", ["Z9"]), "unknown hall 'Z9'"),
        (lambda: store.add_person("X", "L2", email="x@"), "is not an e-mail address"),
        (lambda: store.add_person("X", "L2", lang="fr"), "unknown language 'fr'"),
        (lambda: store.add_person(" \t", "L2"), "needs a name"),
        (lambda: store.add_person("A\x00B", "L2"), "NUL"),
        (lambda: store.edit_person(huda.id, role="technician"), "needs at least one hall"),
    ):
        with pytest.raises(StoreError, match=message):
            call()
    assert store.head() == head + 3  # nothing refused was written

    store.remove_person(huda.id)
    assert [p.name for p in store.people()] == ["Sami Al-Omari"]
    with pytest.raises(NotFound):
        store.remove_person(huda.id)
    with pytest.raises(NotFound):
        store.edit_person("no-such-person", name="x")
    assert store.integrity_problems() == []


def test_cli_add_list_edit_remove(central_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", central_db_url]

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["central", *args, *db])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run(
        "add-person",
        "--name",
        "هدى الشمري",
        "--role",
        "training_body_manager",
        "--email",
        "huda@khit.sa",
        "--lang",
        "ar",
        "--json",
    )
    assert code == 0
    huda = json.loads(out)
    assert (huda["role"], huda["email"], huda["lang"]) == (
        "training_body_manager",
        "huda@khit.sa",
        "ar",
    )
    assert run("add-person", "--name", "Sami", "--role", "technician", "--hall", "A101")[0] == 0

    for args, message in (
        (("--role", "boss"), "unknown role 'boss'; roles: technician, L1, L2, general_manager"),
        (("--role", "technician"), "a hall technician needs at least one hall (--hall)"),
        (("--role", "L2", "--hall", "Z9"), "unknown hall 'Z9'; halls: A101, A102, B201"),
        (("--role", "L2", "--email", "not mail"), "'not mail' is not an e-mail address"),
        (("--role", "L2", "--lang", "fr"), "unknown language 'fr'; languages: ar, en"),
    ):
        code, out, err = run("add-person", "--name", "X", *args)
        assert (code, out) == (2, "")
        assert err.startswith(f"classroom-support central: {message}")
        assert err.count("\n") == 1  # one line, no traceback

    code, out, _ = run("people")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and "Sami" in lines[0] and "technician" in lines[0]
    assert "هدى الشمري" in lines[1] and "huda@khit.sa" in lines[1]
    code, out, _ = run("people", "--roles", "--json")
    assert json.loads(out) == [
        "technician",
        "L1",
        "L2",
        "general_manager",
        "training_body_manager",
        "administrative_body_manager",
    ]

    code, out, _ = run("edit-person", huda["id"][:8], "--lang", "en", "--json")
    assert code == 0 and json.loads(out)["lang"] == "en"
    # the daily digest flag shows in the list, both ways
    assert run("edit-person", huda["id"][:8], "--no-digest")[0] == 0
    code, out, _ = run("people")
    [sami_line, huda_line] = out.splitlines()
    assert " no-digest " in huda_line and " digest " in sami_line
    code, out, _ = run("people", "--json")
    assert {p["name"]: p["digest"] for p in json.loads(out)} == {"Sami": True, "هدى الشمري": False}
    code, out, err = run("edit-person", huda["id"], "--hall", "A101", "--no-hall")
    assert (code, err) == (2, "classroom-support central: give --hall or --no-hall, not both\n")

    code, out, _ = run("remove-person", huda["id"])
    assert code == 0 and out.startswith(f"removed {huda['id']}")
    code, out, err = run("remove-person", huda["id"])
    assert code == 1 and "no person" in err and "Traceback" not in err
    code, out, _ = run("people", "--json")
    assert [p["name"] for p in json.loads(out)] == ["Sami"]


# --------------------------------------------------------------------------- sync down


def directory(ctx: AppContext) -> dict[str, tuple[str, str, str, str]]:
    with ctx.db.read() as s:
        return {r.name: (r.role, r.halls, r.email, r.lang) for r in s.exec(select(PersonRow)).all()}


def test_directory_reaches_the_laptops_that_may_see_it(
    central: Central, make_ctx: Callable[..., AppContext]
) -> None:
    store = central.store
    sami = store.add_person("Sami", "technician", ["A101"], "sami@khit.sa", "ar")
    store.add_person("Yusuf Karim", "technician", ["B201"], "yusuf@khit.sa", "en")
    khalid = store.add_person("خالد المطيري", "L2", [], "khalid@khit.sa", "ar")
    store.add_person("Huda", "training_body_manager", [], "huda@khit.sa")

    a101 = make_ctx(config=laptop_config("A101"), name="a101")
    pin(a101, "00000000-0000-4000-8000-00000000a101", "LAPA")
    token_a = central.add_device("A101")
    client_a = connect(a101, central.url, token_a)
    b201 = make_ctx(config=laptop_config("B201"), name="b201")
    pin(b201, "00000000-0000-4000-8000-00000000b201", "LAPB")
    client_b = connect(b201, central.url, central.add_device("B201"))
    assert client_a.sync().outcome == "ok"
    assert client_b.sync().outcome == "ok"

    # Names, roles and halls; no e-mail or language on a hall laptop; another hall's
    # technician not at all.
    assert directory(a101) == {
        "Sami": ("technician", "A101", "", ""),
        "خالد المطيري": ("L2", "", "", ""),
        "Huda": ("training_body_manager", "", "", ""),
    }
    assert set(directory(b201)) == {"Yusuf Karim", "خالد المطيري", "Huda"}
    # On the wire too: the page for A101 never carries B201's technician or anyone's e-mail.
    with httpx.Client(base_url=central.url, timeout=5.0) as http:
        page = http.get(
            "/api/v1/sync/pull",
            params={"since": 0},
            headers={"Authorization": f"Bearer {token_a}"},
        ).text
    assert "Yusuf" not in page and "@khit.sa" not in page
    assert [p.name for p in local_people(a101.db)] == ["Huda", "Sami", "خالد المطيري"]

    # Moved to B201: gone from A101 and on B201; removed: gone everywhere; renamed: renamed.
    store.edit_person(sami.id, halls=["B201"])
    store.remove_person(khalid.id)
    assert client_a.sync().outcome == "ok" and client_b.sync().outcome == "ok"
    assert set(directory(a101)) == {"Huda"}
    assert set(directory(b201)) == {"Sami", "Yusuf Karim", "Huda"}
    store.edit_person(sami.id, name="Sami Al-Omari")
    assert client_b.sync().outcome == "ok"
    assert set(directory(b201)) == {"Sami Al-Omari", "Yusuf Karim", "Huda"}
    assert client_a.sync().rows_pulled == 1  # a bare tombstone: nothing to drop, no name


def test_pull_pages_carry_people_in_sequence_order(
    central_db_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    """People share the pull's page limit and cursor with the other rows."""
    store = CentralStore.open(central_db_url, Config(), clock)
    try:
        device, _token = store.add_device("laptop", ["A101"])
        for n in range(5):
            store.add_person(f"Person {n}", "L2")
        seen: list[str] = []
        cursor = 0
        while True:
            page = store.pull(device, cursor, 2)
            seen += [p["name"] for p in page["people"]]
            cursor = page["cursor"]
            if not page["has_more"]:
                break
        assert seen == [f"Person {n}" for n in range(5)]
    finally:
        store.close()


def test_contact_details_reach_only_the_desks_that_write_to_people(
    central: Central, make_ctx: Callable[..., AppContext]
) -> None:
    store = central.store
    store.add_person("Sami", "technician", ["A101"], "sami@khit.sa", "ar")
    store.add_person("Yusuf Karim", "technician", ["B201"], "yusuf@khit.sa", "en")
    store.add_person("Huda", "general_manager", [], "huda@khit.sa", "ar")

    desks: list[str] = []

    def desk(name: str, role: str, halls: tuple[str, ...], all_halls: bool = False) -> AppContext:
        desks.append(name)
        ctx = make_ctx(config=laptop_config(halls[0] if halls else "A101"), name=name)
        pin(ctx, f"00000000-0000-4000-8000-{len(desks):012d}", name[:4].upper())
        _device, token = store.add_device(name, halls, role=role, all_halls=all_halls)
        assert connect(ctx, central.url, token).sync().outcome == "ok"
        return ctx

    manager = desk("mgrs", "manager", (), all_halls=True)
    level2 = desk("lev2", "level2", (), all_halls=True)
    contact = desk("call", "contact-centre", ("A101",))
    assert directory(manager) == {
        "Sami": ("technician", "A101", "sami@khit.sa", "ar"),
        "Yusuf Karim": ("technician", "B201", "yusuf@khit.sa", "en"),
        "Huda": ("general_manager", "", "huda@khit.sa", "ar"),
    }
    assert directory(level2) == {  # every hall's people, but no contact details
        "Sami": ("technician", "A101", "", ""),
        "Yusuf Karim": ("technician", "B201", "", ""),
        "Huda": ("general_manager", "", "", ""),
    }
    assert directory(contact) == {  # contact details, within its scope
        "Sami": ("technician", "A101", "sami@khit.sa", "ar"),
        "Huda": ("general_manager", "", "huda@khit.sa", "ar"),
    }
