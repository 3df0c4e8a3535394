"""`records.record` / `frozen_record` behave as the dataclasses they replace (each checked
against a dataclass twin), and the app's records are built from them."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classroom_support import records
from classroom_support.config import Config
from classroom_support.config_mail import MailConfig, MailServer
from classroom_support.records import FrozenInstanceError, field, frozen_record, record


def _shared() -> list[int]:
    return [1]


@frozen_record
class Frozen:
    kind: ClassVar[str] = "frozen"  # not a field
    name: str
    count: int = 3
    tags: list[int] = field(default_factory=_shared)
    secret: str = field(default="", repr=False)


@dataclasses.dataclass(frozen=True)
class FrozenTwin:
    kind: ClassVar[str] = "frozen"
    name: str
    count: int = 3
    tags: list[int] = dataclasses.field(default_factory=_shared)
    secret: str = dataclasses.field(default="", repr=False)


@record
class Mutable:
    zone: str
    items: tuple[int, ...] = ()
    _cache: list[int] = field(default_factory=list, init=False, repr=False)
    _size: int = field(default=0, init=False, repr=False)


@dataclasses.dataclass
class MutableTwin:
    zone: str
    items: tuple[int, ...] = ()
    _cache: list[int] = dataclasses.field(default_factory=list, init=False, repr=False)
    _size: int = dataclasses.field(default=0, init=False, repr=False)


def _same(ours: object, twin: object) -> None:
    assert repr(ours).replace(type(ours).__qualname__, "X") == repr(twin).replace(
        type(twin).__qualname__, "X"
    )
    names = [f.name for f in dataclasses.fields(twin)]  # type: ignore[arg-type]
    assert [getattr(ours, n) for n in names] == [getattr(twin, n) for n in names]


calls = st.one_of(
    st.tuples(st.text(max_size=5)).map(lambda a: (a, {})),
    st.tuples(st.text(max_size=5), st.integers()).map(lambda a: (a, {})),
    st.fixed_dictionaries(
        {"name": st.text(max_size=5)},
        optional={
            "count": st.integers(),
            "tags": st.lists(st.integers(), max_size=2),
            "secret": st.text(max_size=3),
        },
    ).map(lambda kw: ((), kw)),
)


@given(call=calls, other=calls)
def test_a_frozen_record_is_built_compared_and_shown_as_its_dataclass_twin(
    call: tuple[tuple[object, ...], dict[str, object]],
    other: tuple[tuple[object, ...], dict[str, object]],
) -> None:
    ours, twin = Frozen(*call[0], **call[1]), FrozenTwin(*call[0], **call[1])  # type: ignore[arg-type]
    _same(ours, twin)
    ours2, twin2 = Frozen(*other[0], **other[1]), FrozenTwin(*other[0], **other[1])  # type: ignore[arg-type]
    assert (ours == ours2) == (twin == twin2)
    if ours == ours2:
        assert hash((ours.name, ours.count)) == hash((ours2.name, ours2.count))
    assert ours != twin  # another class: not equal, as two dataclasses are not


def test_defaults_factories_and_class_attributes_as_a_dataclass_leaves_them() -> None:
    one, two = Frozen("a"), Frozen("b")
    assert one.tags == [1] and one.tags is not two.tags  # a new list for each
    assert Frozen.count == FrozenTwin.count == 3  # the default stays a class attribute
    assert Frozen.secret == ""
    assert not hasattr(Frozen, "tags") and not hasattr(FrozenTwin, "tags")
    assert Frozen.kind == "frozen"
    assert "secret" not in repr(Frozen("a", secret="pw")) and "pw" not in repr(Frozen("a"))
    m = Mutable("Asia/Riyadh")
    _same(m, MutableTwin("Asia/Riyadh"))
    assert m._cache == [] and m._cache is not Mutable("x")._cache and m._size == 0
    m._size = 4  # a mutable record takes assignment
    assert m._size == 4
    with pytest.raises(TypeError):
        hash(m)  # as a dataclass with eq: unhashable


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),  # the name is required
        (("a", 1, [1], "s", "extra"), {}),
        (("a",), {"name": "b"}),
        ((), {"name": "a", "colour": "red"}),
    ],
)
def test_bad_construction_raises_type_error_as_a_dataclass_does(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    with pytest.raises(TypeError):
        FrozenTwin(*args, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Frozen(*args, **kwargs)  # type: ignore[arg-type]


def test_init_false_fields_are_not_arguments() -> None:
    with pytest.raises(TypeError):
        Mutable("z", (), [])  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Mutable("z", _size=3)  # type: ignore[call-arg]


def test_frozen_records_refuse_assignment_and_replace_makes_a_copy() -> None:
    one = Frozen("a", 2)
    with pytest.raises(FrozenInstanceError):
        one.count = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):  # what code catching a dataclass's error catches
        del one.name  # type: ignore[misc]
    two = records.replace(one, count=7)
    assert (two.name, two.count, one.count) == ("a", 7, 2)
    assert isinstance(two, Frozen)
    with pytest.raises(TypeError):
        records.replace(one, colour="red")


def test_the_config_records() -> None:
    config = Config()
    assert config == Config() and hash(MailServer("smtp", "h", 25)) == hash(
        MailServer("smtp", "h", 25)
    )
    assert config.mail == MailConfig() and config.keymap == {}
    assert config.keymap is not Config().keymap
    assert config.technician  # the login name, from its factory
    assert Config(hall="B201").hall == "B201" and Config.hall == "A101"
    with pytest.raises(FrozenInstanceError):
        config.hall = "B201"  # type: ignore[misc]
    server = MailServer("smtp", "mail.example", 587, "user", "pw")
    assert "pw" not in repr(server) and "mail.example" in repr(server)
    assert records.replace(server, password="new").password == "new"
