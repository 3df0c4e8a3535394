"""Reusable TUI pieces. Importing this package imports Textual; the headless core never does."""

from classroom_support.widgets.bidi_input import BidiInput
from classroom_support.widgets.footer import LocalizedFooter
from classroom_support.widgets.form_input import FormInput
from classroom_support.widgets.header import HallHeader
from classroom_support.widgets.key_choice import KeyChoice
from classroom_support.widgets.qr_code import QRCode
from classroom_support.widgets.text import data_text

__all__ = [
    "BidiInput",
    "FormInput",
    "HallHeader",
    "KeyChoice",
    "LocalizedFooter",
    "QRCode",
    "data_text",
]
