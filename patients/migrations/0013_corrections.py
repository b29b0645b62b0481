"""Corrections as new rows: a walk-in or a harm-reduction entry recorded by mistake is
cancelled by a row of its own (who, when, why), one per record, append-only.

A cancelled walk-in (or group attendance, consultations 0003) is no contact any more: the
6-month rule's ``patients_contact_days`` (0008) is replaced to leave them out, and a
cancellation refreshes the episodes of the person, like a cancelled dose does.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from mass.database.roles import append_only

CONTACT_DAYS = r"""
CREATE OR REPLACE FUNCTION patients_contact_days(patient_ids bigint[])
RETURNS TABLE (patient_id bigint, date date) LANGUAGE sql STABLE AS $$
    SELECT v.patient_id, v.date FROM patients_visit AS v
     WHERE v.patient_id = ANY (patient_ids)
       AND NOT EXISTS (SELECT 1 FROM patients_visitcancellation AS x WHERE x.visit_id = v.id)
    UNION
    SELECT c.patient_id, c.date FROM consultations_consultation AS c
     WHERE c.patient_id = ANY (patient_ids)
    UNION
    SELECT a.patient_id, s.date FROM consultations_groupattendance AS a
      JOIN consultations_groupsession AS s ON s.id = a.session_id
      JOIN patients_patient AS p ON p.id = a.patient_id AND p.merged_into_id IS NULL
     WHERE a.patient_id = ANY (patient_ids)
       AND NOT EXISTS (SELECT 1 FROM consultations_groupattendancecancellation AS x
                        WHERE x.attendance_id = a.id)
    UNION
    SELECT d.patient_id, d.date FROM dispensary_dispensation AS d
     WHERE d.patient_id = ANY (patient_ids)
       AND NOT EXISTS (SELECT 1 FROM dispensary_dispensationcancellation AS x
                        WHERE x.dispensation_id = d.id)
$$;

-- A cancelled walk-in or group attendance is no contact: refresh the person's episodes.
CREATE FUNCTION patients_rule_after_visit_cancellations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
    SELECT array_agg(DISTINCT v.patient_id) INTO ids
      FROM new_rows AS x JOIN patients_visit AS v ON v.id = x.visit_id;
    IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION patients_rule_after_attendance_cancellations() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
    SELECT array_agg(DISTINCT a.patient_id) INTO ids
      FROM new_rows AS x JOIN consultations_groupattendance AS a ON a.id = x.attendance_id;
    IF ids IS NOT NULL THEN PERFORM patients_episode_refresh_locked(ids); END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER patients_rule_insert AFTER INSERT ON patients_visitcancellation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION patients_rule_after_visit_cancellations();
CREATE TRIGGER patients_rule_insert AFTER INSERT ON consultations_groupattendancecancellation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION patients_rule_after_attendance_cancellations();
"""

# 0008's function, as it was.
CONTACT_DAYS_BEFORE = r"""
DROP TRIGGER IF EXISTS patients_rule_insert ON consultations_groupattendancecancellation;
DROP TRIGGER IF EXISTS patients_rule_insert ON patients_visitcancellation;
DROP FUNCTION IF EXISTS patients_rule_after_attendance_cancellations();
DROP FUNCTION IF EXISTS patients_rule_after_visit_cancellations();
CREATE OR REPLACE FUNCTION patients_contact_days(patient_ids bigint[])
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
"""


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0012_identification_photos'),
        ('consultations', '0003_corrections'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HarmReductionContactCancellation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(max_length=500, verbose_name='reason')),
                ('cancelled_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='cancelled at')),
                ('cancelled_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cancelled by')),
                ('contact', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='cancellation', to='patients.harmreductioncontact', verbose_name='harm-reduction contact')),
            ],
            options={
                'verbose_name': 'harm-reduction entry cancellation',
                'verbose_name_plural': 'harm-reduction entry cancellations',
                'ordering': ['-cancelled_at', '-id'],
                'abstract': False,
                'constraints': [models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='patients_harmreductioncontactcancellation_reason_set')],
            },
        ),
        migrations.CreateModel(
            name='VisitCancellation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(max_length=500, verbose_name='reason')),
                ('cancelled_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='cancelled at')),
                ('cancelled_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='cancelled by')),
                ('visit', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='cancellation', to='patients.visit', verbose_name='walk-in')),
            ],
            options={
                'verbose_name': 'walk-in cancellation',
                'verbose_name_plural': 'walk-in cancellations',
                'ordering': ['-cancelled_at', '-id'],
                'abstract': False,
                'constraints': [models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='patients_visitcancellation_reason_set')],
            },
        ),
        append_only("patients_visitcancellation"),
        append_only("patients_harmreductioncontactcancellation"),
        migrations.RunSQL(CONTACT_DAYS, CONTACT_DAYS_BEFORE),
    ]
