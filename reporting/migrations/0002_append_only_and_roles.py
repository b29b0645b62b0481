from django.db import migrations

from mass.db import append_only
from mass.roles import CLINICAL_ROLES, Role, grant, revoke

# Reception and clinicians fill the TDI questionnaire when they open an episode;
# coordinators sign the yearly figures and send the TDI file.
PERMISSIONS = {
    Role.RECEPTION.value: ["reporting.add_tdirecord", "reporting.view_tdirecord"],
    **{role.value: ["reporting.add_tdirecord", "reporting.view_tdirecord"]
       for role in CLINICAL_ROLES},
    Role.COORDINATOR.value: ["reporting.view_report", "reporting.view_tdirecord"],
}


def grant_roles(apps, schema_editor):
    grant(apps, PERMISSIONS)


def revoke_roles(apps, schema_editor):
    revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0001_initial"),
        ("mass", "0004_roles"),
    ]

    operations = [
        # A questionnaire is corrected by a new row, never changed or deleted.
        append_only("reporting_tdirecord"),
        migrations.RunPython(grant_roles, revoke_roles),
    ]
