"""Demo staff accounts, one per role (`manage.py seed_demo`)."""

from django.contrib.auth.models import Group

from mass.accounts.roles import Role
from mass.models import User

DEMO_PASSWORD = "mass-demo-1999"

DEMO_STAFF = [
    # username, first name, last name, roles, language
    ("reception", "Rachid", "Accueil", [Role.RECEPTION], "fr"),
    ("nurse", "Nadia", "Verpleeg", [Role.NURSE], "nl"),
    ("doctor", "Dominique", "Médecin", [Role.DOCTOR], "fr"),
    ("psychiatrist", "Pieter", "Psychiater", [Role.PSYCHIATRIST, Role.DOCTOR], "nl"),
    ("psychologist", "Sophie", "Psy", [Role.PSYCHOLOGIST], "fr"),
    ("social_worker", "Samira", "Social", [Role.SOCIAL_WORKER], "fr"),
    ("coordinator", "Claire", "Coordination", [Role.COORDINATOR], "fr"),
]


def seed_staff() -> list[tuple[str, str, str]]:
    """Create (or repair) the demo accounts; return (username, roles, language code) for
    printing."""
    accounts = []
    for username, first, last, roles, language in DEMO_STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "language": language},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
        accounts.append((username, ", ".join(str(r.label) for r in roles), user.language))
    return accounts


def accounts_text(accounts: list[tuple[str, str, str]]) -> list[str]:
    """The demo accounts as `make run` prints them: each with its roles and the language
    its pages open in, then which open in Dutch, so that whoever tries the demo is not
    surprised by a Dutch screen (the nurse and the psychiatrist)."""
    from django.conf import settings
    from django.utils import translation

    with translation.override("en"):
        names = {code: str(name) for code, name in settings.LANGUAGES}
    lines = [f"  {username:<15} {roles:<28} opens in {names[language or settings.LANGUAGE_CODE]}"
             for username, roles, language in accounts]
    dutch = [username for username, _roles, language in accounts if language == "nl"]
    if dutch:
        lines.append(f"Open in Dutch: {', '.join(dutch)} (the language buttons on every page "
                     "change it).")
    return lines


def seed_closure() -> str | None:
    """A one-off closure of the centre a few days ahead (a staff training day), so that the
    dispensing list and the closed-day plan show the days before a closure. The centre's
    weekly hours (closed on Sunday) come from migration 0005. Not added again while a closure
    of the centre is still to come."""
    import datetime

    from django.utils import timezone

    from mass.models import Site, SiteClosure
    from mass.sites.selectors import site_calendar
    from mass.sites.services import site_closure_create

    centre = Site.objects.filter(kind=Site.Kind.CENTRE, is_active=True).order_by("name").first()
    coordinator = User.objects.filter(username="coordinator").first()
    today = timezone.localdate()
    if centre is None or coordinator is None or SiteClosure.objects.filter(
            site=centre, last_day__gte=today).exists():
        return None
    calendar = site_calendar(site=centre, start=today, end=today + datetime.timedelta(days=14))
    day = today + datetime.timedelta(days=3)
    while not calendar.is_open(day):
        day += datetime.timedelta(days=1)
    site_closure_create(site=centre, first_day=day, last_day=day,
                        reason="Journée de formation de l'équipe", actor=coordinator)
    return f"{centre.name} closed on {day:%Y-%m-%d} (staff training day)"
