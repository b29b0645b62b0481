"""The 6-month rule of docs/domain.md in the database.

Every treatment episode carries two dates that PostgreSQL keeps current whatever writes the
records (a form, the import's COPY, a merge, a backdated entry, a cancelled dose):

- ``last_contact_on``: the episode's last contact (its opening day counts as one), among the
  contacts from its opening to its closure, and before its ``lapsed_on`` gap;
- ``lapsed_on``: the contact after which six calendar months passed without any other
  contact inside the episode (or before its hand closure): the rule ended the episode as of
  that day. Empty while no such gap exists.

A running episode whose ``last_contact_on`` is six months or more before today has ended by
the rule too; that part depends on the day and is read by ``Episode.objects.with_end()``.

The contacts are those of ``<app>.selectors.contact_day_querysets()`` (walk-ins,
consultations, group attendance on files not merged, dispensations not cancelled), written
here once as ``patients_contact_days(patient_ids)``; tests/patients/test_six_month_rule.py
checks that both give the same days. Changing what counts as a contact means a migration that
replaces that function.
"""

from django.db import migrations, models

FUNCTIONS = r"""
CREATE FUNCTION patients_six_months_after(day date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- "six calendar months after 15 March is 15 September, after 31 August the last day
    -- of February": PostgreSQL's month arithmetic clamps to the end of the month.
    SELECT (day + interval '6 months')::date
$$;

CREATE FUNCTION patients_contact_days(patient_ids bigint[])
RETURNS TABLE (patient_id bigint, date date) LANGUAGE sql STABLE AS $$
    SELECT v.patient_id, v.date FROM patients_visit AS v
     WHERE v.patient_id = ANY (patient_ids)
    UNION
    SELECT c.patient_id, c.date FROM consultations_consultation AS c
     WHERE c.patient_id = ANY (patient_ids)
    UNION
    SELECT a.patient_id, s.date FROM consultations_groupattendance AS a
      JOIN consultations_groupsession AS s ON s.id = a.session_id
      JOIN patients_patient AS p ON p.id = a.patient_id AND p.merged_into_id IS NULL
     WHERE a.patient_id = ANY (patient_ids)
    UNION
    SELECT d.patient_id, d.date FROM dispensary_dispensation AS d
     WHERE d.patient_id = ANY (patient_ids)
       AND NOT EXISTS (SELECT 1 FROM dispensary_dispensationcancellation AS x
                        WHERE x.dispensation_id = d.id)
$$;

CREATE FUNCTION patients_episode_refresh(patient_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    WITH ep AS (
        SELECT id, patient_id, opened_on, closed_on FROM patients_episode
         WHERE patient_id = ANY (patient_ids)
    ),
    contact AS (SELECT * FROM patients_contact_days(patient_ids)),
    days AS (
        SELECT ep.id, ep.opened_on AS date FROM ep
        UNION
        SELECT ep.id, contact.date FROM ep
          JOIN contact ON contact.patient_id = ep.patient_id AND contact.date > ep.opened_on
                      AND (ep.closed_on IS NULL OR contact.date <= ep.closed_on)
    ),
    gaps AS (
        SELECT id, date, lead(date) OVER (PARTITION BY id ORDER BY date) AS next FROM days
    ),
    rule AS (
        SELECT gaps.id, max(gaps.date) AS last_contact_on,
               min(gaps.date) FILTER (WHERE gaps.next >= patients_six_months_after(gaps.date))
                   AS inner_gap
          FROM gaps GROUP BY gaps.id
    ),
    result AS (
        -- After a gap the episode has ended: later contacts are not its own.
        SELECT rule.id, coalesce(rule.inner_gap, rule.last_contact_on) AS last_contact_on,
               CASE WHEN rule.inner_gap IS NOT NULL THEN rule.inner_gap
                    -- closed by hand six months or more after the last contact: the rule
                    -- had ended it first
                    WHEN ep.closed_on >= patients_six_months_after(rule.last_contact_on)
                    THEN rule.last_contact_on
               END AS lapsed_on
          FROM rule JOIN ep ON ep.id = rule.id
    )
    UPDATE patients_episode AS e
       SET last_contact_on = result.last_contact_on, lapsed_on = result.lapsed_on
      FROM result
     WHERE e.id = result.id
       AND (e.last_contact_on, e.lapsed_on)
           IS DISTINCT FROM (result.last_contact_on, result.lapsed_on)
$$;

-- What the triggers call. Two transactions recording contacts of one person at once (today's
-- dose and a backdated consultation): the second waits on the first's lock of the episodes
-- until it commits, then computes, in a statement of its own (a new snapshot), from what both
-- wrote. Row locks in the order of the ids: no deadlock between two such refreshes.
CREATE FUNCTION patients_episode_refresh_locked(patient_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM patients_episode WHERE patient_id = ANY (patient_ids) ORDER BY id
        FOR UPDATE;
    PERFORM patients_episode_refresh(patient_ids);
END $$;

-- After a statement on a table of contacts, or on the episodes (opened, closed, moved by a
-- merge): refresh the episodes of the patients it touched. The refresh's own update of the
-- episodes (one trigger level down) is not followed.
CREATE FUNCTION patients_rule_after_contacts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
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
END $$;

-- A group session moved to another day moves its attendances' contacts.
CREATE FUNCTION patients_rule_after_group_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
    SELECT array_agg(DISTINCT a.patient_id) INTO ids
      FROM consultations_groupattendance AS a
      JOIN new_rows AS n ON n.id = a.session_id JOIN old_rows AS o ON o.id = n.id
     WHERE n.date IS DISTINCT FROM o.date;
    IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
    RETURN NULL;
END $$;

-- A cancelled dose is no contact (nor is an entry whose cancellation is undone).
CREATE FUNCTION patients_rule_after_cancellations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT d.patient_id) INTO ids
          FROM new_rows AS x JOIN dispensary_dispensation AS d ON d.id = x.dispensation_id;
    ELSE
        SELECT array_agg(DISTINCT d.patient_id) INTO ids
          FROM old_rows AS x JOIN dispensary_dispensation AS d ON d.id = x.dispensation_id;
    END IF;
    IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
    RETURN NULL;
END $$;

-- A file merged (or un-merged) changes which of its group attendances count.
CREATE FUNCTION patients_rule_after_patients() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
    SELECT array_agg(n.id) INTO ids FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
     WHERE n.merged_into_id IS DISTINCT FROM o.merged_into_id;
    IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
    RETURN NULL;
END $$;
"""

