from django.db import migrations

from mass.database.roles import append_only

# The roles' permissions were granted here once; they are now the one table
# mass.accounts.roles.ROLE_PERMISSIONS, applied after every migrate.


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        ("mass", "0004_roles"),
    ]

    operations = [
        # A questionnaire is corrected by a new row, never changed or deleted.
        append_only("reporting_tdirecord"),
    ]
