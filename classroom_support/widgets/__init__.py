"""Reusable TUI pieces. Importing this package imports Textual; the headless core never does."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from classroom_support.widgets import mirror  # noqa: F401  (registers `horizontal-rtl`)
from classroom_support.widgets.bidi_input import BidiInput
from classroom_support.widgets.footer import LocalizedFooter
from classroom_support.widgets.header import HallHeader
from classroom_support.widgets.text import data_text, paragraph_text

if TYPE_CHECKING:
    from classroom_support.widgets.form_input import FormInput
    from classroom_support.widgets.key_choice import KeyChoice
    from classroom_support.widgets.qr_code import QRCode


# Widgets the queue's first frame does not show, imported when a screen asks: the QR widget
# (qrcode, and PIL through it) and the dialogs' fields.
_LAZY = {"QRCode": "qr_code", "FormInput": "form_input", "KeyChoice": "key_choice"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BidiInput",
    "FormInput",
    "HallHeader",
    "KeyChoice",
    "LocalizedFooter",
    "QRCode",
    "data_text",
    "paragraph_text",
]
