"""The dispensary's rules in the database itself, so that no code path (a bug, a script, a
bulk import) can give a dose twice, give more than prescribed, give during the hold, or
rewrite history. Each rule is written here once and declared in its model's
``Meta.triggers``; ``makemigrations`` writes the migration that installs a changed rule.
The services refuse first, with a sentence; these are the last line of defence.
"""

import pgtrigger

from dispensary.rules import HOLD_AFTER_MISSED_DAYS
from mass.database.triggers import Rule

# A dispensation must match an active prescription of the patient dispensed at the MASS, be
# of the prescription in force on its day, use the prescription's dose parts, never exceed
# the part's dose nor, with the other doses of the same substance given for that day, the
# daily dose; an entry that replaces another (same prescription, day and part) is allowed
# only when that one was withheld or cancelled.
#
# The hold after missed days: a dose given (supervised or to take home) on a day that follows
# HOLD_AFTER_MISSED_DAYS or more days without any dose of the substance since the patient's
# last dose of it (under whatever prescription; a take-home dose covers its day; cancelled
# doses do not count) needs the doctor's review of that patient, substance and day, linked by
# ``review_id``; and no take-home dose is handed on such a day. This is
# ``DoseState.missed_days`` of dispensary/selectors.py for a patient who had a dose of the
# substance before. Not here: a patient's very first dose of a substance, counted in Python
# from the first day of the run of prescriptions (``course_started_on``); the services hold
# that one. A review linked to a dose must be of that patient, substance and day.
DISPENSATION_CHECK = """
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
        IF v_missed >= {hold_after_missed_days} THEN
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
"""  # noqa: E501 (the refusals' messages as they were, one line each)


def dispensation_check(*, hold_after_missed_days: int = HOLD_AFTER_MISSED_DAYS) -> Rule:
    return Rule(
        name="dispensation_check",
        when=pgtrigger.Before, operation=pgtrigger.Insert,
        declare=[("rx", "dispensary_prescription%ROWTYPE"),
                 ("prev", "dispensary_dispensation%ROWTYPE"),
                 ("v_substance", "text"), ("v_part_dose", "numeric"), ("v_given", "numeric"),
                 ("v_last", "date"), ("v_missed", "integer"), ("v_newer", "bigint")],
        func=DISPENSATION_CHECK.format(hold_after_missed_days=int(hold_after_missed_days)),
    )


# After a dose withheld for signs of intoxication: a dose of the substance given later that
# day must record the new assessment (``reassessment_of`` the last such withheld entry of
# that day, not cancelled), and no take-home dose is handed on that day.
# (Its name sorts before dispensation_check: PostgreSQL runs a table's triggers in the order
# of their names, and this one answered first before.)
AFTER_INTOXICATION = Rule(
    name="after_intoxication",
    when=pgtrigger.Before, operation=pgtrigger.Insert,
    declare=[("v_withheld", "bigint")],
    func="""
    IF NEW.status <> 'given' THEN
        RETURN NEW;
    END IF;
    SELECT d.id INTO v_withheld
      FROM dispensary_dispensation d
      JOIN dispensary_product dp ON dp.id = d.product_id
     WHERE d.patient_id = NEW.patient_id AND d.dose_date = NEW.date
       AND d.status = 'withheld'
       AND (d.intoxication_signs OR d.withheld_reason = 'intoxication')
       AND dp.substance = (SELECT substance FROM dispensary_product WHERE id = NEW.product_id)
       AND NOT EXISTS (SELECT 1 FROM dispensary_dispensationcancellation c
                        WHERE c.dispensation_id = d.id)
     ORDER BY d.id DESC LIMIT 1;
    IF v_withheld IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.dose_date > NEW.date THEN
        RAISE EXCEPTION 'dispensation: no take-home dose on % (dose % withheld for %)',
            NEW.date, v_withheld, 'intoxication' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.reassessment_of_id IS DISTINCT FROM v_withheld THEN
        RAISE EXCEPTION 'dispensation: dose % withheld for intoxication on %: %', v_withheld,
            NEW.date, 'a new assessment must be recorded' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
""")

# A register entry must follow the previous entry of its product: next sequence number and
# balance = previous balance + quantity (never negative: a check constraint).
REGISTER_CHECK = Rule(
    name="register_check",
    when=pgtrigger.Before, operation=pgtrigger.Insert,
    declare=[("prev_sequence", "integer"), ("prev_balance", "numeric")],
    func="""
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
""")

# A prescription is history: no DELETE; an UPDATE may only end it (set its last day, or
# bring it forward; never remove it nor put it later: a new prescription extends a
# treatment), say who ended it and why, and move it to another file (a merge).
PRESCRIPTION_GUARD = Rule(
    name="prescription_guard",
    when=pgtrigger.Before, operation=pgtrigger.Update | pgtrigger.Delete,
    # What an UPDATE may change: the end, and the patient (a merge moves the prescription).
    declare=[("v_may_change", "CONSTANT text[] := "
                              "ARRAY['end_date', 'ended_by_id', 'end_reason', 'patient_id']")],
    func="""
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
""")  # noqa: E501 (the refusals' messages as they were, one line each)

# A product that is prescribed or in the register keeps its substance, unit and register and
# substitution flags.
PRODUCT_GUARD = Rule(
    name="product_guard",
    when=pgtrigger.Before, operation=pgtrigger.Update,
    func="""
    IF (NEW.substance, NEW.unit, NEW.is_controlled, NEW.is_substitution)
           IS DISTINCT FROM (OLD.substance, OLD.unit, OLD.is_controlled, OLD.is_substitution)
       AND (EXISTS (SELECT 1 FROM dispensary_prescription WHERE product_id = OLD.id)
            OR EXISTS (SELECT 1 FROM dispensary_registerentry WHERE product_id = OLD.id)) THEN
        RAISE EXCEPTION 'product %: substance, unit, controlled and substitution cannot change once it is prescribed or in the register',
            OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
""")  # noqa: E501 (the refusals' messages as they were, one line each)
