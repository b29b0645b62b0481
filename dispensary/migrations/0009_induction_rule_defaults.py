"""Default induction rules for the substitution products, from the WHO guideline, and who may
read and edit them: every role that prescribes or dispenses reads them, the coordinator keeps
them with the other reference data (products)."""

from decimal import Decimal

from django.db import migrations

from mass.roles import Role, grant, revoke

GUIDELINE = ("WHO, Guidelines for the psychosocially assisted pharmacological treatment of "
             "opioid dependence, Geneva 2009, Annex 12")

# substance: starting-dose ceiling, induction days, largest step, days between increases,
# first days without take-home doses (mg and days), source.
DEFAULTS = {
    # Annex 12, "Methadone maintenance treatment, Induction": the initial daily dose "should
    # generally not be more than 20 mg, except in cases of higher tolerance to opioids, and
    # even then should not be more than 30 mg" (quoted from the NCBI Bookshelf copy,
    # NBK143166, Annex 12). The ceiling is the hard 30 mg; the rule's source names the 20 mg.
    # Steps of 10 mg at most, every 3 days at the soonest (the guideline's "5-10 mg, no more
    # often than every few days"); two supervised weeks, the span over which methadone
    # accumulates (a MASS choice).
    "methadone": ("30", 14, "10", 3, 14,
                  GUIDELINE + ": methadone start generally at most 20 mg, never above 30 mg; "
                  "increases of 5-10 mg no more often than every few days. Two weeks "
                  "without take-home doses: MASS default."),
    # Buprenorphine, a partial agonist, is started faster: 4-8 mg on the first day, steps of
    # 4 mg; one supervised week (a MASS choice).
    "buprenorphine": ("8", 7, "4", 1, 7,
                      GUIDELINE + ": buprenorphine 4-8 mg on the first day, then steps of "
                      "about 4 mg. One week without take-home doses: MASS default."),
}

PERMISSIONS = {
    Role.NURSE: ["dispensary.view_inductionrule"],
    Role.DOCTOR: ["dispensary.view_inductionrule"],
    Role.PSYCHIATRIST: ["dispensary.view_inductionrule"],
    Role.COORDINATOR: ["dispensary.view_inductionrule", "dispensary.add_inductionrule",
                       "dispensary.change_inductionrule"],
}


def create_rules(apps, schema_editor):
    Product = apps.get_model("dispensary", "Product")
    InductionRule = apps.get_model("dispensary", "InductionRule")
    for product in Product.objects.filter(is_substitution=True, substance__in=DEFAULTS):
        start, days, step, between, supervised, source = DEFAULTS[product.substance]
        InductionRule.objects.get_or_create(product=product, defaults={
            "max_starting_dose": Decimal(start), "induction_days": days,
            "max_increase": Decimal(step), "min_days_between_increases": between,
            "supervised_days": supervised, "source": source,
        })


def grant_roles(apps, schema_editor):
    grant(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


def revoke_roles(apps, schema_editor):
    revoke(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("dispensary", "0008_induction_rules"),
    ]

    operations = [
        migrations.RunPython(create_rules, migrations.RunPython.noop),
        migrations.RunPython(grant_roles, revoke_roles),
    ]
