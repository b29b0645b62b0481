from django.db import migrations

from mass.db import append_only
from mass.roles import Role, grant, revoke

# A signed (or imported) consultation is locked: only its patient may change (a merge of two
# files of one person moves it). No consultation is ever deleted. The Python rule
# (Consultation.is_locked) also locks a note at the end of the day after it; the command
# ``sign_due_notes`` writes that signature so that this trigger protects those rows too.
CONSULTATION_LOCK_FUNCTION = """
CREATE OR REPLACE FUNCTION consultations_consultation_lock() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on %.% is forbidden: clinical history is kept',
            TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (OLD.signed_at IS NOT NULL OR OLD.imported)
       AND (to_jsonb(NEW) - 'patient_id' - 'updated_at')
           IS DISTINCT FROM (to_jsonb(OLD) - 'patient_id' - 'updated_at') THEN
        RAISE EXCEPTION 'consultation % is signed: corrections are amendments', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

CLINICAL = [Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST, Role.PSYCHOLOGIST, Role.SOCIAL_WORKER]
CLINICAL_PERMISSIONS = [
    "consultations.view_consultation", "consultations.add_consultation",
    "consultations.change_consultation",
    "consultations.view_consultationamendment", "consultations.add_consultationamendment",
    "consultations.view_groupsession", "consultations.add_groupsession",
    "consultations.change_groupsession",
    "consultations.view_groupattendance", "consultations.add_groupattendance",
    "consultations.view_partner",
    "consultations.view_referral", "consultations.add_referral",
    "consultations.change_referral",
]
SCREENING = ["consultations.view_screeningtest", "consultations.add_screeningtest",
             "consultations.change_screeningtest"]
PARTNER_EDIT = ["consultations.add_partner", "consultations.change_partner"]

PERMISSIONS = {
    # Reception sees that a consultation took place (never its text), groups and referrals
    # by date and partner, and the partner directory to point people to it.
    Role.RECEPTION: ["consultations.view_consultation", "consultations.view_groupsession",
                     "consultations.view_groupattendance", "consultations.view_partner",
                     "consultations.view_referral"],
    Role.NURSE: CLINICAL_PERMISSIONS + SCREENING,
    Role.DOCTOR: CLINICAL_PERMISSIONS + SCREENING,
    Role.PSYCHIATRIST: CLINICAL_PERMISSIONS + SCREENING,
    Role.PSYCHOLOGIST: CLINICAL_PERMISSIONS,
    Role.SOCIAL_WORKER: CLINICAL_PERMISSIONS + PARTNER_EDIT,
    # Reference data (the partner directory) and figures; no note text.
    Role.COORDINATOR: ["consultations.view_consultation", "consultations.view_groupsession",
                       "consultations.view_groupattendance", "consultations.view_partner",
                       "consultations.view_referral", *PARTNER_EDIT],
}


def grant_roles(apps, schema_editor):
    grant(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


def revoke_roles(apps, schema_editor):
    revoke(apps, {role.value: perms for role, perms in PERMISSIONS.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0001_initial"),
        ("mass", "0004_roles"),
    ]

    operations = [
        migrations.RunSQL(CONSULTATION_LOCK_FUNCTION,
                          "DROP FUNCTION IF EXISTS consultations_consultation_lock() CASCADE;"),
        migrations.RunSQL(
            "CREATE TRIGGER consultations_consultation_lock BEFORE UPDATE OR DELETE "
            "ON consultations_consultation FOR EACH ROW "
            "EXECUTE FUNCTION consultations_consultation_lock();",
            "DROP TRIGGER IF EXISTS consultations_consultation_lock ON consultations_consultation;",
        ),
        append_only("consultations_consultationamendment"),
        append_only("consultations_groupattendance", allow_patient_reassignment=True),
        migrations.RunPython(grant_roles, revoke_roles),
    ]
