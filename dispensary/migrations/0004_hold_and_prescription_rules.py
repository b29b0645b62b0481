"""More of the dispensary's safety rules in the database itself (after 0002):

- The hold after missed days. A dose given (supervised or to take home) on a day that
  follows 3 or more days without any dose of the substance since the patient's last dose of
  it (under whatever prescription; a take-home dose covers its day; cancelled doses do not
  count) needs the doctor's review of that patient, substance and day, linked by
  ``review_id``; and no take-home dose is handed on such a day. This is
  ``DoseState.missed_days`` of dispensary/selectors.py for a patient who had a dose of the
  substance before. Not here: a patient's very first dose of a substance, counted in Python
  from the first day of the run of prescriptions (``course_started_on``); the services hold
  that one.
- A review linked to a dose must be of that patient, substance and day.
- A prescription is history: no DELETE; an UPDATE may only end it (set its last day, or
  bring it forward; never remove it nor put it later: a new prescription extends a
  treatment), say who ended it and why, and move it to another file (a merge).
- A product that is prescribed or in the register keeps its substance, unit and register and
  substitution flags.
"""

import importlib

from django.db import migrations

DISPENSATION_CHECK = """
CREATE OR REPLACE FUNCTION dispensary_dispensation_check() RETURNS trigger AS $$
DECLARE
    rx dispensary_prescription%ROWTYPE;
    prev dispensary_dispensation%ROWTYPE;
    v_substance text;
    v_part_dose numeric;
    v_given numeric;
    v_last date;
    v_missed integer;
BEGIN
    SELECT * INTO rx FROM dispensary_prescription WHERE id = NEW.prescription_id;
    IF rx.patient_id <> NEW.patient_id OR rx.product_id <> NEW.product_id THEN
        RAISE EXCEPTION 'dispensation: patient or product differs from the prescription'
            USING ERRCODE = 'check_violation';
    END IF;
    IF rx.pharmacy_id IS NOT NULL THEN
        RAISE EXCEPTION 'dispensation: prescription % is dispensed by a partner pharmacy', rx.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.dose_date < rx.start_date OR (rx.end_date IS NOT NULL AND NEW.dose_date > rx.end_date) THEN
        RAISE EXCEPTION 'dispensation: prescription % is not active on %', rx.id, NEW.dose_date
            USING ERRCODE = 'check_violation';
    END IF;
    IF rx.evening_dose > 0 THEN
        IF NEW.part NOT IN ('morning', 'evening') THEN
            RAISE EXCEPTION 'dispensation: prescription % is split in morning and evening parts', rx.id
                USING ERRCODE = 'check_violation';
        END IF;
        v_part_dose := CASE WHEN NEW.part = 'morning' THEN rx.daily_dose - rx.evening_dose
                            ELSE rx.evening_dose END;
    ELSE
        IF NEW.part <> 'day' THEN
            RAISE EXCEPTION 'dispensation: prescription % is not split', rx.id
                USING ERRCODE = 'check_violation';
        END IF;
        v_part_dose := rx.daily_dose;
    END IF;
    SELECT substance INTO v_substance FROM dispensary_product WHERE id = NEW.product_id;
    IF NEW.review_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM dispensary_holdreview h
             WHERE h.id = NEW.review_id AND h.patient_id = NEW.patient_id
               AND h.substance = v_substance AND h.reviewed_on = NEW.date) THEN
        RAISE EXCEPTION 'dispensation: review % is not of this patient, substance and day',
            NEW.review_id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status = 'given' THEN
        IF NEW.quantity > v_part_dose THEN
            RAISE EXCEPTION 'dispensation: % is more than the prescribed % ', NEW.quantity, v_part_dose
                USING ERRCODE = 'check_violation';
        END IF;
        SELECT COALESCE(SUM(d.quantity), 0) INTO v_given
          FROM dispensary_dispensation d JOIN dispensary_product p ON p.id = d.product_id
         WHERE d.patient_id = NEW.patient_id AND d.dose_date = NEW.dose_date
           AND d.status = 'given' AND p.substance = v_substance
           AND NOT EXISTS (SELECT 1 FROM dispensary_dispensationcancellation c
                            WHERE c.dispensation_id = d.id);
        IF v_given + NEW.quantity > rx.daily_dose THEN
            RAISE EXCEPTION 'dispensation: % already given for %, the daily dose is %',
                v_given, NEW.dose_date, rx.daily_dose USING ERRCODE = 'check_violation';
        END IF;
        -- The hold (DoseState.missed_days): the days before the desk day (NEW.date) since
        -- the last dose of the substance given to the patient and not cancelled, whatever
        -- the prescription; a take-home dose counts for the day it covers (dose_date).
        SELECT d.dose_date INTO v_last
          FROM dispensary_dispensation d JOIN dispensary_product p ON p.id = d.product_id
         WHERE d.patient_id = NEW.patient_id AND p.substance = v_substance
           AND d.dose_date < NEW.date AND d.status = 'given'
           AND NOT EXISTS (SELECT 1 FROM dispensary_dispensationcancellation c
                            WHERE c.dispensation_id = d.id)
         ORDER BY d.dose_date DESC LIMIT 1;
        v_missed := NEW.date - v_last - 1;
        IF v_missed >= 3 THEN
            IF NEW.dose_date > NEW.date THEN
                RAISE EXCEPTION 'dispensation: % days without a dose of %: no take-home dose until the patient comes back daily',
                    v_missed, v_substance USING ERRCODE = 'check_violation';
            END IF;
            IF NEW.review_id IS NULL THEN
                RAISE EXCEPTION 'dispensation: held after % days without a dose of %: a doctor''s review of % is required',
                    v_missed, v_substance, NEW.date USING ERRCODE = 'check_violation';
            END IF;
        END IF;
    END IF;
    IF NEW.replaces_id IS NOT NULL THEN
        SELECT * INTO prev FROM dispensary_dispensation WHERE id = NEW.replaces_id;
        IF prev.prescription_id <> NEW.prescription_id OR prev.dose_date <> NEW.dose_date
           OR prev.part <> NEW.part THEN
            RAISE EXCEPTION 'dispensation: replaces an entry of another prescription, day or part'
                USING ERRCODE = 'check_violation';
        END IF;
        IF prev.status = 'given' AND NOT EXISTS (
                SELECT 1 FROM dispensary_dispensationcancellation c
                 WHERE c.dispensation_id = prev.id) THEN
            RAISE EXCEPTION 'dispensation: entry % was given and is not cancelled', prev.id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""

PRESCRIPTION_GUARD = """
CREATE OR REPLACE FUNCTION dispensary_prescription_guard() RETURNS trigger AS $$
DECLARE
    -- What an UPDATE may change: the end, and the patient (a merge moves the prescription).
    v_may_change CONSTANT text[] := ARRAY['end_date', 'ended_by_id', 'end_reason', 'patient_id'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on dispensary_prescription is forbidden: a prescription is ended, never deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - v_may_change) IS DISTINCT FROM (to_jsonb(OLD) - v_may_change) THEN
        RAISE EXCEPTION 'UPDATE on dispensary_prescription %: only its end (end_date, ended_by, end_reason) and its patient may change; a new dose is a new prescription',
            OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.end_date IS NOT NULL AND (NEW.end_date IS NULL OR NEW.end_date > OLD.end_date) THEN
        RAISE EXCEPTION 'prescription %: its last day % may be brought forward, never removed or put later; a new prescription extends a treatment',
            OLD.id, OLD.end_date USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

