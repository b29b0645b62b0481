from decimal import Decimal

from django.db import migrations

# The products of the MASS dispensary. Highest daily doses are a guard against typing errors
# (a prescription above is refused), set above the doses seen in practice: methadone
# maintenance rarely exceeds 150 mg; buprenorphine's licensed maximum is 24 mg.
PRODUCTS = [
    # name, substance, form, substitution, controlled, highest daily dose (mg)
    ("Methadone syrup 1 mg/ml", "methadone", "syrup", True, True, "300"),
    ("Methadone capsules", "methadone", "capsule", True, True, "300"),
    ("Buprenorphine sublingual tablets", "buprenorphine", "sublingual", True, True, "24"),
    ("Buprenorphine/naloxone sublingual tablets", "buprenorphine", "sublingual", True, True,
     "24"),
    ("Diazepam tablets", "diazepam", "tablet", False, True, "40"),
]

# The roles' permissions were granted here once; they are now the one table
# mass.accounts.roles.ROLE_PERMISSIONS, applied after every migrate.


def create_products(apps, schema_editor):
    Product = apps.get_model("dispensary", "Product")
    for name, substance, form, substitution, controlled, max_dose in PRODUCTS:
        Product.objects.get_or_create(name=name, defaults={
            "substance": substance, "form": form, "unit": "mg",
            "is_substitution": substitution, "is_controlled": controlled,
            "max_daily_dose": Decimal(max_dose),
        })


class Migration(migrations.Migration):
    dependencies = [
        ("dispensary", "0002_ledger_rules"),
        ("mass", "0004_roles"),
    ]

    operations = [
        migrations.RunPython(create_products, migrations.RunPython.noop),
    ]
