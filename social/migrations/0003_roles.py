from django.db import migrations

from mass.roles import Role, grant, revoke

SITUATION_MODELS = ["incomerecord", "insurancerecord", "cpasrecord", "housingrecord",
                    "identityrecord", "addressrecord"]
VIEW_SITUATION = [f"social.view_{model}" for model in SITUATION_MODELS]

# Social workers keep the social file. Doctors (psychiatrists have doctor rights) read it,
# social notes included (the social-notes rule is in social.selectors). Nurses and
# psychologists see the situation (insurance and housing matter to care), not the actions.
# The coordinator sees the team's actions to follow the workload, never the situation of a
# person nor the note text. Reception sees nothing of it: the desk needs none of it.
PERMISSIONS = {
    Role.SOCIAL_WORKER: [
        *VIEW_SITUATION, *[f"social.add_{model}" for model in SITUATION_MODELS],
        "social.view_socialaction", "social.add_socialaction", "social.change_socialaction",
        "social.view_socialactionupdate", "social.add_socialactionupdate",
    ],
    **{role: [*VIEW_SITUATION, "social.view_socialaction", "social.view_socialactionupdate"]
       for role in (Role.DOCTOR, Role.PSYCHIATRIST)},
    **{role: VIEW_SITUATION for role in (Role.NURSE, Role.PSYCHOLOGIST)},
    Role.COORDINATOR: ["social.view_socialaction"],
}


def grant_roles(apps, schema_editor):
    grant(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


def revoke_roles(apps, schema_editor):
    revoke(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0002_history_append_only"),
        ("mass", "0004_roles"),
    ]

    operations = [migrations.RunPython(grant_roles, revoke_roles)]
