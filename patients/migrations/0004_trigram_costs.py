from django.db import migrations

# pg_trgm declares its similarity operators as cheap as "=" (cost 1), so with a few
# thousand files the planner prefers reading the whole table and computing a similarity per
# row (130 ms at 60,000 files) over the trigram index (10 ms): patient_search() needs the
# index. The functions belong to the extension; a database user that does not own it keeps
# the default (the search still works, only slower), hence the exception handler.
SET_COSTS = """
DO $$
BEGIN
    ALTER FUNCTION word_similarity_commutator_op(text, text) COST %(cost)s;
    ALTER FUNCTION word_similarity_op(text, text) COST %(cost)s;
    ALTER FUNCTION similarity_op(text, text) COST %(cost)s;
EXCEPTION WHEN insufficient_privilege OR undefined_function THEN
    RAISE NOTICE 'pg_trgm operator costs left unchanged: %%', SQLERRM;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("patients", "0003_roles")]

    operations = [
        migrations.RunSQL(SET_COSTS % {"cost": 100}, SET_COSTS % {"cost": 1}),
    ]
