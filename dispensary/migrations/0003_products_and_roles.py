from decimal import Decimal

from django.db import migrations

from mass.roles import Role, grant, revoke

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

READ = ["dispensary.view_product", "dispensary.view_pharmacy"]
PRESCRIBER = READ + [
    "dispensary.view_prescription", "dispensary.add_prescription",
    "dispensary.change_prescription", "dispensary.view_dispensation",
    "dispensary.view_dispensationcancellation", "dispensary.view_holdreview",
    "dispensary.add_holdreview",
    # Cancelling a ledger entry frees that day's dose for a new one: it may lead to a second
    # dose, so it takes a prescriber's authority (and another person than the one who
    # recorded the entry, see services.dispensation_cancel).
    "dispensary.add_dispensationcancellation",
]
PERMISSIONS = {
    # The nurse dispenses, keeps the register (receipts, counts) and reads prescriptions.
    Role.NURSE: READ + [
        "dispensary.view_prescription", "dispensary.view_dispensation",
        "dispensary.add_dispensation", "dispensary.view_dispensationcancellation",
        "dispensary.view_holdreview", "dispensary.view_registerentry",
        "dispensary.add_registerentry",
    ],
    Role.DOCTOR: PRESCRIBER,
    Role.PSYCHIATRIST: PRESCRIBER,
    # The coordinator reads the register (controls, inspections) and keeps the reference
    # data; no prescriptions or doses of patients.
    Role.COORDINATOR: READ + [
        "dispensary.view_registerentry", "dispensary.add_product", "dispensary.change_product",
        "dispensary.add_pharmacy", "dispensary.change_pharmacy",
    ],
}


def create_products(apps, schema_editor):
    Product = apps.get_model("dispensary", "Product")
    for name, substance, form, substitution, controlled, max_dose in PRODUCTS:
        Product.objects.get_or_create(name=name, defaults={
            "substance": substance, "form": form, "unit": "mg",
            "is_substitution": substitution, "is_controlled": controlled,
            "max_daily_dose": Decimal(max_dose),
        })


def grant_roles(apps, schema_editor):
    grant(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


def revoke_roles(apps, schema_editor):
    revoke(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("dispensary", "0002_ledger_rules"),
        ("mass", "0004_roles"),
    ]

    operations = [
        migrations.RunPython(create_products, migrations.RunPython.noop),
        migrations.RunPython(grant_roles, revoke_roles),
    ]
