"""The rules of the patients' history tables move to the models' ``Meta.triggers``
(mass/triggers.py): the triggers written by hand in earlier migrations are dropped here, in
the same transaction as their replacements are created, so that no rule is enforced twice
nor missing in between; the rows are untouched. Going back past this migration leaves these
tables without their rules (migrate back to before the hand-written ones and forward again)."""

import mass.triggers
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

HAND_WRITTEN_RULES = """
DROP TRIGGER IF EXISTS patients_patientmerge_append_only ON patients_patientmerge;
DROP TRIGGER IF EXISTS patients_outreachattempt_append_only ON patients_outreachattempt;
DROP TRIGGER IF EXISTS patients_photoconsent_append_only ON patients_photoconsent;
DROP TRIGGER IF EXISTS patients_visitcancellation_append_only ON patients_visitcancellation;
DROP TRIGGER IF EXISTS patients_harmreductioncontactcancellation_append_only ON patients_harmreductioncontactcancellation;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0013_corrections'),
    ]

    operations = [
        migrations.RunSQL(HAND_WRITTEN_RULES, migrations.RunSQL.noop),
        pgtrigger.migrations.AddTrigger(
            model_name='harmreductioncontactcancellation',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='1de7f0260e928624aa4a3c74975130d2965943bb', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_8d897', table='patients_harmreductioncontactcancellation', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='outreachattempt',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='777fdc6685d11b7251453da22d7546413d040272', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_e8f99', table='patients_outreachattempt', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='patientmerge',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='f867faab6875a11a5346e6c6240b6fb0e25a66aa', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_6a21b', table='patients_patientmerge', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='photoconsent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='99a3bc4cfe3040cdd657486a42042747913680e0', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_74e9f', table='patients_photoconsent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='visitcancellation',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='ff354d7b78ba91fb98c09f627b631a39579e6bab', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_11800', table='patients_visitcancellation', when='BEFORE')),
        ),
    ]
