from django.db import migrations

from mass.roles import Role, grant, revoke

CLINICAL = [Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST, Role.PSYCHOLOGIST, Role.SOCIAL_WORKER]

# What the foundation gives each role; each app's own migrations add the rest.
PERMISSIONS = {
    Role.RECEPTION: [
        "patients.view_patient", "patients.add_patient", "patients.change_patient",
        "patients.view_visit", "patients.add_visit",
        "patients.add_harmreductioncontact", "patients.view_harmreductioncontact",
        "patients.view_episode", "patients.add_episode",
        "mass.view_site",
    ],
    **{role: ["patients.view_patient", "patients.change_patient", "patients.view_visit",
              "patients.add_visit", "patients.view_episode", "patients.add_episode",
              "patients.change_episode", "mass.view_site"] for role in CLINICAL},
    Role.COORDINATOR: [
        "mass.manage_staff", "mass.view_auditevent", "mass.view_site", "mass.change_site",
        "mass.add_site", "patients.view_patient", "patients.merge_patient",
        "patients.view_episode", "patients.view_visit",
        "patients.view_harmreductioncontact",
    ],
}


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    grant(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


def remove_roles(apps, schema_editor):
    revoke(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("mass", "0003_database_setup"),
        ("patients", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
