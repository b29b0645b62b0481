import datetime

from django.db import migrations

# Seed 000: Mon 10-19, Tue 11-19, Wed 10-19, Thu 14-19, Fri 10-19, Sat 10-13.
WOERINGEN_HOURS = [(0, 10, 19), (1, 11, 19), (2, 10, 19), (3, 14, 19), (4, 10, 19), (5, 10, 13)]

OUTREACH = [
    ("Samusocial - Centre d'urgence", "shelter"),
    ("Croix-Rouge - Centre d'hébergement", "shelter"),
    ("Hôtel de crise (Combo)", "hotel"),
    ("Logement de crise (Bruss'Help)", "crisis_housing"),
    ("Rue / espace public", "street"),
    ("Domicile du patient", "home"),
]


def create_sites(apps, schema_editor):
    Site = apps.get_model("mass", "Site")
    OpeningHours = apps.get_model("mass", "OpeningHours")
    woeringen, created = Site.objects.get_or_create(
        name="MASS Woeringen",
        defaults={"kind": "centre", "address": "Rue de Woeringen 16-18, 1000 Bruxelles",
                  "phone": "02 505 32 90"},
    )
    if created:
        OpeningHours.objects.bulk_create(
            OpeningHours(site=woeringen, weekday=day, opens=datetime.time(opens),
                         closes=datetime.time(closes))
            for day, opens, closes in WOERINGEN_HOURS
        )
    for name, kind in OUTREACH:
        Site.objects.get_or_create(name=name, defaults={"kind": kind})


class Migration(migrations.Migration):
    dependencies = [("mass", "0004_roles")]

    operations = [migrations.RunPython(create_sites, migrations.RunPython.noop)]
