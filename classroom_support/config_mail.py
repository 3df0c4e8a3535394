"""The `[mail]` section: the central server's outgoing (SMTP) and incoming (IMAP) mail.

    [mail]
    smtp = "smtp://user:pass@mail.example.org:587"   # smtps:// = implicit TLS; 587 or ?starttls
    password_file = "/etc/classroom-support/mail-password"   # or password_env = "MAIL_PASSWORD"
    from = "info@khit.sa"
    imap = "imaps://info%40khit.sa@mail.example.org"
    digest_time = "09:30"

    [mail.notify]                 # who is told what (defaults: the policy; see docs/mail.md)
    warning = ["rung"]

No `smtp` means no mail is sent (and none is queued); no `imap` means no mailbox is read. The
password is read once, at load, from the URL, then the file, then the environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from classroom_support.records import field, frozen_record, replace

if TYPE_CHECKING:
    from classroom_support.config_reader import TomlReader

MAIL_KEYS = (
    "smtp",
    "imap",
    "password_file",
    "password_env",
    "imap_password_file",
    "imap_password_env",
    "from",
    "from_name",
    "timeout",
    "imap_folder",
    "imap_interval",
    "imap_sender_limit",
    "imap_sender_window",
    "max_attachment_bytes",
    "digest_time",
    "status_base_url",
    "templates",
    "notify",
)
# What a notify list may name: `rung` (the people of the rung the event concerns), an escalation
# step id (its people), a role id (everyone holding it) or an e-mail address.
RUNG = "rung"
NOTIFY_CAUSES = ("warning", "breach", "routed_l2", "rca_missing", "digest")
TRAINEE_MAILS = ("received", "first_response", "waiting", "resolved")
DEFAULT_NOTIFY: dict[str, tuple[str, ...]] = {
    "warning": (RUNG,),  # the people responsible at the ticket's current rung
    "breach": (RUNG,),  # breach and each escalation: the people of the rung it reaches
    "routed_l2": ("L2",),
    "rca_missing": ("managers",),
    "digest": ("managers", "general_manager"),
}
SCHEMES = {
    # scheme: (default port, implicit TLS)
    "smtp": (587, False),
    "smtps": (465, True),
    "imap": (143, False),
    "imaps": (993, True),
}


@frozen_record
class MailServer:
    """A parsed `smtp://` / `imap://` URL. `security`: "tls" (implicit), "starttls" or "none"."""

    scheme: str
    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)
    security: str = "starttls"

    @property
    def display(self) -> str:
        """The URL without the password, for logs and `central mail-test`."""
        who = f"{self.user}@" if self.user else ""
        how = {"tls": "TLS", "starttls": "STARTTLS", "none": "no TLS"}.get(self.security)
        return f"{self.scheme}://{who}{self.host}:{self.port} ({how or self.security})"


@frozen_record
class MailConfig:
    smtp: MailServer | None = None
    imap: MailServer | None = None
    from_address: str = ""  # "" = the [institute] email (info@khit.sa)
    from_name: str = ""
    timeout: float = 30.0
    imap_folder: str = "INBOX"
    imap_interval: float = 60.0
    # Loop protection: more mails than this from one sender within the window are refused.
    imap_sender_limit: int = 20
    imap_sender_window: float = 3600.0  # seconds
    max_attachment_bytes: int = 10 * 1024 * 1024
    digest_minute: int = 9 * 60 + 30  # local time of day, minutes after midnight
    status_base_url: str = ""  # "" = the [central] url
    templates: str = ""  # a directory whose mail templates win over the built-in ones
    notify: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_NOTIFY))
    trainee: tuple[str, ...] = TRAINEE_MAILS
    rca_after_hours: float = 8.0  # working hours after a breach before "RCA missing"

    @property
    def sending(self) -> bool:
        """Whether notifications are queued and sent at all (an SMTP server is configured)."""
        return self.smtp is not None


def parse_server_url(text: str, kinds: tuple[str, str]) -> MailServer:
    """`smtp://user:pass@host:587` -> MailServer; raises ValueError naming what is wrong."""
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    if scheme not in kinds:
        raise ValueError(f"'{_safe(text)}' must start with {' or '.join(k + '://' for k in kinds)}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"'{_safe(text)}' has a port that is not a number 1-65535") from None
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"'{_safe(text)}' has no host")
    if parts.path not in ("", "/"):
        raise ValueError(f"'{_safe(text)}' has a path; give only scheme://user:pass@host:port")
    default_port, implicit = SCHEMES[scheme]
    port = port or default_port
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"starttls", "plain"}
    if unknown:
        raise ValueError(f"unknown option ?{sorted(unknown)[0]}; known: ?starttls, ?plain")
    if implicit:
        security = "tls"
    elif "plain" in query:
        security = "none"  # a local relay on 127.0.0.1:25, no TLS at all
    elif "starttls" in query or port in (587, 143):
        security = "starttls"
    else:
        security = "none"
    return MailServer(
        scheme=scheme,
        host=host,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        security=security,
    )


def _safe(url: str) -> str:
    """The URL as an error message may show it: any password replaced by ***."""
    parts = urlsplit(url.strip())
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url.strip()


def read_mail(r: TomlReader, raw: dict[str, Any], values: dict[str, Any]) -> None:
    """`[mail]`: checks every key; the password is resolved now so a missing file says so."""
    from classroom_support.config_reader import parse_clock_time

    mail = r.table(raw, "mail")
    r.unknown(mail, "mail", MAIL_KEYS)
    if not mail:
        return
    out: dict[str, Any] = {}
    for key, kinds in (("smtp", ("smtp", "smtps")), ("imap", ("imap", "imaps"))):
        if key in mail:
            try:
                server = parse_server_url(r.text(mail, "mail", key), kinds)
            except ValueError as exc:
                raise r.fail(f"mail.{key}", str(exc)) from None
            prefix = "" if key == "smtp" else "imap_"
            if not server.password:
                server = _with_password(r, mail, server, prefix)
            out[key] = server
    if "from" in mail:
        address = r.text(mail, "mail", "from").strip()
        if not _plain_address(address):
            raise r.fail("mail.from", f"'{address[:60]}' is not one address like info@khit.sa")
        out["from_address"] = address
    if "from_name" in mail:
        name = r.text(mail, "mail", "from_name")
        if any(ch in name for ch in "\r\n\0"):
            raise r.fail("mail.from_name", "must be one line")
        out["from_name"] = name
    for key in ("timeout", "imap_interval", "imap_sender_window"):
        if key in mail:
            out[key] = r.positive(mail[key], f"mail.{key}")
    if "imap_sender_limit" in mail:
        value = mail["imap_sender_limit"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise r.fail("mail.imap_sender_limit", f"must be a whole number >= 1, got {value!r}")
        out["imap_sender_limit"] = value
    if "max_attachment_bytes" in mail:
        value = mail["max_attachment_bytes"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise r.fail("mail.max_attachment_bytes", f"must be a whole number >= 0, got {value!r}")
        out["max_attachment_bytes"] = value
    if "imap_folder" in mail:
        folder = r.text(mail, "mail", "imap_folder").strip()
        if not folder or any(ch in folder for ch in "\r\n\0"):
            raise r.fail("mail.imap_folder", "must be a folder name such as INBOX")
        out["imap_folder"] = folder
    if "digest_time" in mail:
        text = r.text(mail, "mail", "digest_time")
        minute = parse_clock_time(text)
        if minute is None or minute >= 24 * 60:
            raise r.fail("mail.digest_time", f"'{text}' is not a time like 09:30")
        out["digest_minute"] = minute
    if "status_base_url" in mail:
        url = r.text(mail, "mail", "status_base_url").strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise r.fail("mail.status_base_url", f"'{url}' is not an http(s) address")
        out["status_base_url"] = url
    if "templates" in mail:
        folder = Path(r.text(mail, "mail", "templates")).expanduser()
        if not folder.is_dir():
            raise r.fail("mail.templates", f"'{folder}' is not a directory")
        out["templates"] = str(folder)
    if "notify" in mail:
        out.update(_read_notify(r, r.table(mail, "notify"), values))
    values["mail"] = MailConfig(**out)


def _with_password(r: TomlReader, mail: dict[str, Any], server: MailServer, prefix: str) -> Any:
    file_key, env_key = f"{prefix}password_file", f"{prefix}password_env"
    # imap falls back to the shared keys: one mailbox account is the usual case.
    for fkey, ekey in ((file_key, env_key), ("password_file", "password_env")):
        if fkey in mail:
            path = Path(r.text(mail, "mail", fkey)).expanduser()
            try:
                secret = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise r.fail(f"mail.{fkey}", f"cannot be read ({exc.__class__.__name__})") from None
            return replace(server, password=secret)
        if ekey in mail:
            name = r.text(mail, "mail", ekey)
            if name not in os.environ:
                raise r.fail(f"mail.{ekey}", f"the environment variable {name} is not set")
            return replace(server, password=os.environ[name])
    return server


def _plain_address(text: str) -> bool:
    from classroom_support.people import EMAIL_RE

    return bool(EMAIL_RE.match(text)) and len(text) <= 254


def _read_notify(r: TomlReader, table: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    from classroom_support.config_model import Config

    r.unknown(table, "mail.notify", (*NOTIFY_CAUSES, "trainee", "rca_after_hours"))
    steps = {s.id for s in values.get("escalation", Config.escalation)}
    tiers = {t.id for t in values.get("tiers", Config.tiers)}
    roster = {x.id for x in values.get("roster", Config.roster)}
    known = {RUNG, "technician", *steps, *tiers, *roster}
    notify = dict(DEFAULT_NOTIFY)
    out: dict[str, Any] = {}
    for cause in NOTIFY_CAUSES:
        if cause not in table:
            continue
        targets = table[cause]
        where = f"mail.notify.{cause}"
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise r.fail(where, 'must be a list such as ["rung"] or ["L2", "ops@example.org"]')
        for target in targets:
            if target not in known and not _plain_address(target):
                choices = ", ".join(sorted(known))
                raise r.fail(
                    where, f"'{target[:60]}' is not an e-mail address nor one of {choices}"
                )
        notify[cause] = tuple(targets)
    out["notify"] = notify
    if "trainee" in table:
        mails = table["trainee"]
        if not isinstance(mails, list) or not all(m in TRAINEE_MAILS for m in mails):
            raise r.fail("mail.notify.trainee", f"must be a list of {', '.join(TRAINEE_MAILS)}")
        out["trainee"] = tuple(mails)
    if "rca_after_hours" in table:
        out["rca_after_hours"] = r.positive(table["rca_after_hours"], "mail.notify.rca_after_hours")
    return out
