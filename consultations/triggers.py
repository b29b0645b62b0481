"""The consultations' rules in the database itself, declared in the models' ``Meta.triggers``
(the append-only tables there too: mass.database.triggers.AppendOnly)."""

import pgtrigger

from mass.database.triggers import Rule

# A signed (or imported) consultation is locked: only its patient may change (a merge of two
# files of one person moves it). No consultation is ever deleted. The Python rule
# (Consultation.is_locked) also locks a note at the end of the day after it; the command
# ``sign_due_notes`` writes that signature so that this rule protects those rows too.
CONSULTATION_LOCK = Rule(
    name="consultation_lock",
    when=pgtrigger.Before, operation=pgtrigger.Update | pgtrigger.Delete,
    func="""
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'DELETE on %.% is forbidden: clinical history is kept',
            TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (OLD.signed_at IS NOT NULL OR OLD.imported)
       AND (to_jsonb(NEW) - 'patient_id' - 'updated_at')
           IS DISTINCT FROM (to_jsonb(OLD) - 'patient_id' - 'updated_at') THEN
        RAISE EXCEPTION 'consultation % is signed: corrections are amendments', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
""")


# An attendance cancelled by mistake is recorded again by a new row that replaces it (the
# cancelled one stays, struck through): the row it replaces must be the same person's at the
# same session, and cancelled. With one first attendance per person and session and each row
# replaced at most once (the model's constraints), a person has at most one standing
# attendance per session.
ATTENDANCE_REPLACES_A_CANCELLED_ONE = Rule(
    name="replaces_a_cancelled_one",
    when=pgtrigger.Before, operation=pgtrigger.Insert,
    condition=pgtrigger.Condition("NEW.replaces_id IS NOT NULL"),
    func="""
    IF NOT EXISTS (SELECT 1 FROM consultations_groupattendance AS a
                     JOIN consultations_groupattendancecancellation AS x
                       ON x.attendance_id = a.id
                    WHERE a.id = NEW.replaces_id AND a.session_id = NEW.session_id
                      AND a.patient_id = NEW.patient_id) THEN
        RAISE EXCEPTION 'attendance % replaces no cancelled attendance of its person at its '
                        'session', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
""")

# A merge moves an attendance that replaces another only with it: else the kept file could
# hold the merged file's standing attendance beside its own at the same session. Refused as
# a unique violation, which the merge reads as "the kept file already has it" and leaves the
# row on the merged file (patients.services._move). After the statement, so that one UPDATE
# moving the whole chain sees it moved.
ATTENDANCE_MOVES_WITH_WHAT_IT_REPLACES = Rule(
    name="moves_with_what_it_replaces",
    when=pgtrigger.After, operation=pgtrigger.UpdateOf("patient_id"),
    condition=pgtrigger.Condition("NEW.replaces_id IS NOT NULL "
                                  "AND OLD.patient_id IS DISTINCT FROM NEW.patient_id"),
    func="""
    IF NOT EXISTS (SELECT 1 FROM consultations_groupattendance AS a
                    WHERE a.id = NEW.replaces_id AND a.patient_id = NEW.patient_id) THEN
        RAISE EXCEPTION 'attendance % moves without the attendance it replaces', NEW.id
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NULL;
""")
