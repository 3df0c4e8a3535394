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
