import datetime

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from consultations.models import GroupAttendance, GroupSession
from consultations.selectors import contact_day_querysets
from mass.accounts.roles import Role
from patients.models import Patient
from tests.conftest import EN
from tests.factories import (
    ConsultationFactory,
    GroupAttendanceFactory,
    GroupSessionFactory,
    PatientFactory,
)


def test_psychologist_records_a_group_session(psychologist_client, psychologist_user,
                                              staff_factory):
    nurse = staff_factory(Role.NURSE)
    response = psychologist_client.post(reverse("consultations:group_create"), {
        "date": timezone.localdate().isoformat(), "time": "14:00", "kind": "relaxation",
        "theme": "Breathing", "facilitators": [psychologist_user.pk, nurse.pk],
    })
    session = GroupSession.objects.get()
    assert response["Location"] == session.get_absolute_url()
    assert session.kind == "relaxation" and session.theme == "Breathing"
    assert set(session.facilitators.all()) == {psychologist_user, nurse}


def test_group_session_in_the_future_is_refused(psychologist_client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = psychologist_client.post(reverse("consultations:group_create"), {
        "date": tomorrow.isoformat(), "kind": "relaxation"}, **EN)
    assert "The date cannot be later than today." in response.content.decode()
    assert not GroupSession.objects.exists()


def test_attendance_by_file_number_or_alias(psychologist_client):
    session = GroupSessionFactory()
    by_number = PatientFactory(file_number="G-1")
    by_alias = PatientFactory(alias="Moustique")
    url = reverse("consultations:group_detail", args=[session.pk])

    psychologist_client.post(url, {"patient": "g-1"})
    psychologist_client.post(url, {"patient": "moustique"})

    assert set(session.attendances.values_list("patient", flat=True)) == {by_number.pk,
                                                                          by_alias.pk}
    page = psychologist_client.get(url).content.decode()
    assert "Moustique" in page


def test_attendance_by_alias_ignores_accents_and_case(psychologist_client):
    session = GroupSessionFactory()
    dede = PatientFactory(alias="Dédé")
    url = reverse("consultations:group_detail", args=[session.pk])

    psychologist_client.post(url, {"patient": "DEDE"})

    assert list(session.attendances.values_list("patient", flat=True)) == [dede.pk]


@pytest.mark.parametrize("text,message", [
    ("nobody", "No file matches “nobody”."),
    ("Twin", "Choose the person below: several files match"),
    ("M-1", "This file was merged into Kept"),
    ("K-1", "is already recorded in this session."),
])
def test_bad_attendance_writes_nothing(psychologist_client, text, message):
    session = GroupSessionFactory()
    PatientFactory.create_batch(2, alias="Twin")
    kept = PatientFactory(alias="Kept", file_number="K-1")
    PatientFactory(file_number="M-1", status=Patient.Status.MERGED, merged_into=kept)
    GroupAttendanceFactory(session=session, patient=kept)

    response = psychologist_client.post(
        reverse("consultations:group_detail", args=[session.pk]), {"patient": text}, **EN)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert session.attendances.count() == 1


def test_reception_sees_groups_but_cannot_add(reception_client):
    session = GroupSessionFactory()
    patient = PatientFactory()
    assert reception_client.get(reverse("consultations:groups")).status_code == 403
    assert reception_client.get(reverse("consultations:group_detail",
                                        args=[session.pk])).status_code == 200
    response = reception_client.post(reverse("consultations:group_detail", args=[session.pk]),
                                     {"patient": patient.file_number})
    assert response.status_code == 403
    assert not GroupAttendance.objects.exists()


def test_attendance_is_kept(db):
    attendance = GroupAttendanceFactory()
    with pytest.raises(DatabaseError), transaction.atomic():
        attendance.delete()
    kept = PatientFactory()
    # A merge may move it, to the file its own was merged into only.
    with pytest.raises(DatabaseError), transaction.atomic():
        GroupAttendance.objects.filter(pk=attendance.pk).update(patient=kept)
    Patient.objects.filter(pk=attendance.patient_id).update(status=Patient.Status.MERGED,
                                                            merged_into=kept)
    GroupAttendance.objects.filter(pk=attendance.pk).update(patient=kept)
    attendance.refresh_from_db()
    assert attendance.patient == kept


def test_group_list_constant_queries(psychologist_client, staff_factory,
                                     django_assert_num_queries):
    url = reverse("consultations:groups")
    facilitator = staff_factory(Role.NURSE)
    first = GroupAttendanceFactory(session=GroupSessionFactory(date=timezone.localdate()))
    psychologist_client.get(url)
    with django_assert_num_queries(9):
        psychologist_client.get(url)
    expected = {first.session_id: 1}
    for _ in range(3):
        session = GroupSessionFactory()
        session.facilitators.add(facilitator)
        GroupAttendanceFactory.create_batch(2, session=session)
        expected[session.pk] = 2
    with django_assert_num_queries(9):
        response = psychologist_client.get(url)
    assert {session.pk: session.attendance_count
            for session in response.context["page"].object_list} == expected


def test_contact_days_are_consultations_and_attendances(db):
    patient = PatientFactory()
    day = datetime.date(2016, 3, 1)
    ConsultationFactory(patient=patient, date=day, author=None)
    ConsultationFactory(patient=patient, date=day, author=None)
    GroupAttendanceFactory(patient=patient, session=GroupSessionFactory(date=day))
    GroupAttendanceFactory(patient=patient,
                           session=GroupSessionFactory(date=datetime.date(2016, 3, 2)))

    first, *rest = contact_day_querysets()
    pairs = list(first.union(*rest).order_by())  # UNION (not ALL): the distinct contacts

    assert sorted((p["patient_id"], p["date"]) for p in pairs) == [
        (patient.pk, day), (patient.pk, datetime.date(2016, 3, 2))]


@pytest.mark.parametrize("participants", [1, 3, 20])
def test_group_session_page_constant_queries(psychologist_client, staff_factory,
                                             django_assert_num_queries, participants):
    session = GroupSessionFactory(date=timezone.localdate())
    for _ in range(participants):
        session.facilitators.add(staff_factory(Role.NURSE))
        GroupAttendanceFactory(session=session)
    url = reverse("consultations:group_detail", args=[session.pk])
    psychologist_client.get(url)  # session and permission caches, as every other page warms
    # Session, user, permissions and roles (one); the session with its site, its facilitators and
    # its attendances with their patients; session save (3); the read row naming who
    # attended (one INSERT, mass.audit.audit_list_read).
    with django_assert_num_queries(10):
        response = psychologist_client.get(url)
    content = response.content.decode()
    assert content.count("data-attendance=") == participants
