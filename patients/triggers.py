"""The 6-month rule's upkeep in the database (docs/domain.md; patients migration 0008): after
each statement that writes contacts, episodes, group sessions, cancellations of doses or
merges of files, the episodes of the patients it touched get their ``last_contact_on`` and
``lapsed_on`` again (``patients_episode_refresh_locked``, a function of migration 0008;
what counts as a contact is ``patients_contact_days``, replaced in migration 0013). Each
table declares its rules in its model's ``Meta.triggers`` with ``episode_refresh(...)``.
"""

import pgtrigger

from mass.database.triggers import Rule

# A statement on a table of contacts, or on the episodes (opened, closed, moved by a merge).
# The refresh's own update of the episodes (one trigger level down) is not followed.
AFTER_CONTACTS = """
IF TG_TABLE_NAME = 'patients_episode' AND pg_trigger_depth() > 1 THEN RETURN NULL; END IF;
IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT patient_id) INTO ids FROM new_rows;
ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT patient_id) INTO ids FROM old_rows;
ELSE
    SELECT array_agg(DISTINCT patient_id) INTO ids
      FROM (SELECT patient_id FROM new_rows UNION SELECT patient_id FROM old_rows) AS t;
END IF;
IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
RETURN NULL;
"""

# A group session moved to another day moves its attendances' contacts.
AFTER_GROUP_SESSIONS = """
SELECT array_agg(DISTINCT a.patient_id) INTO ids
  FROM consultations_groupattendance AS a
  JOIN new_rows AS n ON n.id = a.session_id JOIN old_rows AS o ON o.id = n.id
 WHERE n.date IS DISTINCT FROM o.date;
IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
RETURN NULL;
"""

# A cancelled dose is no contact (nor is an entry whose cancellation is undone).
AFTER_CANCELLATIONS = """
IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT d.patient_id) INTO ids
      FROM new_rows AS x JOIN dispensary_dispensation AS d ON d.id = x.dispensation_id;
ELSE
    SELECT array_agg(DISTINCT d.patient_id) INTO ids
      FROM old_rows AS x JOIN dispensary_dispensation AS d ON d.id = x.dispensation_id;
END IF;
IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
RETURN NULL;
"""

# A cancelled walk-in or group attendance is no contact: refresh the person's episodes.
AFTER_VISIT_CANCELLATIONS = """
SELECT array_agg(DISTINCT v.patient_id) INTO ids
  FROM new_rows AS x JOIN patients_visit AS v ON v.id = x.visit_id;
IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
RETURN NULL;
"""

AFTER_ATTENDANCE_CANCELLATIONS = """
SELECT array_agg(DISTINCT a.patient_id) INTO ids
  FROM new_rows AS x JOIN consultations_groupattendance AS a ON a.id = x.attendance_id;
IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
RETURN NULL;
"""

# A file merged (or un-merged) changes which of its group attendances count.
AFTER_PATIENTS = """
SELECT array_agg(n.id) INTO ids FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
 WHERE n.merged_into_id IS DISTINCT FROM o.merged_into_id;
IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
RETURN NULL;
"""

_EVENTS = {
    "insert": (pgtrigger.Insert, pgtrigger.Referencing(new="new_rows")),
    "update": (pgtrigger.Update, pgtrigger.Referencing(old="old_rows", new="new_rows")),
    "delete": (pgtrigger.Delete, pgtrigger.Referencing(old="old_rows")),
}


def episode_refresh(func: str, events=("insert", "update", "delete")) -> list[Rule]:
    """The rules that run ``func`` after each statement of ``events`` on the table: one per
    event, as PostgreSQL allows transition tables on single-event triggers only."""
    return [Rule(name=f"episode_refresh_{event}", level=pgtrigger.Statement,
                 when=pgtrigger.After, operation=_EVENTS[event][0],
                 referencing=_EVENTS[event][1], declare=[("ids", "bigint[]")], func=func)
            for event in events]