PRODUCT_GUARD = """
CREATE OR REPLACE FUNCTION dispensary_product_guard() RETURNS trigger AS $$
BEGIN
    IF (NEW.substance, NEW.unit, NEW.is_controlled, NEW.is_substitution)
           IS DISTINCT FROM (OLD.substance, OLD.unit, OLD.is_controlled, OLD.is_substitution)
       AND (EXISTS (SELECT 1 FROM dispensary_prescription WHERE product_id = OLD.id)
            OR EXISTS (SELECT 1 FROM dispensary_registerentry WHERE product_id = OLD.id)) THEN
        RAISE EXCEPTION 'product %: substance, unit, controlled and substitution cannot change once it is prescribed or in the register',
            OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""


def previous_dispensation_check() -> str:
    return importlib.import_module(
        "dispensary.migrations.0002_ledger_rules").DISPENSATION_CHECK


class Migration(migrations.Migration):
    dependencies = [
        ("dispensary", "0003_products_and_roles"),
    ]

    operations = [
        # The trigger of 0002 calls the function by name: replacing it is enough.
        migrations.RunSQL(DISPENSATION_CHECK, previous_dispensation_check()),
        migrations.RunSQL(
            PRESCRIPTION_GUARD
            + "CREATE TRIGGER dispensary_prescription_guard BEFORE UPDATE OR DELETE "
              "ON dispensary_prescription FOR EACH ROW "
              "EXECUTE FUNCTION dispensary_prescription_guard();",
            "DROP TRIGGER IF EXISTS dispensary_prescription_guard ON dispensary_prescription;"
            "DROP FUNCTION IF EXISTS dispensary_prescription_guard();"),
        migrations.RunSQL(
            PRODUCT_GUARD
            + "CREATE TRIGGER dispensary_product_guard BEFORE UPDATE ON dispensary_product "
              "FOR EACH ROW EXECUTE FUNCTION dispensary_product_guard();",
            "DROP TRIGGER IF EXISTS dispensary_product_guard ON dispensary_product;"
            "DROP FUNCTION IF EXISTS dispensary_product_guard();"),
    ]
