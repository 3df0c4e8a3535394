"""Check a `[keymap]` against the bindings the screens declare, before the TUI starts.

Textual ignores an unknown binding id and lets a remapped key shadow another binding without a
word; a technician would only notice a key that "does nothing". Refuse both up front, in one line.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping

from textual.app import App
from textual.binding import Binding

QUIT_ID = "quit"
QUIT_KEY = "ctrl+q"


def _keys(text: str) -> list[str]:
    """Comma-separated keys in Textual's long form ("?" → "question_mark")."""
    return App._normalize_keymap({"_": text})["_"].split(",")


def binding_scopes() -> dict[str, list[Binding]]:
    """Bindings with an id, per declaring class ("module.Class"); the app's are under "app"."""
    import classroom_support.screens as screens_pkg
    import classroom_support.widgets as widgets_pkg
    from classroom_support.app import ClassroomSupportApp

    scopes: dict[str, list[Binding]] = {"app": _declared(ClassroomSupportApp)}
    for package in (screens_pkg, widgets_pkg):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(module).values():
                if isinstance(value, type) and value.__module__ == module.__name__:
                    found = _declared(value)
                    if found:
                        scopes[f"{module.__name__}.{value.__name__}"] = found
    return scopes


def _declared(cls: type) -> list[Binding]:
    return [b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding) and b.id]


def keymap_problem(keymap: Mapping[str, str]) -> str | None:
    """One line naming the first unknown id or clashing key in `keymap`, or None."""
    from classroom_support.i18n import tr

    if not keymap:
        return None
    scopes = binding_scopes()
    known = {b.id for bindings in scopes.values() for b in bindings}
    for binding_id in keymap:
        if binding_id not in known:
            return tr("keymap.unknown_id", id=binding_id)

    def effective(binding: Binding) -> list[str]:
        text = keymap.get(binding.id or "", binding.key)
        return _keys(text)

    for binding_id, text in keymap.items():
        for key in _keys(text):
            if key == QUIT_KEY and binding_id != QUIT_ID:
                return tr("keymap.quit_clash", id=binding_id, key=text)
            for other in _neighbours(scopes, binding_id):
                if other.id != binding_id and key in effective(other):
                    return tr("keymap.clash", id=binding_id, key=text, other=other.id)
    return None


def _neighbours(scopes: dict[str, list[Binding]], binding_id: str) -> Iterator[Binding]:
    """The bindings active together with `binding_id`: its own screen's and the app's (and,
    for an app binding, every screen's, since a screen key would shadow it)."""
    app_level = any(b.id == binding_id for b in scopes["app"])
    for name, bindings in scopes.items():
        if name == "app" or app_level or any(b.id == binding_id for b in bindings):
            yield from bindings
