""""Doctor before any dose" in the database too (the last line of defence behind
dispensary.services.dispensation_record, which refuses first with a sentence): no dose is
given (supervised or to take home) while such an alert of the patient is active. A small
trigger of its own on dispensary_dispensation, beside the dispensary's (0002-0006).

Only doses recorded at or after the alert's recording are refused: a dose given on paper
before it (the downtime sheet, entered after the fact) is a fact and is recorded."""

from django.db import migrations

DOCTOR_FIRST_CHECK = """
CREATE OR REPLACE FUNCTION alerts_dispensation_doctor_first() RETURNS trigger AS $$
DECLARE
    v_alert bigint;
BEGIN
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
END;
$$ LANGUAGE plpgsql VOLATILE;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_alert_history_and_roles"),
        ("dispensary", "0006_dispensation_reassessment"),
    ]

    operations = [
        migrations.RunSQL(
            DOCTOR_FIRST_CHECK
            + "CREATE TRIGGER alerts_dispensation_doctor_first BEFORE INSERT "
              "ON dispensary_dispensation FOR EACH ROW "
              "EXECUTE FUNCTION alerts_dispensation_doctor_first();",
            "DROP TRIGGER IF EXISTS alerts_dispensation_doctor_first ON dispensary_dispensation;"
            "DROP FUNCTION IF EXISTS alerts_dispensation_doctor_first();"),
    ]
