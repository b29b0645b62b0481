from django.db import migrations

from mass.database.roles import append_only

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

# The roles' permissions were granted here once; they are now the one table
# mass.accounts.roles.ROLE_PERMISSIONS, applied after every migrate.


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
    ]
