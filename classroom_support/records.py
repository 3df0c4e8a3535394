"""Records (`record`, `frozen_record`) that behave as the dataclasses they replace, built
without writing code at import.

`dataclasses.dataclass` writes the source of `__init__`, `__repr__`, `__eq__` (and for a frozen
class `__hash__`, `__setattr__`, `__delattr__`) for every class and compiles each with `exec`
as the module is imported: 1–2 ms a class in a fresh process, and the eight classes the first
painted queue imports (the config, the mail settings, the first frame, the page, the SLA
calendar, the app context) took ~12 ms of the start-up (`docs/benchmarks.md`). Here those
methods are shared functions that read the class's field list, so a class costs what any class
costs. What the app's records use is kept: positional or keyword construction, defaults and
default factories, fields set once (`init=False`), equality, a hash for frozen records, a repr
without hidden fields, `FrozenInstanceError` on assignment, and `replace`. Headless, standard
library only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record (as `dataclasses.FrozenInstanceError`; not
    that class: importing `dataclasses` brings `inspect` to the scripting commands)."""


class Field:
    __slots__ = ("default", "factory", "init", "repr")

    def __init__(
        self, default: Any, factory: Callable[[], Any] | None, init: bool, repr: bool
    ) -> None:
        self.default = default
        self.factory = factory
        self.init = init
        self.repr = repr


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    init: bool = True,
    repr: bool = True,
) -> Any:
    """A field's options, as `dataclasses.field` takes them."""
    return Field(default, default_factory, init, repr)


class _Spec:
    """One record class's fields, in declaration order."""

    __slots__ = ("defaults", "factories", "init", "names", "shown")

    def __init__(self, cls: type) -> None:
        self.names: tuple[str, ...] = ()
        self.init: tuple[str, ...] = ()  # taken by __init__, in order
        self.shown: tuple[str, ...] = ()  # in the repr
        self.defaults: dict[str, Any] = {}
        self.factories: dict[str, Callable[[], Any]] = {}
        names, init, shown = [], [], []
        # The class's own annotations, as strings (`from __future__ import annotations`); not
        # inspect.get_annotations, for the same reason as FrozenInstanceError.
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        for name, annotation in own.items():
            if "ClassVar" in str(annotation):
                continue
            names.append(name)
            value = cls.__dict__.get(name, _MISSING)
            spec = value if isinstance(value, Field) else Field(value, None, True, True)
            if spec.factory is not None:
                self.factories[name] = spec.factory
            elif spec.default is not _MISSING:
                self.defaults[name] = spec.default
            elif not spec.init:
                raise TypeError(f"{cls.__name__}.{name}: init=False needs a default")
            # As a dataclass leaves it: the default as the class attribute, else none.
            if isinstance(value, Field):
                if spec.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, spec.default)
            if spec.init:
                init.append(name)
            if spec.repr:
                shown.append(name)
        self.names, self.init, self.shown = tuple(names), tuple(init), tuple(shown)


def _spec(obj: object) -> _Spec:
    return type(obj).__record__  # type: ignore[attr-defined, no-any-return]


def _init(self: object, *args: Any, **kwargs: Any) -> None:
    spec = _spec(self)
    name = type(self).__qualname__
    if len(args) > len(spec.init):
        raise TypeError(f"{name}() takes {len(spec.init)} arguments, {len(args)} given")
    values = dict(zip(spec.init, args, strict=False))
    for key, value in kwargs.items():
        if key not in spec.init:
            raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
        if key in values:
            raise TypeError(f"{name}() got multiple values for argument {key!r}")
        values[key] = value
    set_value = object.__setattr__
    for key in spec.names:
        if key in values:
            value = values[key]
        elif key in spec.factories:
            value = spec.factories[key]()
        elif key in spec.defaults:
            value = spec.defaults[key]
        else:
            raise TypeError(f"{name}() missing required argument {key!r}")
        set_value(self, key, value)


def _values(self: object) -> tuple[Any, ...]:
    return tuple(getattr(self, key) for key in _spec(self).names)


def _eq(self: object, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: object) -> int:
    return hash(_values(self))


def _repr(self: object) -> str:
    shown = ", ".join(f"{key}={getattr(self, key)!r}" for key in _spec(self).shown)
    return f"{type(self).__qualname__}({shown})"


def _frozen_setattr(self: object, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _make(cls: type[T], frozen: bool) -> type[T]:
    cls.__record__ = _Spec(cls)  # type: ignore[attr-defined]
    cls.__init__ = _init  # type: ignore[misc]
    cls.__repr__ = _repr  # type: ignore[assignment, method-assign]
    cls.__eq__ = _eq  # type: ignore[assignment, method-assign]
    if frozen:
        cls.__hash__ = _hash  # type: ignore[assignment, method-assign]
        cls.__setattr__ = _frozen_setattr  # type: ignore[assignment, method-assign]
        cls.__delattr__ = _frozen_delattr  # type: ignore[assignment, method-assign]
    else:
        cls.__hash__ = None  # type: ignore[assignment]  # as a dataclass with eq: unhashable
    return cls


@dataclass_transform(field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """A mutable record: `@dataclass` without the code generation."""
    return _make(cls, frozen=False)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen_record(cls: type[T]) -> type[T]:
    """A frozen record: `@dataclass(frozen=True)` without the code generation."""
    return _make(cls, frozen=True)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the record `obj` with `changes`, as `dataclasses.replace`."""
    spec = _spec(obj)
    unknown = set(changes) - set(spec.init)
    if unknown:
        raise TypeError(f"{type(obj).__qualname__} has no field {sorted(unknown)[0]!r} to set")
    values = {key: getattr(obj, key) for key in spec.init}
    return type(obj)(**(values | changes))
