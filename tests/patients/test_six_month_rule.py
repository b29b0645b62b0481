"""The 6-month rule of docs/domain.md, as PostgreSQL keeps it on every episode (patients
migration 0008) and as the nightly ``close_lapsed_episodes`` writes it down."""

import datetime
import random
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from mass.models import AuditEvent
from patients import selectors
from patients.models import Episode
from tests.factories import (
    ConsultationFactory,
    EpisodeFactory,
    GroupAttendanceFactory,
    GroupSessionFactory,
    PatientFactory,
    VisitFactory,
)

D = datetime.date
TODAY = timezone.localdate


def ended(episode, today=None):
    return Episode.objects.with_end(today=today).get(pk=episode.pk)


def test_stale_episode_of_2013_ends_as_of_its_last_contact(db):
    patient = PatientFactory()
    episode = EpisodeFactory(patient=patient, opened_on=D(2013, 3, 4))
    VisitFactory(patient=patient, date=D(2013, 5, 2))
    row = ended(episode)
    assert row.closed_on is None  # nothing was written
    assert row.ended_on == D(2013, 5, 2) and row.ended_by_rule
    assert row.rule_ends_on is None


def test_single_contact_then_back_a_year_later_ends_at_the_opening(db):
    patient = PatientFactory()
    episode = EpisodeFactory(patient=patient, opened_on=D(2015, 3, 15))
    VisitFactory(patient=patient, date=D(2016, 4, 1))
    assert ended(episode).ended_on == D(2015, 3, 15)


def test_running_episode_shows_the_day_the_rule_will_end_it(db):
    patient = PatientFactory()
    episode = EpisodeFactory(patient=patient, opened_on=TODAY() - datetime.timedelta(days=40))
    last = TODAY() - datetime.timedelta(days=10)
    VisitFactory(patient=patient, date=last)
    row = ended(episode)
    assert row.ended_on is None and not row.ended_by_rule
    assert row.rule_ends_on == selectors.months_after(last, 6)


def test_hand_closure_before_the_rule_stands(db):
    patient = PatientFactory()
    episode = EpisodeFactory(patient=patient, opened_on=D(2020, 1, 10), closed_on=D(2020, 4, 1),
                             closure_reason="moved")
    assert ended(episode).ended_on == D(2020, 4, 1)
    assert not ended(episode).ended_by_rule


def test_hand_closure_after_the_rule_gives_way_to_it(db):
    patient = PatientFactory()
    episode = EpisodeFactory(patient=patient, opened_on=D(2020, 1, 10), closed_on=D(2021, 5, 1),
                             closure_reason="lost_contact")
    VisitFactory(patient=patient, date=D(2020, 2, 1))
    row = ended(episode)
    assert row.ended_on == D(2020, 2, 1) and row.ended_by_rule


def test_exactly_six_calendar_months_ends_it_a_day_less_does_not(db):
    patient = PatientFactory()
    episode = EpisodeFactory(patient=patient, opened_on=D(2024, 8, 31))
    VisitFactory(patient=patient, date=D(2025, 2, 27))  # 31 Aug + 6 months is 28 Feb
    assert ended(episode).lapsed_on is None
    other = PatientFactory()
    episode = EpisodeFactory(patient=other, opened_on=D(2024, 8, 31))
    VisitFactory(patient=other, date=D(2025, 2, 28))
    assert ended(episode).ended_on == D(2024, 8, 31)


def test_backdated_contact_filling_the_gap_revives_the_reading(db):
    """The dates follow the records as they are: a contact entered later, inside the gap,
    removes the gap."""
    patient = PatientFactory()
    episode = EpisodeFactory(patient=patient, opened_on=D(2022, 1, 5))
    VisitFactory(patient=patient, date=D(2022, 9, 1))
    assert ended(episode).ended_on == D(2022, 1, 5)
    ConsultationFactory(patient=patient, date=D(2022, 5, 1))
    assert ended(episode).lapsed_on is None


def test_group_attendance_and_a_session_moved_count(db):
    patient = PatientFactory()
    episode = EpisodeFactory(patient=patient, opened_on=D(2022, 1, 5))
    VisitFactory(patient=patient, date=D(2022, 9, 1))
    session = GroupSessionFactory(date=D(2021, 1, 1))
    GroupAttendanceFactory(patient=patient, session=session)
    assert ended(episode).ended_on == D(2022, 1, 5)
    session.date = D(2022, 4, 1)
    session.save(update_fields=["date"])
    assert ended(episode).lapsed_on is None


