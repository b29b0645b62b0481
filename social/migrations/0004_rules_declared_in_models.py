"""The rules of the social history tables move to the models' ``Meta.triggers``
(mass/database/triggers.py): the triggers written by hand in earlier migrations are dropped here, in
the same transaction as their replacements are created, so that no rule is enforced twice
nor missing in between; the rows are untouched. Going back past this migration leaves these
tables without their rules (migrate back to before the hand-written ones and forward again)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import mass.database.triggers

HAND_WRITTEN_RULES = """
DROP TRIGGER IF EXISTS social_incomerecord_append_only ON social_incomerecord;
DROP TRIGGER IF EXISTS social_insurancerecord_append_only ON social_insurancerecord;
DROP TRIGGER IF EXISTS social_cpasrecord_append_only ON social_cpasrecord;
DROP TRIGGER IF EXISTS social_housingrecord_append_only ON social_housingrecord;
DROP TRIGGER IF EXISTS social_identityrecord_append_only ON social_identityrecord;
DROP TRIGGER IF EXISTS social_addressrecord_append_only ON social_addressrecord;
DROP TRIGGER IF EXISTS social_socialactionupdate_append_only ON social_socialactionupdate;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('social', '0003_roles'),
    ]

    operations = [
        migrations.RunSQL(HAND_WRITTEN_RULES, migrations.RunSQL.noop),
        pgtrigger.migrations.AddTrigger(
            model_name='addressrecord',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='9a8080b437205f13fe068aa61c73e67f40a2ccec', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_43e64', table='social_addressrecord', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='cpasrecord',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='6610fc3e02b96a215cd0100a4cecf448bbd5aa29', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_d6959', table='social_cpasrecord', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='housingrecord',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='da3d802dbf370e80a3907ca528d4f50e61bddb6e', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_362dd', table='social_housingrecord', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='identityrecord',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='704ad571aca152a49bc93bc9774a5b42ab383a92', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_b90ca', table='social_identityrecord', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='incomerecord',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='2a70167c728fac64e032b5c923718662d80fd043', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_94ea8', table='social_incomerecord', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='insurancerecord',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='7a89063f85590ccf194507e75a2f7f3cadca7910', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_f7482', table='social_insurancerecord', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='socialactionupdate',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='c3349f9280088cfb38fb371a67fdb38abed95955', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_45710', table='social_socialactionupdate', when='BEFORE')),
        ),
    ]
