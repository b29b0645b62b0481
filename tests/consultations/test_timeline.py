"""The patient timeline: every kind of contact in one chronological, paginated view."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from mass.models import AuditEvent
from patients.models import HarmReductionContact
from tests.consultations.conftest import days_ago
from tests.factories import (
    ConsultationAmendmentFactory,
    ConsultationFactory,
    DispensationFactory,
    GroupAttendanceFactory,
    GroupSessionFactory,
    PatientFactory,
    PrescriptionFactory,
    SocialActionFactory,
    VisitFactory,
)


def add_entries(patient, author, count):
    """``count`` entries of each kind, the i-th of each kind on the same day, so that the
    first page holds every kind."""
    for i in range(count):
        day = days_ago(i)
        VisitFactory(patient=patient, date=day, time=datetime.time(9, 0))
        HarmReductionContact.objects.create(patient=patient, date=day, material="syringe",
                                            handed_out=10)
        consultation = ConsultationFactory(patient=patient, author=author, date=day,
                                           time=datetime.time(10, 0), note=f"note {i}",
                                           signed_at=timezone.now(), signed_by=author)
        ConsultationAmendmentFactory(consultation=consultation, author=author)
        GroupAttendanceFactory(patient=patient, session=GroupSessionFactory(date=day))
    add_other_apps_entries(patient, count)


def add_other_apps_entries(patient, count):
    """Dispensations (one prescription covering the days) and social actions."""
    prescription = PrescriptionFactory(patient=patient, start_date=days_ago(count + 5))
    for i in range(count):
        DispensationFactory(prescription=prescription, date=days_ago(i))
        SocialActionFactory(patient=patient, opened_on=days_ago(i), notes=f"social {i}")


def test_timeline_lists_every_kind_newest_first(doctor_client, doctor_user):
    patient = PatientFactory()
    VisitFactory(patient=patient, date=days_ago(3))
    HarmReductionContact.objects.create(patient=patient, date=days_ago(2), material="foil",
                                        handed_out=5)
    ConsultationFactory(patient=patient, author=doctor_user, date=days_ago(1), note="DOC NOTE")
    GroupAttendanceFactory(patient=patient,
                           session=GroupSessionFactory(date=days_ago(0), theme="Hepatitis C"))

    response = doctor_client.get(reverse("consultations:timeline", args=[patient.pk]),
                                 HTTP_ACCEPT_LANGUAGE="en")

    kinds = [entry.kind for entry in response.context["page"].object_list]
    assert kinds == ["group", "consultation", "harm_reduction", "visit"]
    content = response.content.decode()
    assert "DOC NOTE" in content and "Hepatitis C" in content and "Foil" in content


def test_timeline_is_paginated(doctor_client, doctor_user):
    patient = PatientFactory()
    for i in range(55):
        VisitFactory(patient=patient, date=days_ago(i))
    url = reverse("consultations:timeline", args=[patient.pk])
    first = doctor_client.get(url).context["page"]
    second = doctor_client.get(url + "?page=2").context["page"]
    assert len(first.object_list) == 50 and len(second.object_list) == 5
    assert first.object_list[0].date == days_ago(0)
    assert second.object_list[-1].date == days_ago(54)


def test_reading_the_timeline_is_audited(doctor_client, doctor_user):
    patient = PatientFactory()
    doctor_client.get(reverse("consultations:timeline", args=[patient.pk]))
    assert AuditEvent.objects.filter(action="view", patient=patient, actor=doctor_user).exists()


def test_timeline_of_unknown_patient_is_404(doctor_client):
    assert doctor_client.get(reverse("consultations:timeline", args=[999999])).status_code == 404


# The patient's alerts for the banner: one query, none for the coordinator who reads none;
# one more for the readers of QT alerts (nurses, doctors): the clinical app's "ECG due".
@pytest.mark.parametrize("fixture,queries", [
    ("doctor_user", 19), ("reception_user", 18), ("psychologist_user", 18),
    ("social_worker_user", 18), ("nurse_user", 19), ("coordinator_user", 17),
])
def test_timeline_constant_queries_with_1_and_50_of_each_kind(client, request, staff_factory,
                                                              django_assert_num_queries,
                                                              fixture, queries):
    from mass.accounts.roles import Role
    reader = request.getfixturevalue(fixture)
    author = staff_factory(Role.DOCTOR)
    one, many = PatientFactory(), PatientFactory()
    add_entries(one, author, 1)
    add_entries(many, author, 50)
    client.force_login(reader)
    client.get(reverse("consultations:timeline", args=[one.pk]))  # session, caches

    with django_assert_num_queries(queries):
        first = client.get(reverse("consultations:timeline", args=[one.pk]))
    with django_assert_num_queries(queries):
        second = client.get(reverse("consultations:timeline", args=[many.pk]))

    assert first.status_code == second.status_code == 200
    assert len(second.context["page"].object_list) == 50
    kinds_on_page = {entry.kind for entry in second.context["page"].object_list}
    assert kinds_on_page == {entry.kind for entry in first.context["page"].object_list}


@pytest.mark.parametrize("role", list(Role))
def test_dispensations_in_the_timeline_follow_the_dispensary_rule(client, staff_factory, role):
    patient = PatientFactory()
    prescription = PrescriptionFactory(patient=patient, start_date=days_ago(3))
    DispensationFactory(prescription=prescription, date=days_ago(1))
    client.force_login(staff_factory(role))

    response = client.get(reverse("consultations:timeline", args=[patient.pk]),
                          HTTP_ACCEPT_LANGUAGE="en")

    content = response.content.decode()
    assert "Dispensation" in content  # everyone sees that a dose was given that day
    readers = {Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST}
    assert ("Methadone" in content) is (role in readers)


@pytest.mark.parametrize("role", list(Role))
def test_social_actions_in_the_timeline_follow_the_social_rule(client, staff_factory, role):
    patient = PatientFactory()
    SocialActionFactory(patient=patient, type="housing", notes="SOCIAL-SECRET")
    client.force_login(staff_factory(role))

    content = client.get(reverse("consultations:timeline", args=[patient.pk]),
                         HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Housing" in content  # dates and kinds for everyone
    readers = {Role.SOCIAL_WORKER, Role.DOCTOR, Role.PSYCHIATRIST}
    assert ("SOCIAL-SECRET" in content) is (role in readers)


def test_social_action_author_reads_own_notes_in_the_timeline(client, staff_factory):
    author = staff_factory(Role.NURSE)
    action = SocialActionFactory(notes="MY-SOCIAL-NOTE", created_by=author,
                                 social_worker=staff_factory(Role.SOCIAL_WORKER))
    client.force_login(author)
    content = client.get(reverse("consultations:timeline", args=[action.patient_id])).content
    assert "MY-SOCIAL-NOTE" in content.decode()


def test_cancelled_dispensation_is_not_a_timeline_entry(doctor_client, nurse_user):
    from dispensary.models import DispensationCancellation
    dispensation = DispensationFactory()
    DispensationCancellation.objects.create(dispensation=dispensation, reason="wrong patient",
                                            cancelled_at=timezone.now(),
                                            cancelled_by=nurse_user)
    page = doctor_client.get(reverse("consultations:timeline",
                                     args=[dispensation.patient_id])).context["page"]
    assert [e.kind for e in page.object_list] == []
