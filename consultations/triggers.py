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