def test_database_dates_equal_the_apps_contact_definition(db):
    """``patients_contact_days`` (the SQL the triggers use) gives the same days as the
    apps' ``contact_day_querysets`` (what the figures count), on a random history."""
    rng = random.Random(3)
    patients = [PatientFactory() for _ in range(6)]
    for patient in patients:
        for _ in range(8):
            day = D(2020, 1, 1) + datetime.timedelta(days=rng.randrange(1500))
            rng.choice([VisitFactory, ConsultationFactory])(patient=patient, date=day)
    ids = [p.pk for p in patients]
    with connection.cursor() as cursor:
        cursor.execute("SELECT patient_id, date FROM patients_contact_days(%s)", [ids])
        in_sql = set(cursor.fetchall())
    in_apps = set()
    for queryset in selectors.all_contact_day_querysets():
        in_apps |= set(queryset.filter(patient_id__in=ids).values_list("patient_id", "date"))
    assert in_sql == in_apps and in_sql


def test_nightly_command_records_the_end_once_and_audits_it(db):
    patient = PatientFactory()
    stale = EpisodeFactory(patient=patient, opened_on=D(2013, 3, 4))
    VisitFactory(patient=patient, date=D(2013, 5, 2))
    running = EpisodeFactory(opened_on=TODAY())
    by_hand = EpisodeFactory(opened_on=D(2020, 1, 10), closed_on=D(2021, 5, 1),
                             closure_reason="moved")
    out = StringIO()
    call_command("close_lapsed_episodes", stdout=out)
    stale.refresh_from_db()
    assert stale.lapse_recorded_on == D(2013, 5, 2)
    assert stale.closed_on is None  # the records keep deciding (a backdated contact counts)
    assert "1 episode ended" in out.getvalue()
    event = AuditEvent.objects.get(object_type="patients.episode", object_id=str(stale.pk))
    assert event.summary == "episode closed automatically: no contact for six months"
    assert event.details == {"closed_on": "2013-05-02", "reason": "six_months"}
    running.refresh_from_db()
    by_hand.refresh_from_db()
    assert running.lapse_recorded_on is None and running.closed_on is None
    assert by_hand.closed_on == D(2021, 5, 1) and by_hand.closure_reason == "moved"
    assert by_hand.lapse_recorded_on is None  # a hand closure is never touched
    # Run again: nothing more to record, the figures read the same.
    call_command("close_lapsed_episodes", stdout=StringIO())
    assert AuditEvent.objects.filter(object_type="patients.episode").count() == 1
    assert ended(stale).ended_on == D(2013, 5, 2)


def test_backdated_contact_after_the_nightly_job_still_counts(db):
    """The job ran and recorded the end; then a consultation of that time is entered: the
    figures follow the records, and the next run withdraws the recorded end (audited)."""
    patient = PatientFactory()
    episode = EpisodeFactory(patient=patient, opened_on=TODAY() - datetime.timedelta(days=300))
    VisitFactory(patient=patient, date=TODAY() - datetime.timedelta(days=290))
    call_command("close_lapsed_episodes", stdout=StringIO())
    assert ended(episode).ended_on == TODAY() - datetime.timedelta(days=290)
    ConsultationFactory(patient=patient, date=TODAY() - datetime.timedelta(days=150))
    assert ended(episode).ended_on is None  # in treatment again, by the records
    out = StringIO()
    call_command("close_lapsed_episodes", stdout=out)
    episode.refresh_from_db()
    assert episode.lapse_recorded_on is None and "1 recorded end withdrawn" in out.getvalue()
    assert AuditEvent.objects.filter(
        object_id=str(episode.pk),
        summary__startswith="end by the 6-month rule withdrawn").count() == 1


def test_patient_file_shows_the_automatic_closure_with_its_date(reception_client):
    patient = PatientFactory()
    EpisodeFactory(patient=patient, opened_on=D(2013, 3, 4))
    VisitFactory(patient=patient, date=D(2013, 5, 2))
    content = reception_client.get(f"/patients/{patient.pk}/",
                                   HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-lost-contact" in content and "02/05/2013" in content
    assert "recorded automatically" not in content
    call_command("close_lapsed_episodes", stdout=StringIO())
    content = reception_client.get(f"/patients/{patient.pk}/",
                                   HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-ended-by-rule" in content and "recorded automatically" in content
