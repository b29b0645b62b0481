-- dispensary_dispensation_check() as of migration 0005 (dispensary/migrations/0005_*.py
-- reads this file once). Its earlier texts are in migrations 0002 and 0004. Once 0005 is
-- applied this file is history like the migration. The rule in force is declared in
-- dispensary/triggers.py (dispensation_check); migration 0011 replaced this function by it.
CREATE OR REPLACE FUNCTION dispensary_dispensation_check() RETURNS trigger AS $$
DECLARE
    rx dispensary_prescription%ROWTYPE;
    prev dispensary_dispensation%ROWTYPE;
    v_substance text;
    v_part_dose numeric;
    v_given numeric;
    v_last date;
    v_missed integer;
    v_newer bigint;
BEGIN
    -- One writer at a time per patient, whatever the route (the services lock this row
    -- first too): the sums below then see every dose committed before this one. Each
    -- statement of this VOLATILE function takes a new snapshot after the lock is granted.
    PERFORM 1 FROM patients_patient WHERE id = NEW.patient_id FOR NO KEY UPDATE;
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
    -- The prescription in force on the dose's day: of the patient's prescriptions of the
    -- substance running that day, the newest (by start, then id). A prescription replaced
    -- today runs until today (doses were given under it) but no longer gives any.
    SELECT newer.id INTO v_newer
      FROM dispensary_prescription newer JOIN dispensary_product np ON np.id = newer.product_id
     WHERE newer.patient_id = NEW.patient_id AND np.substance = v_substance
       AND newer.start_date <= NEW.dose_date
       AND (newer.end_date IS NULL OR newer.end_date >= NEW.dose_date)
       AND (newer.start_date, newer.id) > (rx.start_date, rx.id)
     ORDER BY newer.start_date DESC, newer.id DESC LIMIT 1;
    IF v_newer IS NOT NULL THEN
        RAISE EXCEPTION 'dispensation: prescription % is not in force on %: prescription % replaced it',
            rx.id, NEW.dose_date, v_newer USING ERRCODE = 'check_violation';
    END IF;
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
        -- One daily dose per substance and day: the doses given for that day under every
        -- prescription of the substance (a same-day change of dose: only the top-up is left)
        -- never exceed the daily dose of the prescription in force.
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
