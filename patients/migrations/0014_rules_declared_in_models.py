"""The rules of the patients' history tables and the 6-month rule's upkeep (the last of the
tables that had it by hand are converted by the consultations' and the dispensary's
migrations this one follows) move to the models' ``Meta.triggers`` (patients/triggers.py,
mass/database/triggers.py): the triggers written by hand in earlier migrations are dropped here, in
the same transaction as their replacements are created, so that no rule is enforced twice
nor missing in between; the rows are untouched. Going back past this migration leaves these
tables without their rules (migrate back to before the hand-written ones and forward again)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import mass.database.triggers

HAND_WRITTEN_RULES = """
DROP TRIGGER IF EXISTS patients_patientmerge_append_only ON patients_patientmerge;
DROP TRIGGER IF EXISTS patients_outreachattempt_append_only ON patients_outreachattempt;
DROP TRIGGER IF EXISTS patients_photoconsent_append_only ON patients_photoconsent;
DROP TRIGGER IF EXISTS patients_visitcancellation_append_only ON patients_visitcancellation;
DROP TRIGGER IF EXISTS patients_harmreductioncontactcancellation_append_only ON patients_harmreductioncontactcancellation;
DROP TRIGGER IF EXISTS patients_rule_insert ON patients_visit;
DROP TRIGGER IF EXISTS patients_rule_update ON patients_visit;
DROP TRIGGER IF EXISTS patients_rule_delete ON patients_visit;
DROP TRIGGER IF EXISTS patients_rule_insert ON patients_episode;
DROP TRIGGER IF EXISTS patients_rule_update ON patients_episode;
DROP TRIGGER IF EXISTS patients_rule_delete ON patients_episode;
DROP TRIGGER IF EXISTS patients_rule_update ON patients_patient;
DROP TRIGGER IF EXISTS patients_rule_insert ON patients_visitcancellation;
DROP FUNCTION IF EXISTS patients_rule_after_contacts();
DROP FUNCTION IF EXISTS patients_rule_after_group_sessions();
DROP FUNCTION IF EXISTS patients_rule_after_cancellations();
DROP FUNCTION IF EXISTS patients_rule_after_patients();
DROP FUNCTION IF EXISTS patients_rule_after_visit_cancellations();
DROP FUNCTION IF EXISTS patients_rule_after_attendance_cancellations();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('dispensary', '0011_rules_declared_in_models'),
        ('consultations', '0004_rules_declared_in_models'),
        ('patients', '0013_corrections'),
    ]

    operations = [
        migrations.RunSQL(HAND_WRITTEN_RULES, migrations.RunSQL.noop),
        pgtrigger.migrations.AddTrigger(
            model_name='episode',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_insert', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='1199df6494793d5694ebcd4182d8c5edf0896d6e', level='STATEMENT', operation='INSERT', pgid='pgtrigger_episode_refresh_insert_b2b7a', referencing='REFERENCING NEW TABLE AS new_rows ', table='patients_episode', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='episode',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_update', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='ee75e8492d695d665539f3c80f5912c95064ae18', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_episode_refresh_update_e2fb1', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='patients_episode', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='episode',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_delete', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='1a9191760d9c79b8e6c02efde13ec7ed181f1604', level='STATEMENT', operation='DELETE', pgid='pgtrigger_episode_refresh_delete_697d3', referencing='REFERENCING OLD TABLE AS old_rows ', table='patients_episode', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='harmreductioncontactcancellation',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='1de7f0260e928624aa4a3c74975130d2965943bb', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_8d897', table='patients_harmreductioncontactcancellation', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='outreachattempt',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='777fdc6685d11b7251453da22d7546413d040272', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_e8f99', table='patients_outreachattempt', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='patient',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_update', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func='\nSELECT array_agg(n.id) INTO ids FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id\n WHERE n.merged_into_id IS DISTINCT FROM o.merged_into_id;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n', hash='f0a894082ec3b9a97f9a597b924959afce82e1fe', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_episode_refresh_update_14a7c', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='patients_patient', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='patientmerge',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='f867faab6875a11a5346e6c6240b6fb0e25a66aa', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_6a21b', table='patients_patientmerge', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='photoconsent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='99a3bc4cfe3040cdd657486a42042747913680e0', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_74e9f', table='patients_photoconsent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visit',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_insert', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='d832c772846201cf12ef1ad379b1b88d0acde67c', level='STATEMENT', operation='INSERT', pgid='pgtrigger_episode_refresh_insert_59215', referencing='REFERENCING NEW TABLE AS new_rows ', table='patients_visit', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visit',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_update', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='986a4059802a34abebfb6eb4b9b66d18b403670b', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_episode_refresh_update_1e7c3', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='patients_visit', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visit',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_delete', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func="\nIF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\nIF TG_OP = 'INSERT' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;\nELSIF TG_OP = 'DELETE' THEN\n    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;\nELSE\n    SELECT array_agg(DISTINCT patient_id) INTO ids\n      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;\nEND IF;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n", hash='b2647a1322f15defc7f7b2bced5d0371e400e52c', level='STATEMENT', operation='DELETE', pgid='pgtrigger_episode_refresh_delete_85db3', referencing='REFERENCING OLD TABLE AS old_rows ', table='patients_visit', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visitcancellation',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='ff354d7b78ba91fb98c09f627b631a39579e6bab', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_11800', table='patients_visitcancellation', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visitcancellation',
            trigger=pgtrigger.compiler.Trigger(name='episode_refresh_insert', sql=mass.database.triggers.RuleSql(declare='DECLARE ids bigint[];', func='\nSELECT array_agg(DISTINCT v.patient_id) INTO ids\n  FROM new_rows AS x JOIN patients_visit AS v ON v.id = x.visit_id;\nIF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;\nRETURN NULL;\n', hash='9e398da35adea5e3eccf93ec70109be737c96e52', level='STATEMENT', operation='INSERT', pgid='pgtrigger_episode_refresh_insert_74ed3', referencing='REFERENCING NEW TABLE AS new_rows ', table='patients_visitcancellation', when='AFTER')),
        ),
    ]
