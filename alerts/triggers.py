"""The alerts' rules in the database itself, declared in the models' ``Meta.triggers``."""

import pgtrigger

from mass.database.triggers import Rule

# An alert is history: no DELETE; an UPDATE may only write its end (ended_at, ended_by,
# end_reason), once, and move it to another file (a merge of two files of one person). Its
# kind and text are never edited: a different alert is a new one.
ALERT_GUARD = Rule(
    name="alert_guard",
    when=pgtrigger.Before, operation=pgtrigger.Update | pgtrigger.Delete,
    declare=[("v_end", "CONSTANT text[] := ARRAY['ended_at', 'ended_by_id', 'end_reason']")],
    func="""
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
""")

# "Doctor before any dose": no dose is given (supervised or to take home) while such an alert
# of the patient is active; the last line of defence behind
# dispensary.services.dispensation_record, which refuses first with a sentence. A rule on the
# dispensary's ledger that belongs to this app: AlertsConfig.ready() adds it to
# Dispensation's rules. Only doses recorded at or after the alert's recording are refused: a
# dose given on paper before it (the downtime sheet, entered after the fact) is a fact and
# is recorded. (Its name sorts first among the ledger's rules: PostgreSQL runs a table's
# triggers in the order of their names, and this one answered first before.)
DOCTOR_FIRST = Rule(
    name="active_alert_doctor_first",
    when=pgtrigger.Before, operation=pgtrigger.Insert,
    declare=[("v_alert", "bigint")],
    func="""
    IF NEW.status <> 'given' THEN
        RETURN NEW;
    END IF;
    SELECT a.id INTO v_alert FROM alerts_alert a
     WHERE a.patient_id = NEW.patient_id AND a.kind = 'doctor_first'
       AND a.ended_at IS NULL AND a.recorded_at <= NEW.dispensed_at
     LIMIT 1;
    IF v_alert IS NOT NULL THEN
        RAISE EXCEPTION 'dispensation: alert % says a doctor must see the patient before any dose',
            v_alert USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
""")
