"""The rules of the consultations (and the 6-month rule's upkeep on their tables) move to
the models' ``Meta.triggers`` (consultations/triggers.py, patients/triggers.py,
mass/database/triggers.py): the triggers written by hand in earlier migrations are dropped here, in
the same transaction as their replacements are created, so that no rule is enforced twice
nor missing in between; the rows are untouched. Going back past this migration leaves these
tables without their rules (migrate back to before the hand-written ones and forward again)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import mass.database.triggers

HAND_WRITTEN_RULES = """
DROP TRIGGER IF EXISTS consultations_consultation_lock ON consultations_consultation;
DROP TRIGGER IF EXISTS consultations_consultationamendment_append_only ON consultations_consultationamendment;
DROP TRIGGER IF EXISTS consultations_groupattendance_append_only ON consultations_groupattendance;
DROP TRIGGER IF EXISTS consultations_groupattendancecancellation_append_only ON consultations_groupattendancecancellation;
DROP TRIGGER IF EXISTS consultations_screeningtestcancellation_append_only ON consultations_screeningtestcancellation;
DROP TRIGGER IF EXISTS consultations_screeningresultamendment_append_only ON consultations_screeningresultamendment;
DROP TRIGGER IF EXISTS patients_rule_insert ON consultations_consultation;
DROP TRIGGER IF EXISTS patients_rule_update ON consultations_consultation;
DROP TRIGGER IF EXISTS patients_rule_delete ON consultations_consultation;
DROP TRIGGER IF EXISTS patients_rule_insert ON consultations_groupattendance;
DROP TRIGGER IF EXISTS patients_rule_update ON consultations_groupattendance;
DROP TRIGGER IF EXISTS patients_rule_delete ON consultations_groupattendance;
DROP TRIGGER IF EXISTS patients_rule_update ON consultations_groupsession;
DROP TRIGGER IF EXISTS patients_rule_insert ON consultations_groupattendancecancellation;
DROP FUNCTION IF EXISTS consultations_consultation_lock();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0013_corrections'),
        ('consultations', '0003_corrections'),
    ]

    operations = [
        migrations.RunSQL(HAND_WRITTEN_RULES, migrations.RunSQL.noop),
        pgtrigger.migrations.AddTrigger(
            model_name='consultation',
            trigger=pgtrigger.compiler.Trigger(name='consultation_lock', sql=mass.database.triggers.RuleSql(func="\n    IF TG_OP = 'DELETE' THEN\n        RAISE EXCEPTION 'DELETE on %.% is forbidden: clinical history is kept',\n            TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    IF (OLD.signed_at IS NOT NULL OR OLD.imported)\n       AND (to_jsonb(NEW) - 'patient_id' - 'updated_at')\n           IS DISTINCT FROM (to_jsonb(OLD) - 'patient_id' - 'updated_at') THEN\n        RAISE EXCEPTION 'consultation % is signed: corrections are amendments', OLD.id\n            USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    RETURN NEW;\n", hash='100196662995c17b381f35d0160f00e702c11d80', operation='UPDATE OR DELETE', pgid='pgtrigger_consultation_lock_6c83b', table='consultations_consultation', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='consultation',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_insert', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='5db2472df3b7db186b64c395a654c9d5d6a2f4f5', level='STATEMENT', operation='INSERT', pgid='pgtrigger_episode_refresh_insert_b2a4a', referencing='REFERENCING NEW TABLE AS new_rows ', table='consultations_consultation', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='consultation',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_update', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='0cb0aeae2ab4c8a327474681f3b25477750c832e', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_episode_refresh_update_40300', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='consultations_consultation', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='consultation',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_delete', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='ae5903f78cdeb1df4b8f1278f224984632231e8b', level='STATEMENT', operation='DELETE', pgid='pgtrigger_episode_refresh_delete_58d15', referencing='REFERENCING OLD TABLE AS old_rows ', table='consultations_consultation', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='consultationamendment',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='8d81794e81551c6b3fa007932fbdf75b4febdcd5', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_6465f', table='consultations_consultationamendment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='groupattendance',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='261ee131993f8022db8b9749aef9496c2c230856', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_5ee50', table='consultations_groupattendance', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='groupattendance',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_insert', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='e3006e3e622f88bd9e2055b262c2a480526bd9c1', level='STATEMENT', operation='INSERT', pgid='pgtrigger_episode_refresh_insert_85a0e', referencing='REFERENCING NEW TABLE AS new_rows ', table='consultations_groupattendance', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='groupattendance',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_update', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='32779b03cc9895bf88a2130f2fd8c776517ac6e3', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_episode_refresh_update_c3fb3', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='consultations_groupattendance', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='groupattendance',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_delete', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='1d1319daf6e35304b8f506ee9bad4e21f4f482e0', level='STATEMENT', operation='DELETE', pgid='pgtrigger_episode_refresh_delete_72d2d', referencing='REFERENCING OLD TABLE AS old_rows ', table='consultations_groupattendance', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='groupattendancecancellation',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='3cccfdc9df076e3e880e6f4cefd30c81db3c3684', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_cf20b', table='consultations_groupattendancecancellation', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='groupattendancecancellation',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_insert', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func='\nSELECT array_agg(DISTINCT a.patient_id) INTO ids\n  FROM new_rows AS x JOIN consultations_groupattendance AS a ON a.id = x.attendance_id;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n', hash='034ce77774c4a232744c62c56b575d47deab2f38', level='STATEMENT', operation='INSERT', pgid='pgtrigger_episode_refresh_insert_c77c2', referencing='REFERENCING NEW TABLE AS new_rows ', table='consultations_groupattendancecancellation', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='groupsession',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_update', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func='\nSELECT array_agg(DISTINCT a.patient_id) INTO ids\n  FROM consultations_groupattendance AS a\n  JOIN new_rows AS n ON n.id = a.session_id JOIN old_rows AS o ON o.id = n.id\n WHERE n.date IS DISTINCT FROM o.date;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n', hash='e92405a559a7f1883d2c22f123c4d44a4df13a77', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_episode_refresh_update_eba84', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='consultations_groupsession', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningresultamendment',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='ee84143e3f37f7a5939c142d42908c170aea52ce', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_b6371', table='consultations_screeningresultamendment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningtestcancellation',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='dc60d7006a01570f6d0c9f032e0e5858586fe62a', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_4aba1', table='consultations_screeningtestcancellation', when='BEFORE')),
        ),
    ]
