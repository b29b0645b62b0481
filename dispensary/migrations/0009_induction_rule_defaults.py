"""Default induction rules for the substitution products (the methadone starting dose from the
WHO guideline, the other figures MASS defaults), and who may
read and edit them: every role that prescribes or dispenses reads them, and so does the
coordinator; doctors and psychiatrists keep them."""

from decimal import Decimal

from django.db import migrations

GUIDELINE = ("WHO, Guidelines for the psychosocially assisted pharmacological treatment of "
             "opioid dependence, Geneva 2009, Annex 12")

# substance: starting-dose ceiling, induction days, largest step, days between increases,
# first days without take-home doses (mg and days), source.
DEFAULTS = {
    # Annex 12, "Methadone maintenance treatment, Induction": the initial daily dose "should
    # generally not be more than 20 mg, except in cases of higher tolerance to opioids, and
    # even then should not be more than 30 mg" (quoted from the NCBI Bookshelf copy,
    # NBK143166, Annex 12). The ceiling is the hard 30 mg; the rule's source names the 20 mg.
    # Steps of 10 mg at most, every 3 days at the soonest, and two supervised weeks (the span
    # over which methadone accumulates): MASS defaults, not figures of the guideline (only the
    # starting dose could be checked against its text), for the medical lead to confirm.
    "methadone": ("30", 14, "10", 3, 14,
                  GUIDELINE + ": methadone start generally at most 20 mg, never above 30 mg. "
                  "Increases of at most 10 mg every 3 days and two weeks without take-home "
                  "doses: MASS defaults."),
    # Buprenorphine, a partial agonist, is started faster: 8 mg on the first day at most,
    # steps of 4 mg, one supervised week. MASS defaults (common practice, not checked against
    # the guideline's text), for the medical lead to confirm.
    "buprenorphine": ("8", 7, "4", 1, 7,
                      "MASS defaults (to be confirmed by the medical lead): buprenorphine at "
                      "most 8 mg on the first day, then steps of 4 mg; one week without "
                      "take-home doses. See also " + GUIDELINE + "."),
}

# The roles' permissions were granted here once; they are now the one table
# mass.accounts.roles.ROLE_PERMISSIONS, applied after every migrate.


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


class Migration(migrations.Migration):
    dependencies = [
        ("dispensary", "0008_induction_rules"),
    ]

    operations = [
        migrations.RunPython(create_rules, migrations.RunPython.noop),
    ]
