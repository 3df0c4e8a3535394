"""Filing a ticket the way a trainee's phone does: GET the central web form (its CSRF token and
cookie), POST it, follow nothing. For the live-sync tests and bench/pull_wait.py, against a
real `central serve` on 127.0.0.1."""

from __future__ import annotations

import re

import httpx

TOKEN_RE = re.compile(r'name="csrf" value="([^"]+)"')
SENT_RE = re.compile(r"^/form/sent/([0-9a-f-]{36})(?:\?.*)?$")


def file_by_web_form(http: httpx.Client, title: str, hall: str = "A101", seat: str = "") -> str:
    """Post one ticket through the form; its id (from the 303 to its confirmation page).
    `http` is a client on the server's root URL (it keeps the form's cookie)."""
    page = http.get("/form", params={"hall": hall, "lang": "en"})
    if page.status_code != 200:
        raise AssertionError(f"form page: HTTP {page.status_code}")
    found = TOKEN_RE.search(page.text)
    if found is None:
        raise AssertionError("the form page has no CSRF token")
    data = {"hall": hall, "hall_from_link": "1", "title": title, "seat": seat}
    answer = http.post("/form", data={**data, "csrf": found.group(1), "lang": "en"})
    sent = SENT_RE.match(answer.headers.get("location", ""))
    if answer.status_code != 303 or sent is None:
        raise AssertionError(f"form post: HTTP {answer.status_code} {answer.text[:300]}")
    return sent.group(1)
