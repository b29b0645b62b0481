from django.db import migrations

from mass.roles import Role, grant, revoke

# Nurses hand out harm-reduction material too; coordinators read how files were merged.
PERMISSIONS = {
    Role.NURSE: ["patients.add_harmreductioncontact", "patients.view_harmreductioncontact"],
    Role.COORDINATOR: ["patients.view_patientmerge"],
}


def grant_roles(apps, schema_editor):
    grant(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


def revoke_roles(apps, schema_editor):
    revoke(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_search_merge"),
        ("mass", "0004_roles"),
    ]

    operations = [migrations.RunPython(grant_roles, revoke_roles)]
