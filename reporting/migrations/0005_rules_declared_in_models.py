"""The rules of the yearly figures' history tables move to the models' ``Meta.triggers``
(mass/database/triggers.py): the triggers written by hand in earlier migrations are dropped here, in
the same transaction as their replacements are created, so that no rule is enforced twice
nor missing in between; the rows are untouched. Going back past this migration leaves these
tables without their rules (migrate back to before the hand-written ones and forward again)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import mass.database.triggers

HAND_WRITTEN_RULES = """
DROP TRIGGER IF EXISTS reporting_tdirecord_append_only ON reporting_tdirecord;
DROP TRIGGER IF EXISTS reporting_declaredyear_append_only ON reporting_declaredyear;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('reporting', '0004_declared_years'),
    ]

    operations = [
        migrations.RunSQL(HAND_WRITTEN_RULES, migrations.RunSQL.noop),
        pgtrigger.migrations.AddTrigger(
            model_name='declaredyear',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='42431bde4e7b4e26ace8872507c796c09368f328', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_40a0e', table='reporting_declaredyear', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='tdirecord',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="RAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='9287da4646e4d73b8389bfd9c194ed357f1f6802', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_df873', table='reporting_tdirecord', when='BEFORE')),
        ),
    ]