# (table, trigger function, events)
TRIGGERS = [
    ("patients_visit", "patients_rule_after_contacts", ["INSERT", "UPDATE", "DELETE"]),
    ("consultations_consultation", "patients_rule_after_contacts",
     ["INSERT", "UPDATE", "DELETE"]),
    ("consultations_groupattendance", "patients_rule_after_contacts",
     ["INSERT", "UPDATE", "DELETE"]),
    ("dispensary_dispensation", "patients_rule_after_contacts", ["INSERT", "UPDATE", "DELETE"]),
    ("patients_episode", "patients_rule_after_contacts", ["INSERT", "UPDATE", "DELETE"]),
    ("consultations_groupsession", "patients_rule_after_group_sessions", ["UPDATE"]),
    ("dispensary_dispensationcancellation", "patients_rule_after_cancellations",
     ["INSERT", "DELETE"]),
    ("patients_patient", "patients_rule_after_patients", ["UPDATE"]),
]

REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def _create_triggers() -> str:
    # PostgreSQL allows transition tables on single-event triggers only: one per event.
    return "\n".join(
        f"CREATE TRIGGER patients_rule_{event.lower()} AFTER {event} ON {table} "
        f"{REFERENCING[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
        for table, function, events in TRIGGERS for event in events)


def _drop_triggers() -> str:
    return "\n".join(f"DROP TRIGGER IF EXISTS patients_rule_{event.lower()} ON {table};"
                     for table, _, events in TRIGGERS for event in events)


DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS patients_rule_after_patients();
DROP FUNCTION IF EXISTS patients_rule_after_cancellations();
DROP FUNCTION IF EXISTS patients_rule_after_group_sessions();
DROP FUNCTION IF EXISTS patients_rule_after_contacts();
DROP FUNCTION IF EXISTS patients_episode_refresh_locked(bigint[]);
DROP FUNCTION IF EXISTS patients_episode_refresh(bigint[]);
DROP FUNCTION IF EXISTS patients_contact_days(bigint[]);
DROP FUNCTION IF EXISTS patients_six_months_after(date);
"""

# The episodes already recorded get their dates once.
FILL = """
SELECT patients_episode_refresh(ARRAY(SELECT DISTINCT patient_id FROM patients_episode));
"""


class Migration(migrations.Migration):

    dependencies = [
        ("patients", "0007_merge_left_records"),
        ("consultations", "0002_history_kept_and_roles"),
        ("dispensary", "0004_hold_and_prescription_rules"),
    ]

    operations = [
        migrations.AddField(
            model_name="episode",
            name="last_contact_on",
            field=models.DateField(editable=False, null=True,
                                   verbose_name="last contact in the episode"),
        ),
        migrations.AddField(
            model_name="episode",
            name="lapsed_on",
            field=models.DateField(editable=False, null=True,
                                   verbose_name="ended by the 6-month rule as of"),
        ),
        migrations.AlterField(
            model_name="episode",
            name="closure_reason",
            field=models.CharField(blank=True, choices=[
                ("reoriented", "Re-oriented to the network"), ("lost_contact", "Lost contact"),
                ("moved", "Moved"), ("incarcerated", "Incarcerated"),
                ("hospitalised", "Hospitalised"), ("deceased", "Deceased"),
                ("six_months", "No contact for six months"), ("other", "Other")],
                max_length=20, verbose_name="closure reason"),
        ),
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(fields=["last_contact_on"], name="patients_episode_last_contact"),
        ),
        migrations.RunSQL(FUNCTIONS + _create_triggers() + FILL,
                          _drop_triggers() + DROP_FUNCTIONS),
    ]
