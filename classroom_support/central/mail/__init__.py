"""Mail from the central server (notifications) and to it (e-mail in as a ticket channel).
Headless (no Textual, no HTTP).

    rules.py      who is told what: an event (or a time-driven cause) -> notices per recipient
    render.py     a notice -> subject, plain text and HTML, from the editable templates/
    outbox.py     the outbox table: queue (insert-or-ignore), claim, sent/retry/dead, list, retry
    sender.py     the SMTP sender `central serve` runs: claims due rows and delivers them
    digest.py     the managers' daily digest
    inbound*.py   e-mail in: the support mailbox read over IMAP, each new mail a ticket

The rows are written in the transaction of the event that causes them (central/store/mail.py
calls rules + render + outbox from push, the SLA run, central edits and the web form).
"""
