"""The terminal driver: Textual's Linux driver, except that a SIGCONT it did not stop for does
not restart the screen.

When a terminal closes (the window, an SSH session, `tmux kill-server`), the kernel sends the
foreground process group SIGHUP and then SIGCONT. The app exits on SIGHUP (app_start.py), but
Textual's driver treats every SIGCONT as the `fg` after a Ctrl+Z: it starts application mode
again, with a second output thread, on a terminal that is gone. That thread dies on its first
write, its queue fills, and the exit then waits forever to hand it the stop mark: the app never
exits and holds its database open (tests/test_first_frame_sync.py closes a terminal and checks).
A real resume follows the driver's own SIGTSTP, which it marks (`_must_signal_resume`); only
that one restarts the screen here.
"""

from __future__ import annotations

from textual.drivers.linux_driver import LinuxDriver


class HangupSafeDriver(LinuxDriver):
    def _sigcont_application(self, *args: object) -> None:
        if self._must_signal_resume:  # we stopped ourselves (Ctrl+Z): this is the `fg`
            super()._sigcont_application(*args)
