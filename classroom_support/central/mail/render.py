"""A notice -> (subject, plain text, HTML), from the templates in `templates/`.

Each kind has one file `<kind>.txt` with two macros, `subject(lang)` and `body(lang, m)`, written
in plain text (no markup: everything a user typed stays text). The mail holds the body in the
recipient's language, or Arabic first with English below when the recipient has none;
`layout.html` wraps the same text for HTML readers, escaped (Jinja's autoescape). A site edits
the wording by copying a file into the directory `[mail] templates` names: a file there wins.

Headers are made safe here: the subject loses control characters and line breaks, whatever a
ticket's title holds, so nothing can add a header (the sender's `email` policy refuses any
that would still slip through).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
SUBJECT_TITLE_MAX = 120
BOTH = ("ar", "en")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def one_line(text: str, limit: int = SUBJECT_TITLE_MAX) -> str:
    """Header-safe text: control and format characters (CR, LF, NUL, bidi overrides) become
    spaces, runs of space one, cut to `limit` with an ellipsis."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


@lru_cache(maxsize=8)
def _envs(site_dir: str) -> tuple[jinja2.Environment, jinja2.Environment]:
    dirs = [site_dir, str(TEMPLATES)] if site_dir else [str(TEMPLATES)]
    loader = jinja2.FileSystemLoader(dirs)
    text_env = jinja2.Environment(
        loader=loader,
        autoescape=False,  # plain text; HTML escaping is the layout's
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    html_env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    return text_env, html_env


def languages(lang: str) -> tuple[str, ...]:
    return (lang,) if lang in BOTH else BOTH


def render(kind: str, lang: str, context: dict[str, Any], site_dir: str = "") -> Rendered:
    """The mail of `kind` for a recipient writing `lang` ("" = both languages)."""
    text_env, html_env = _envs(site_dir)
    module = text_env.get_template(f"{kind}.txt").make_module()
    langs = languages(lang)
    sections = []
    for code in langs:
        body = str(module.body(code, context)).strip("\n")  # type: ignore[attr-defined]
        sections.append(
            {
                "lang": code,
                "dir": "rtl" if code == "ar" else "ltr",
                "text": body,
                "paragraphs": [p.strip("\n") for p in body.split("\n\n") if p.strip()],
            }
        )
    subject_of = module.subject  # type: ignore[attr-defined]
    # `subject(lang, m)` may use the facts (which clock); a site's `subject(lang)` still works
    facts = (context,) if len(subject_of.arguments) > 1 else ()
    labels = " / ".join(one_line(str(subject_of(code, *facts)), 60) for code in langs)
    subject = _subject(labels, context)
    text = "\n\n-- \n\n".join(s["text"] for s in sections) + "\n"
    html = html_env.get_template("layout.html").render(
        subject=subject, sections=sections, link=context.get("link", "")
    )
    return Rendered(subject=subject, text=text, html=html)


def _subject(label: str, context: dict[str, Any]) -> str:
    ref = one_line(str(context.get("ref", "")), 40)
    if not ref:
        return one_line(f"{label} · {context.get('date', '')}".strip(" ·"), 200)
    hall = one_line(str(context.get("hall", "")), 40)
    title = one_line(str(context.get("title", "")))
    return one_line(f"[{ref}] {hall} · {label} · {title}", 250)


def local_time(when: datetime | None, zone: Any) -> str:
    """`2026-12-02 14:30` in the institute's zone, "" for none."""
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when else ""


def hours_text(hours: float) -> str:
    """Working hours as people say them: `3`, `2.5`."""
    rounded = round(hours, 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)
