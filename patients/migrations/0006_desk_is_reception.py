from django.db import migrations

from mass.roles import Role, grant, revoke

# The reception desk (board, anonymous harm-reduction material) is reception's: the grant of
# 0003 to nurses had no page to use it on.
PERMISSIONS = {
    Role.NURSE: ["patients.add_harmreductioncontact", "patients.view_harmreductioncontact"],
}


def revoke_nurse(apps, schema_editor):
    revoke(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


def grant_nurse(apps, schema_editor):
    grant(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_visit_board_index")]

    operations = [migrations.RunPython(revoke_nurse, grant_nurse)]
