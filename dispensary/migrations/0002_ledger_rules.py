"""The dispensary's safety rules in the database itself, so that no code path (a bug, a
script, a bulk import) can give a dose twice, give more than prescribed, or rewrite history.

- The dispensing ledger, its cancellations, the hold reviews and the drug register are
  append-only (UPDATE and DELETE refused; a merge of two files may move rows to the kept one).
- A dispensation must match an active prescription of the patient dispensed at the MASS, use
  the prescription's dose parts, never exceed the part's dose nor, with the other doses of the
  same substance given for that day, the daily dose; an entry that replaces another (same
  prescription, day and part) is allowed only when that one was withheld or cancelled.
- A register entry must follow the previous entry of its product: next sequence number and
  balance = previous balance + quantity (never negative: a check constraint).
"""

from django.db import migrations

from mass.database.roles import append_only

DISPENSATION_CHECK = """
CREATE OR REPLACE FUNCTION dispensary_dispensation_check() RETURNS trigger AS $$
DECLARE
    rx dispensary_prescription%ROWTYPE;
    prev dispensary_dispensation%ROWTYPE;
    v_substance text;
    v_part_dose numeric;
    v_given numeric;
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
    IF NEW.status = 'given' THEN
        IF NEW.quantity > v_part_dose THEN
            RAISE EXCEPTION 'dispensation: % is more than the prescribed % ', NEW.quantity, v_part_dose
                USING ERRCODE = 'check_violation';
        END IF;
        SELECT substance INTO v_substance FROM dispensary_product WHERE id = NEW.product_id;
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

REGISTER_CHECK = """
CREATE OR REPLACE FUNCTION dispensary_registerentry_check() RETURNS trigger AS $$
DECLARE
    prev_sequence integer;
    prev_balance numeric;
BEGIN
    SELECT sequence, balance_after INTO prev_sequence, prev_balance
      FROM dispensary_registerentry WHERE product_id = NEW.product_id
     ORDER BY sequence DESC LIMIT 1;
    IF NEW.sequence <> COALESCE(prev_sequence, 0) + 1 THEN
        RAISE EXCEPTION 'register: entry % of product % does not follow entry %',
            NEW.sequence, NEW.product_id, COALESCE(prev_sequence, 0)
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.balance_after <> COALESCE(prev_balance, 0) + NEW.quantity THEN
        RAISE EXCEPTION 'register: balance % is not the previous balance % plus %',
            NEW.balance_after, COALESCE(prev_balance, 0), NEW.quantity
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""


def insert_trigger(table: str, function: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        sql=f"CREATE TRIGGER {table}_check BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}();",
        reverse_sql=f"DROP TRIGGER IF EXISTS {table}_check ON {table};",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("dispensary", "0001_initial"),
        ("mass", "0003_database_setup"),
    ]

    operations = [
        append_only("dispensary_dispensation", allow_patient_reassignment=True),
        append_only("dispensary_holdreview", allow_patient_reassignment=True),
        append_only("dispensary_dispensationcancellation"),
        append_only("dispensary_registerentry"),
        migrations.RunSQL(DISPENSATION_CHECK,
                          "DROP FUNCTION IF EXISTS dispensary_dispensation_check() CASCADE;"),
        insert_trigger("dispensary_dispensation", "dispensary_dispensation_check"),
        migrations.RunSQL(REGISTER_CHECK,
                          "DROP FUNCTION IF EXISTS dispensary_registerentry_check() CASCADE;"),
        insert_trigger("dispensary_registerentry", "dispensary_registerentry_check"),
    ]
