"""What the database keeps up to date after writes of contacts: the 6-month rule and the
walk-ins counted by day and purpose (below).

The 6-month rule (docs/domain.md; patients migration 0008): after
each statement that writes contacts, episodes, group sessions, cancellations of doses or
merges of files, the episodes of the patients it touched get their ``last_contact_on`` and
``lapsed_on`` again (``patients_episode_refresh_locked``, a function of migration 0008;
what counts as a contact is ``patients_contact_days``, replaced in migration 0013). Each
table declares its rules in its model's ``Meta.triggers`` with ``episode_refresh(...)``.
"""

import pgtrigger

from mass.database.triggers import OwnerRule, Rule

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


# --- walk-ins counted by day and purpose ------------------------------------------------------
#
# ``patients_purposecount`` (PurposeCount) holds, for each day and purpose, the walk-ins not
# cancelled: what the centre usually comes for over 90 days (patients.selectors.usual_purposes)
# reads a few hundred counts instead of every walk-in (34,000 at ten times seed 000). Each
# statement adds what it wrote, in the order of the counts' key (two desks logging at once
# wait for each other on a day's count, never in a cycle).

_ADD_COUNTS = """
INSERT INTO patients_purposecount AS pc (date, purpose, walk_ins)
SELECT date, purpose, sum(n) FROM ({rows}) AS delta(date, purpose, n)
 GROUP BY date, purpose HAVING sum(n) <> 0 ORDER BY date, purpose
    ON CONFLICT (date, purpose) DO UPDATE SET walk_ins = pc.walk_ins + excluded.walk_ins;
RETURN NULL;
"""
#: The rows of a transition table ``alias`` (walk-ins) not cancelled, counted with ``sign``.
_STANDING = ("SELECT date, purpose, {sign} FROM {alias} AS t WHERE NOT EXISTS ("
             "SELECT 1 FROM patients_visitcancellation AS x WHERE x.visit_id = t.id)")

COUNT_VISITS = {
    "insert": _ADD_COUNTS.format(rows=_STANDING.format(sign=1, alias="new_rows")),
    # A merge moves walk-ins to the kept file (the counts stay); a corrected day or purpose
    # moves the count.
    "update": _ADD_COUNTS.format(rows=_STANDING.format(sign=1, alias="new_rows")
                                 + " UNION ALL " + _STANDING.format(sign=-1, alias="old_rows")),
    "delete": _ADD_COUNTS.format(rows=_STANDING.format(sign=-1, alias="old_rows")),
}

#: A cancelled walk-in no longer counts (a cancellation is never undone: append-only).
COUNT_VISIT_CANCELLATIONS = _ADD_COUNTS.format(
    rows="SELECT v.date, v.purpose, -1 FROM new_rows AS x "
         "JOIN patients_visit AS v ON v.id = x.visit_id")


def purpose_counts(funcs: dict[str, str]) -> list[OwnerRule]:
    """The rules that keep the walk-in counts after each statement of ``funcs``' events, with
    the rights of their owner: the application's role only reads the counts."""
    return [OwnerRule(name=f"purpose_count_{event}", level=pgtrigger.Statement,
                 when=pgtrigger.After, operation=_EVENTS[event][0],
                 referencing=_EVENTS[event][1], func=func)
            for event, func in funcs.items()]
