"""The clinical summary and the patient file's panel: what a clinician sees on one page, a
read of the file, a printable document, and a constant number of queries with 1 and with
many records."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.models import Alert
from clinical import services
from mass import contributions
from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.conftest import EN, make_staff
from tests.dispensary.conftest import own_client
from tests.factories import (
    LabResultFactory,
    PatientFactory,
    PrescriptionFactory,
    VaccinationCourseFactory,
    VaccinationDoseFactory,
)


@pytest.fixture
def patient(db):
    return PatientFactory(alias="Zaza", language="nl")


@pytest.fixture
def doctor_user(db):
    return make_staff(Role.DOCTOR, username="t_s_doctor")


def records(patient, actor, count):
    """``count`` problems, measures, alerts, hepatitis B courses begun and lab results."""
    codes = ["F11.2", "J45.9", "B18.2", "I10", "E11.9"]
    for index in range(count):
        course = VaccinationCourseFactory(patient=patient, started_by=actor)
        VaccinationDoseFactory(course=course, given_by=actor)
        LabResultFactory(patient=patient, recorded_by=actor)
        services.problem_record(patient=patient, code=codes[index], actor=actor)
        services.measurement_record(patient=patient, actor=actor, values={
            "weight_kg": Decimal(60 + index), "systolic_mmhg": 120, "diastolic_mmhg": 80,
            "qtc_ms": 430 + index})
        Alert.objects.create(patient=patient, kind="allergy", text=f"Allergy {index}",
                             recorded_by=actor)


def test_summary_shows_problems_alerts_treatment_and_measures(patient, doctor_user):
    records(patient, doctor_user, 2)
    PrescriptionFactory(patient=patient, daily_dose=70)
    client = own_client(doctor_user)
    response = client.get(reverse("clinical:summary", args=[patient.pk]), **EN)
    html = response.content.decode()
    # The clinical app's own sections, and those vaccinations and labs add.
    for key in ("problems", "alerts", "treatment", "measures", "vaccinations_due",
                "latest_tests"):
        assert f'data-summary-section="{key}"' in html
    assert "F11.2" in html and "J45.9" in html and "Allergy 1" in html and "431 ms" in html
    assert 'data-prescription="' in html and "70" in html
    # A printed document, in the patient's language (Dutch), with the Print button.
    assert 'data-document="clinical_summary"' in html and 'lang="nl"' in html
    assert "data-print" in html
    assert AuditEvent.objects.filter(patient=patient, action="view",
                                     summary__startswith="clinical summary of").count() == 1


def test_other_apps_add_their_sections_without_clinical_knowing_them(patient, doctor_user):
    section = contributions.Panel(
        key="due_vaccinations_test", title="Due vaccinations", order=50,
        template="clinical/section_alerts.html",
        context=lambda request, patient: {"alerts": [], "ecg_due": None})
    contributions.CLINICAL_SUMMARY_SECTIONS.register_panel(section)
    try:
        html = own_client(doctor_user).get(reverse("clinical:summary", args=[patient.pk]),
                                           **EN).content.decode()
    finally:
        contributions.CLINICAL_SUMMARY_SECTIONS.unregister("due_vaccinations_test")
    assert 'data-summary-section="due_vaccinations_test"' in html and "Due vaccinations" in html


@pytest.mark.parametrize("url_name", ["clinical:summary", "patients:detail"])
def test_queries_do_not_grow_with_the_records(patient, doctor_user, url_name,
                                              django_assert_num_queries):
    PrescriptionFactory(patient=patient, daily_dose=120)
    records(patient, doctor_user, 1)
    client = own_client(doctor_user)
    url = reverse(url_name, args=[patient.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    more = PatientFactory(alias="Other")
    records(more, doctor_user, 1)  # another file's records change nothing either
    services.problem_record(patient=patient, label="Free text", actor=doctor_user)
    for code in ("J45.9", "B18.2", "I10"):
        services.problem_record(patient=patient, code=code, actor=doctor_user)
    for _index in range(4):
        services.measurement_record(patient=patient, values={"pulse_bpm": 70, "qtc_ms": 440},
                                    actor=doctor_user)
        LabResultFactory(patient=patient, recorded_by=doctor_user)
        course = VaccinationCourseFactory(patient=patient, started_by=doctor_user)
        VaccinationDoseFactory(course=course, given_by=doctor_user)
    with django_assert_num_queries(len(one.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count("data-problem=") == 5


def test_merged_file_has_no_clinical_summary(patient, doctor_user):
    from patients.models import Patient
    kept = PatientFactory(alias="Kept")
    Patient.objects.filter(pk=patient.pk).update(status="merged", merged_into=kept)
    response = own_client(doctor_user).get(reverse("clinical:summary", args=[patient.pk]))
    assert response.status_code == 404


def test_a_merge_moves_the_problems_and_measures_to_the_kept_file(patient, doctor_user):
    from patients.services import patient_merge
    coordinator = make_staff(Role.COORDINATOR, username="t_merge_coord")
    kept = PatientFactory(alias="Kept")
    version = services.problem_record(patient=patient, code="B18.2", actor=doctor_user)
    measurement = services.measurement_record(patient=patient, values={"pulse_bpm": 72},
                                              actor=doctor_user)
    patient_merge(kept=kept, merged=patient, reason="Same person", actor=coordinator)
    version.problem.refresh_from_db()
    measurement.refresh_from_db()
    assert version.problem.patient_id == kept.pk and measurement.patient_id == kept.pk
    html = own_client(doctor_user).get(reverse("clinical:summary", args=[kept.pk]),
                                       **EN).content.decode()
    assert "B18.2" in html and "72 /min" in html
