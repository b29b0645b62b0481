"""The rules of the consultations move to the models' ``Meta.triggers``
(consultations/triggers.py, mass/triggers.py): the triggers written by hand in earlier
migrations are dropped here, in the same transaction as their replacements are created, so
that no rule is enforced twice nor missing in between; the rows are untouched. Going back
past this migration leaves these tables without their rules (migrate back to before the
hand-written ones and forward again)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import mass.triggers

HAND_WRITTEN_RULES = """
DROP TRIGGER IF EXISTS consultations_consultation_lock ON consultations_consultation;
DROP TRIGGER IF EXISTS consultations_consultationamendment_append_only ON consultations_consultationamendment;
DROP TRIGGER IF EXISTS consultations_groupattendance_append_only ON consultations_groupattendance;
DROP TRIGGER IF EXISTS consultations_groupattendancecancellation_append_only ON consultations_groupattendancecancellation;
DROP TRIGGER IF EXISTS consultations_screeningtestcancellation_append_only ON consultations_screeningtestcancellation;
DROP TRIGGER IF EXISTS consultations_screeningresultamendment_append_only ON consultations_screeningresultamendment;
DROP FUNCTION IF EXISTS consultations_consultation_lock();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('consultations', '0003_corrections'),
    ]

    operations = [
        migrations.RunSQL(HAND_WRITTEN_RULES, migrations.RunSQL.noop),
        pgtrigger.migrations.AddTrigger(
            model_name='consultation',
            trigger=pgtrigger.compiler.Trigger(name='consultation_lock', sql=mass.triggers.RuleSql(func="\n    IF TG_OP = 'DELETE' THEN\n        RAISE EXCEPTION 'DELETE on %.% is forbidden: clinical history is kept',\n            TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    IF (OLD.signed_at IS NOT NULL OR OLD.imported)\n       AND (to_jsonb(NEW) - 'patient_id' - 'updated_at')\n           IS DISTINCT FROM (to_jsonb(OLD) - 'patient_id' - 'updated_at') THEN\n        RAISE EXCEPTION 'consultation % is signed: corrections are amendments', OLD.id\n            USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    RETURN NEW;\n", hash='100196662995c17b381f35d0160f00e702c11d80', operation='UPDATE OR DELETE', pgid='pgtrigger_consultation_lock_6c83b', table='consultations_consultation', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='consultationamendment',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='8d81794e81551c6b3fa007932fbdf75b4febdcd5', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_6465f', table='consultations_consultationamendment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='groupattendance',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'patient_id') = (to_jsonb(OLD) - 'patient_id') THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='261ee131993f8022db8b9749aef9496c2c230856', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_5ee50', table='consultations_groupattendance', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='groupattendancecancellation',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='3cccfdc9df076e3e880e6f4cefd30c81db3c3684', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_cf20b', table='consultations_groupattendancecancellation', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningresultamendment',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='ee84143e3f37f7a5939c142d42908c170aea52ce', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_b6371', table='consultations_screeningresultamendment', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='screeningtestcancellation',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='dc60d7006a01570f6d0c9f032e0e5858586fe62a', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_4aba1', table='consultations_screeningtestcancellation', when='BEFORE')),
        ),
    ]
