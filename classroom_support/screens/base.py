"""What every full screen shares: access to the context, and surviving a language switch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import events
from textual.screen import ModalScreen, Screen

from classroom_support.i18n import tr
from classroom_support.permissions import DeviceScope, refusal
from classroom_support.stylesheets import screens_css
from classroom_support.widgets import data_text

ResultType = TypeVar("ResultType")


class AppScreen(Screen[ResultType]):
    """`populate()` fills widgets after compose: subclasses call it from `on_mount`, and it runs
    again after every recompose. (Textual dispatches `on_mount` along the whole MRO, so the base
    class deliberately does not define one.)"""

    # Every full screen but the queue reads styles/screens.tcss when the first of them opens
    # (QueueScreen sets none: app.tcss has its rules, and start-up parses only those).
    CSS_PATH = screens_css()

    # True while a language switch rebuilds the screen: the old widgets are gone and the new ones
    # not yet mounted, so a timer that fires then has nothing to update and must wait.
    rebuilding = False
    _scope: DeviceScope | None = None  # this desk's role and halls (role_refusal)

    @property
    def ctx(self) -> Any:
        return self.app.ctx  # type: ignore[attr-defined]

    def covered(self) -> bool:
        """Another full screen is on top of this one, so none of it is in sight (a dialog
        on top leaves it in sight; Textual's `is_current` is also true under a full screen)."""
        stack = self.app.screen_stack
        if self not in stack:
            return False
        return any(not isinstance(s, ModalScreen) for s in stack[stack.index(self) + 1 :])

    async def recompose(self) -> None:
        # A language switch rebuilds every label; state kept on the screen object survives.
        state = self.save_state()
        self.rebuilding = True
        try:
            await super().recompose()
            self.populate()
            self.restore_state(state)
        finally:
            self.rebuilding = False

    def populate(self) -> None:
        """Fill tables and dynamic text from the database."""

    def key_label(self, binding_id: str, default: str) -> str:
        """The key bound to `binding_id` as the footer shows it ("r", "F5"), after `[keymap]`:
        a hint that names a key names the one that works."""
        for active in self.active_bindings.values():  # the keymap is applied here
            if active.binding.id == binding_id:
                label = self.app.get_key_display(active.binding)
                return label.upper() if label[1:].isdigit() else label
        return default

    def refusal(self, action: str) -> str | None:
        """Why `action` is dimmed right now (translated); None for the generic reason."""
        return None

    def role_refusal(self, kind: str) -> str | None:
        """Why this desk's role may not make an event of `kind` (translated), or None. The role
        is read once per screen: it only changes with a sync, and keys are checked often."""
        if self._scope is None:
            self._scope = self.ctx.desk.scope()
        return refusal(self._scope.role, kind)

    def on_key(self, event: events.Key) -> None:
        # A dimmed key (check_action returned None) would do nothing at all: say why instead.
        active = self.active_bindings.get(event.key)
        if active is None or active.enabled or not active.binding.show:
            return
        label = tr(active.binding.description) if active.binding.description else event.key
        reason = self.refusal(active.binding.action) or tr("dimmed.generic", action=label)
        self.notify(data_text(reason), severity="warning")
        self.app.bell()

    def save_state(self) -> dict[str, Any]:
        return {}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back what `save_state` kept (typed text, cursor position)."""


class AppModal(ModalScreen[ResultType]):
    """A dialog: its rules are in styles/screens.tcss, read when the first screen but the queue
    (or the first dialog) opens. (`ModalScreen { align }` itself is app-wide, in app.tcss.)"""

    CSS_PATH = screens_css()


def save_after_queued_keys(screen: Screen[Any], save: Callable[[], object]) -> None:
    """Save once the keys queued for the focused field are handled. Ctrl+S is a priority key:
    in a burst (fast typing, a paste, a laggy link) it is read before the keys ahead of it."""
    focused = screen.app.focused
    if focused is not None and focused.screen is screen:
        focused.call_later(save)
    else:
        save()
