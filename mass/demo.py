"""Demo staff accounts, one per role (`manage.py seed_demo`)."""

from django.contrib.auth.models import Group

from mass.models import User
from mass.roles import Role

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


def seed_staff() -> list[tuple[str, str]]:
    """Create (or repair) the demo accounts; return (username, roles) for printing."""
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
        accounts.append((username, ", ".join(str(r.label) for r in roles)))
    return accounts
