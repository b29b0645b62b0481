"""An alert is history (after 0001): no DELETE; an UPDATE may only write its end (ended_at,
ended_by, end_reason), once, and move it to another file (a merge of two files of one
person). Its kind and text are never edited: a different alert is a new one. The roles'
permissions of the alert pages are in mass.accounts.roles; which kinds each role records and reads is
alerts.rules.
"""

from django.db import migrations

ALERT_GUARD = """
CREATE OR REPLACE FUNCTION alerts_alert_guard() RETURNS trigger AS $$
DECLARE
    v_end CONSTANT text[] := ARRAY['ended_at', 'ended_by_id', 'end_reason'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on alerts_alert is forbidden: an alert is ended, never deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - v_end - 'patient_id')
           IS DISTINCT FROM (to_jsonb(OLD) - v_end - 'patient_id') THEN
        RAISE EXCEPTION 'UPDATE on alerts_alert %: only its end and its patient may change; %',
            OLD.id, 'a different alert is a new one' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.ended_at IS NOT NULL
       AND (to_jsonb(NEW) - 'patient_id') IS DISTINCT FROM (to_jsonb(OLD) - 'patient_id') THEN
        RAISE EXCEPTION 'alert % ended on %: its end is not changed', OLD.id, OLD.ended_at
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# The roles' permissions were granted here once; they are now the one table
# mass.accounts.roles.ROLE_PERMISSIONS, applied after every migrate.


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("mass", "0004_roles"),
    ]

    operations = [
        migrations.RunSQL(
            ALERT_GUARD
            + "CREATE TRIGGER alerts_alert_guard BEFORE UPDATE OR DELETE ON alerts_alert "
              "FOR EACH ROW EXECUTE FUNCTION alerts_alert_guard();",
            "DROP TRIGGER IF EXISTS alerts_alert_guard ON alerts_alert;"
            "DROP FUNCTION IF EXISTS alerts_alert_guard();"),
    ]
