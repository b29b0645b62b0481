from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

from mass.database.roles import FORBID_CHANGE_EXCEPT_PATIENT_FUNCTION, FORBID_CHANGE_FUNCTION, append_only

# unaccent() is only STABLE (it reads a dictionary), so it cannot be used in an index or a
# generated column; this wrapper names the dictionary and is safe to declare IMMUTABLE.
IMMUTABLE_UNACCENT = """
CREATE OR REPLACE FUNCTION mass_unaccent(text) RETURNS text AS $$
    SELECT public.unaccent('public.unaccent'::regdictionary, $1)
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT;
"""


class Migration(migrations.Migration):
    dependencies = [("mass", "0002_initial")]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunSQL(IMMUTABLE_UNACCENT, "DROP FUNCTION IF EXISTS mass_unaccent(text);"),
        migrations.RunSQL(FORBID_CHANGE_FUNCTION,
                          "DROP FUNCTION IF EXISTS mass_forbid_change() CASCADE;"),
        migrations.RunSQL(
            FORBID_CHANGE_EXCEPT_PATIENT_FUNCTION,
            "DROP FUNCTION IF EXISTS mass_forbid_change_except_patient() CASCADE;",
        ),
        append_only("mass_auditevent"),
    ]
