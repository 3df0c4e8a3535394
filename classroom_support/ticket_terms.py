"""The ticket's fixed vocabularies, importable without the ORM (the first painted queue, the
command line's parser). `tickets` re-exports them; the translations are in locales/*.py."""

from __future__ import annotations

from classroom_support.queue_sql import OPEN_STATUSES as OPEN_STATUSES  # re-exported
from classroom_support.queue_sql import PRIORITIES as PRIORITIES  # re-exported
from classroom_support.queue_sql import STATUSES as STATUSES  # re-exported

CATEGORIES = ("av", "pc", "network", "login", "platform", "other")
CHANNELS = ("in_hall", "phone", "whatsapp", "email", "web_form", "remote_access", "platform_chat")
RCA_CAUSES = ("staffing", "skills", "equipment", "process", "external", "communication", "other")
