"""The rules of the audit trail move to the models' ``Meta.triggers`` (mass/database/triggers.py):
the triggers written by hand in earlier migrations are dropped here, in the same transaction
as their replacements are created, so that no rule is enforced twice nor missing in between;
the rows are untouched. Going back past this migration leaves these tables without their
rules (migrate back to before the hand-written ones and forward again)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import mass.database.triggers

HAND_WRITTEN_RULES = """
DROP TRIGGER IF EXISTS mass_auditevent_append_only ON mass_auditevent;
DROP FUNCTION IF EXISTS mass_audit_append_only();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('mass', '0011_audit_summary_code'),
    ]

    operations = [
        migrations.RunSQL(HAND_WRITTEN_RULES, migrations.RunSQL.noop),
        pgtrigger.migrations.AddTrigger(
            model_name='auditevent',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=mass.database.triggers.RuleSql(func="IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'chain_position' - 'chain_hash') = (to_jsonb(OLD) - 'chain_position' - 'chain_hash') AND OLD.chain_position IS NULL AND OLD.chain_hash IS NULL AND NEW.chain_position IS NOT NULL AND NEW.chain_hash IS NOT NULL THEN\n    RETURN NEW;\nEND IF;\nRAISE EXCEPTION '% on %.% is forbidden: this table is append-only',\n    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME\n    USING ERRCODE = 'insufficient_privilege';\n", hash='3e434d9434f71e74336129d8474a3f33fd5f56f3', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_9676a', table='mass_auditevent', when='BEFORE')),
        ),
    ]
