"""Demo data: a living hall queue in Arabic and English, for newcomers and screenshots."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from classroom_support.clock import FixedClock
from classroom_support.context import AppContext
from classroom_support.permissions import LEVEL2
from classroom_support.sessions import SessionBook, SessionDraft
from classroom_support.tickets import TicketDesk, TicketDraft

SESSIONS = (
    # (day offset, course, trainer, start, end)
    (0, "Excel المتقدم — Advanced Excel", "أ. سارة القحطاني", "09:00", "13:00"),
    (0, "Python للمبتدئين", "Eng. Omar Haddad", "17:00", "21:00"),
    (1, "إدارة المشاريع PMP", "د. خالد العتيبي", "10:00", "15:00"),
    (2, "Cybersecurity Essentials", "Eng. Lina Farouk", "18:00", "22:00"),
)

PROBLEMS = (
    ("جهاز العرض لا يظهر صورة الحاسب", "av", "high", "in_hall", ""),
    ("Projector shows 'No signal' on HDMI", "av", "critical", "in_hall", ""),
    ("لا أستطيع الدخول إلى المنصة التدريبية", "login", "normal", "whatsapp", ""),
    ("Forgot platform password", "login", "normal", "web_form", ""),
    ("الحاسب رقم 12 لا يعمل", "pc", "high", "in_hall", "PC-12"),
    ("Mouse not working", "pc", "low", "in_hall", "PC-07"),
    ("الواي فاي بطيء جداً في القاعة", "network", "normal", "in_hall", ""),
    ("Cannot join the virtual classroom link", "platform", "high", "phone", ""),
    ("الصوت لا يعمل في السماعات", "av", "normal", "in_hall", ""),
    ("Certificate not showing after course", "platform", "low", "email", ""),
    ("شاشة زرقاء عند تشغيل الجهاز", "pc", "high", "in_hall", "PC-03"),
    ("Need Excel add-in installed", "pc", "normal", "remote_access", "PC-15"),
    ("لم يصلني رابط الاختبار", "platform", "normal", "platform_chat", ""),
    ("Printer in the hall is jammed", "other", "low", "in_hall", ""),
)
NAMES = ("محمد العمري", "Fatimah Al-Zahrani", "عبدالله الشهري", "Noura", "", "", "ريم")
STEPS = ("none", "respond", "pause", "resolve", "verify", "assign")


def fill_demo(ctx: AppContext, *, tickets: int = 36, seed: int = 7) -> None:
    """Sessions for the next days and `tickets` tickets spread over the last three days."""
    rnd = random.Random(seed)
    now = ctx.clock.now()
    zone = ctx.config.zone
    today = now.astimezone(zone).date()
    for offset, course, trainer, start, end in SESSIONS:
        day = (today + timedelta(days=offset)).isoformat()
        ctx.sessions.add(SessionDraft(course, trainer, day, start, end))
    clock = FixedClock(now - timedelta(days=3))
    # The history a hall and Level 2 (who verifies) would have made together.
    desk = TicketDesk(ctx.db, clock, ctx.config, role=LEVEL2)
    book = SessionBook(ctx.db, clock, ctx.config)
    created: list[tuple[datetime, str]] = []
    for i in range(tickets):
        # Mostly the last three days; a few older ones show breaches and escalations.
        days = 14 if i % 9 == 0 else 3
        when = now - timedelta(minutes=rnd.randint(5, days * 24 * 60))
        local = when.astimezone(zone)
        # Most requests come in during the day.
        local = datetime.combine(local.date(), time(rnd.randint(9, 20), rnd.randint(0, 59)), zone)
        when = min(local, now - timedelta(minutes=3 + i))
        clock.set(when)
        title, category, priority, channel, seat = PROBLEMS[i % len(PROBLEMS)]
        current = book.current()
        ticket = desk.create(
            TicketDraft(
                title=title,
                seat=seat or f"{rnd.randint(1, 30)}",
                trainee_name=rnd.choice(NAMES),
                category=category,
                priority=priority,
                channel=channel,
                caller_number="0551234567" if channel in ("phone", "whatsapp") else "",
                remote_session_id="1 234 567 890" if channel == "remote_access" else "",
                session_id=current.id if current else None,
            )
        )
        created.append((when, ticket.ref))
    for n, (when, ref) in enumerate(created):
        step = "none" if n % 9 == 0 else rnd.choice(STEPS)
        clock.set(min(when + timedelta(minutes=rnd.randint(2, 90)), now))
        if step == "none":
            continue
        if step == "assign":
            desk.assign(ref, rnd.choice(("L2 - technical support", "Ahmed", "فريق الشبكات")))
            continue
        desk.respond(ref, "تم التواصل مع المتدرب / contacted the trainee")
        if step in ("pause",):
            desk.pause(ref, "بانتظار المتدرب")
        if step in ("resolve", "verify"):
            clock.advance(timedelta(minutes=rnd.randint(5, 60)))
            desk.resolve(ref, "تم الحل / fixed")
        if step == "verify":
            clock.advance(timedelta(minutes=10))
            desk.verify(ref, "Verified by L2")
    # What the monitor would have recorded by now: warnings, breaches, escalations.
    ctx.sla.run(notify=False)
    add_starter_articles(ctx)
    add_demo_people(ctx)


# A made-up staff directory: (id, name, role, halls).
PEOPLE = (
    ("demo-p1", "أحمد الزهراني", "technician", "A101"),
    ("demo-p2", "Yusuf Karim", "technician", "A102,B201"),
    ("demo-p3", "Mona Saleh", "L1", ""),
    ("demo-p4", "خالد المطيري", "L2", ""),
    ("demo-p5", "Dana Youssef", "L2", ""),
    ("demo-p6", "د. هدى الشمري", "training_body_manager", ""),
    ("demo-p7", "Salem Al-Harbi", "administrative_body_manager", ""),
    ("demo-p8", "أ. عبدالرحمن القرشي", "general_manager", ""),
)


def add_demo_people(ctx: AppContext) -> None:
    """A staff directory as if a sync had brought it (names only: a hall laptop gets no
    e-mail addresses), for the assign picker and the escalations screen."""
    from classroom_support.models import PersonRow

    with ctx.db.write() as s:
        for person_id, name, role, halls in PEOPLE:
            s.merge(PersonRow(id=person_id, name=name, role=role, halls=halls))


def add_starter_articles(ctx: AppContext) -> None:
    """The articles that ship with the product, as if a sync had brought them (the demo has
    no central server), so the knowledge-base screen has something to show."""
    from classroom_support.kb import read_articles, starter_articles_dir
    from classroom_support.models import KbArticleRow

    now = ctx.clock.now()
    with ctx.db.write() as s:
        for article in read_articles(starter_articles_dir()):
            s.merge(
                KbArticleRow(
                    id=f"demo-{article.slug}",
                    slug=article.slug,
                    title=article.title,
                    title_ar=article.title_ar,
                    tags=",".join(article.tags),
                    body=article.body,
                    body_ar=article.body_ar,
                    updated_at=now,
                )
            )
