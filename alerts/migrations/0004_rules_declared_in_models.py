"""The rules of the alerts move to the models' ``Meta.triggers`` (alerts/triggers.py): the
triggers written by hand in earlier migrations are dropped here, in the same transaction as
their replacements are created, so that no rule is enforced twice nor missing in between;
the rows are untouched. Going back past this migration leaves these tables without their
rules (migrate back to before the hand-written ones and forward again)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import mass.database.triggers

HAND_WRITTEN_RULES = """
DROP TRIGGER IF EXISTS alerts_alert_guard ON alerts_alert;
DROP FUNCTION IF EXISTS alerts_alert_guard();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0003_doctor_before_any_dose'),
    ]

    operations = [
        migrations.RunSQL(HAND_WRITTEN_RULES, migrations.RunSQL.noop),
        pgtrigger.migrations.AddTrigger(
            model_name='alert',
            trigger=pgtrigger.compiler.Trigger(name='alert_guard', sql=mass.database.triggers.RuleSql(declare="DECLARE v_end CONSTANT text[] := ARRAY['ended_at', 'ended_by_id', 'end_reason'];", func="\n    IF TG_OP = 'DELETE' THEN\n        RAISE EXCEPTION 'DELETE on alerts_alert is forbidden: an alert is ended, never deleted'\n            USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    IF (to_jsonb(NEW) - v_end - 'patient_id')\n           IS DISTINCT FROM (to_jsonb(OLD) - v_end - 'patient_id') THEN\n        RAISE EXCEPTION 'UPDATE on alerts_alert %: only its end and its patient may change; %',\n            OLD.id, 'a different alert is a new one' USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    IF OLD.ended_at IS NOT NULL\n       AND (to_jsonb(NEW) - 'patient_id') IS DISTINCT FROM (to_jsonb(OLD) - 'patient_id') THEN\n        RAISE EXCEPTION 'alert % ended on %: its end is not changed', OLD.id, OLD.ended_at\n            USING ERRCODE = 'insufficient_privilege';\n    END IF;\n    RETURN NEW;\n", hash='8a466ddb50652106aaeda5a9280f9032f75addef', operation='UPDATE OR DELETE', pgid='pgtrigger_alert_guard_eb42a', table='alerts_alert', when='BEFORE')),
        ),
    ]
