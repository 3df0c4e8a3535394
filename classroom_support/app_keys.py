"""Keys typed right after the key that opened a screen, in the same read, reach that screen.

Textual hands each key to the widget that has the focus *when the app reads it*. A key that
opens a screen ("n": a new ticket) runs at once when its binding is a priority one, but the
new screen focuses its first field only once it is mounted, a moment later (while it
composes, Textual focuses the first focusable widget, the form's scroll area); so a burst ("n"
then "Printer jam" in one read from a fast typist or a laggy SSH link) lost its text. Here
those keys wait, in order, until the screen is mounted (screens/base.py `TakesFocus`: it asks
for them after its own focus request), and are then handled as if just read: priority
bindings first, then the focused widget. Keys read while some still wait queue behind them;
none waits longer than `HOLD_MAX_S`. Mixed into `ClassroomSupportApp` (app.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[None]
else:
    _Base = object

# Keys never wait longer than this for a screen (one that never mounts, say).
HOLD_MAX_S = 1.0


def waits_for_focus(screen: Any) -> bool:
    """`screen` has just opened and the app has not yet handled what its mounting asked (its
    focus request): screens/base.py `TakesFocus`."""
    return bool(getattr(screen, "awaits_focus", False))


class KeysForNewScreens(_Base):
    screen_keys: list[events.Key]

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            waiting = getattr(self, "screen_keys", None)
            if waiting is None:
                waiting = self.screen_keys = []
            if waiting or waits_for_focus(self.screen):
                if not waiting:
                    self.set_timer(HOLD_MAX_S, self._stop_waiting)
                waiting.append(event)
                return
        await super().on_event(event)

    async def release_screen_keys(self, screen: Any = None) -> None:
        """`screen` is ready for keys (None: the one on top, after `HOLD_MAX_S`): handle the
        keys that waited, in order (a key among them may open another screen: the rest wait
        for that one)."""
        target = self.screen if screen is None else screen
        target.awaits_focus = False
        waiting = getattr(self, "screen_keys", [])
        while waiting and not waits_for_focus(self.screen):
            await super().on_event(waiting.pop(0))

    async def _stop_waiting(self) -> None:
        if getattr(self, "screen_keys", None):
            await self.release_screen_keys()
