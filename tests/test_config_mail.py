"""The `[mail]` section: server URLs, the password's sources, who is told what; bad values
are one ConfigError naming the key, never a traceback, and never the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from classroom_support.config import Config, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_mail_section_means_nothing_is_sent() -> None:
    mail = Config().mail
    assert mail.smtp is None and mail.imap is None and not mail.sending
    assert mail.digest_minute == 9 * 60 + 30 and mail.imap_folder == "INBOX"
    assert mail.notify["routed_l2"] == ("L2",)


def test_a_full_mail_section(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("s3cret\n", encoding="utf-8")
    path = write(
        tmp_path,
        f"""
[mail]
smtp = "smtp://desk%40khit.sa@mail.example.org:587"
password_file = "{tmp_path / "secret"}"
from = "support@khit.sa"
timeout = 12
imap = "imaps://desk@mail.example.org"
imap_folder = "Support"
imap_interval = 30
max_attachment_bytes = 0
digest_time = "08:15"
status_base_url = "https://status.khit.sa/"
[mail.notify]
warning = ["L1", "ops@khit.sa"]
digest = []
trainee = ["received", "resolved"]
rca_after_hours = 16
""",
    )
    mail = load_config(path).mail
    assert mail.sending
    assert mail.smtp is not None and mail.imap is not None
    assert (mail.smtp.host, mail.smtp.port, mail.smtp.security) == (
        "mail.example.org",
        587,
        "starttls",
    )
    assert (mail.smtp.user, mail.smtp.password) == ("desk@khit.sa", "s3cret")
    assert (mail.imap.port, mail.imap.security, mail.imap.password) == (993, "tls", "s3cret")
    assert mail.from_address == "support@khit.sa" and mail.timeout == 12
    assert (mail.imap_folder, mail.imap_interval, mail.max_attachment_bytes) == ("Support", 30, 0)
    assert mail.digest_minute == 8 * 60 + 15
    assert mail.status_base_url == "https://status.khit.sa"
    assert mail.notify["warning"] == ("L1", "ops@khit.sa") and mail.notify["digest"] == ()
    assert mail.notify["breach"] == ("rung",)  # untouched causes keep the policy
    assert mail.trainee == ("received", "resolved") and mail.rca_after_hours == 16
    assert "s3cret" not in repr(mail)


@pytest.mark.parametrize(
    ("url", "port", "security"),
    [
        ("smtps://mail.example.org", 465, "tls"),
        ("smtp://mail.example.org", 587, "starttls"),
        ("smtp://mail.example.org:25", 25, "none"),
        ("smtp://mail.example.org:2525?starttls", 2525, "starttls"),
        ("smtp://127.0.0.1:587?plain", 587, "none"),
    ],
)
def test_smtp_security_follows_scheme_port_and_option(
    tmp_path: Path, url: str, port: int, security: str
) -> None:
    smtp = load_config(write(tmp_path, f'[mail]\nsmtp = "{url}"\n')).mail.smtp
    assert smtp is not None and (smtp.port, smtp.security) == (port, security)


def test_password_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CS_TEST_MAIL_PASSWORD", "from-env")
    path = write(
        tmp_path, '[mail]\nsmtp = "smtp://u@h:587"\npassword_env = "CS_TEST_MAIL_PASSWORD"\n'
    )
    smtp = load_config(path).mail.smtp
    assert smtp is not None and smtp.password == "from-env"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('smtp = "http://h"', "mail.smtp", "must start with smtp:// or smtps://"),
        ('smtp = "smtp://"', "mail.smtp", "has no host"),
        ('smtp = "smtp://h:99999"', "mail.smtp", "port"),
        ('smtp = "smtp://h/x"', "mail.smtp", "has a path"),
        ('smtp = "smtp://h?tls"', "mail.smtp", "unknown option"),
        ('imap = "smtp://h"', "mail.imap", "imap://"),
        ('smtp = "smtp://u@h"\npassword_file = "/nonexistent/pw"', "mail.password_file", "cannot"),
        ('smtp = "smtp://u@h"\npassword_env = "CS_UNSET_VAR_XYZ"', "mail.password_env", "not set"),
        ('from = "Desk <a@b.sa>"', "mail.from", "not one address"),
        ('from_name = "a\\nBcc: x@y.z"', "mail.from_name", "one line"),
        ("timeout = 0", "mail.timeout", "positive"),
        ("max_attachment_bytes = -1", "mail.max_attachment_bytes", "whole number"),
        ('digest_time = "25:00"', "mail.digest_time", "not a time"),
        ('digest_time = "24:00"', "mail.digest_time", "not a time"),
        ('status_base_url = "ftp://x"', "mail.status_base_url", "http(s)"),
        ('imap_folder = ""', "mail.imap_folder", "folder name"),
        ("colour = 1", "mail.colour", "unknown key"),
        ('templates = "/nonexistent/mail-templates"', "mail.templates", "not a directory"),
        ('[mail.notify]\nwarning = "rung"', "mail.notify.warning", "must be a list"),
        ('[mail.notify]\nbreach = ["janitor"]', "mail.notify.breach", "not an e-mail address"),
        ('[mail.notify]\ntrainee = ["spam"]', "mail.notify.trainee", "must be a list of"),
        ("[mail.notify]\nsummary = []", "mail.notify.summary", "unknown key"),
    ],
)
def test_bad_mail_values_name_the_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, f"[mail]\n{text}\n"))
    assert info.value.key == key
    assert problem in info.value.problem


def test_a_bad_url_never_shows_the_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, '[mail]\nsmtp = "smtp://u:hunter2@h/path"\n'))
    assert "hunter2" not in str(info.value) and "***" in str(info.value)
