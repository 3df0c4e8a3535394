"""The commented sample configuration: every key optional, the defaults are the policy."""

SAMPLE_CONFIG = """\
# classroom-support configuration. Every key is optional; the defaults are the institute's policy.

[institute]
# name = "Training Institute"
# name_ar = "معهد التدريب"
# phone = "0566812777"          # phone and WhatsApp (local form)
# whatsapp = "+966566812777"
# email = "info@khit.sa"
# timezone = "Asia/Riyadh"

[hours]
# windows = [{ days = "all", start = "10:00", end = "16:00" }]

[sla]
# first_response_hours = 48
# resolution_hours = 96
# warning_fraction = 0.75       # warn at 75 % of the target elapsed ...
# warning_hours_left = 4        # ... or 4 working hours left, whichever comes first
# sessions_scope = "institute"  # course sessions add working time for all halls, or per "hall"
# targets = [{ priority = "critical", first_response_hours = 8 }]

# [[escalation]]                # the ladder; default L1 -> L2 (8h) -> managers (8h) -> GM
# id = "L2"
# name = "Level 2 - technical support"
# tier = "L2"
# roles = []
# hours = 8

# [[closures]]                  # public holidays; default: Saudi holidays, Eids estimated
# start = "2026-09-23"
# end = "2026-09-23"
# name = "National Day"

[central]
# url = "https://support.khit.sa"   # the central support server (web form, status pages, sync)

[mail]                          # the central server's e-mail; no smtp = no mail sent
# smtp = "smtp://user@mail.example.org:587"   # smtps:// implicit TLS; 587 or ?starttls: STARTTLS
# password_file = "/etc/classroom-support/mail-password"   # or password_env = "MAIL_PASSWORD"
# from = "info@khit.sa"
# timeout = 30                  # seconds per SMTP/IMAP conversation
# imap = "imaps://info%40khit.sa@mail.example.org"   # the support mailbox read as tickets
# imap_folder = "INBOX"
# imap_interval = 60            # seconds between mailbox polls
# imap_sender_limit = 20        # mails one sender may send per window; more are refused (loops)
# imap_sender_window = 3600     # seconds
# max_attachment_bytes = 10485760
# digest_time = "09:30"         # the managers' daily digest, local time
# status_base_url = ""          # links in mails; default: [central] url
# templates = ""                # a folder of site copies of the mail templates (they win)
# [mail.notify]                 # who is told what (docs/mail.md); names: "rung", a ladder step,
# warning = ["rung"]            # a role id or an e-mail address
# breach = ["rung"]
# routed_l2 = ["L2"]
# rca_missing = ["managers"]
# digest = ["managers", "general_manager"]
# trainee = ["received", "first_response", "waiting", "resolved"]
# rca_after_hours = 8

[device]
# hall = "A101"                 # the hall this laptop serves
# technician = "name"

[ui]
# language = "ar"               # ar or en
# theme = "textual-dark"
# arabic_display = "auto"       # auto, terminal (terminal shapes Arabic itself) or reshape

[keymap]
# new-ticket = "f2"             # remap any binding id to other keys
"""
