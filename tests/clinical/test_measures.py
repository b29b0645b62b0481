"""Vital signs and the ECG QTc: plausible ranges, who records and reads them, the charts, and
the QTc/dose rule with the dispensary (dispensary.rules)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from clinical import selectors, services
from clinical.models import Measurement
from dispensary.models import Dispensation
from dispensary.rules import ECG_VALID_DAYS, QT_ECG_DAILY_DOSE_MG, QTC_DOCTOR_FIRST_MS
from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.conftest import EN, make_staff
from tests.dispensary.conftest import add_stock, day, give, history, own_client
from tests.factories import PatientFactory, PrescriptionFactory


@pytest.fixture
def patient(db):
    return PatientFactory(alias="Nono")


def measure(client, patient, **fields):
    return client.post(reverse("clinical:measurement_create", args=[patient.pk]),
                       {"taken_on": "", **fields}, **EN)


@pytest.fixture
def nurse(db):
    return own_client(make_staff(Role.NURSE, username="t_m_nurse"))


@pytest.fixture
def doctor(db):
    return own_client(make_staff(Role.DOCTOR, username="t_m_doctor"))


def test_nurse_records_vital_signs_and_sees_them(nurse, patient):
    response = measure(nurse, patient, weight_kg="62.5", systolic_mmhg="128",
                       diastolic_mmhg="82", pulse_bpm="74", temperature_c="37.2",
                       spo2_percent="97", qtc_ms="432")
    assert response.status_code == 302
    row = Measurement.objects.get(patient=patient)
    assert (row.weight_kg, row.systolic_mmhg, row.diastolic_mmhg, row.qtc_ms) == (
        Decimal("62.5"), 128, 82, 432)
    assert AuditEvent.objects.filter(object_type="clinical.measurement").count() == 1
    page = nurse.get(reverse("clinical:measurements", args=[patient.pk]), **EN).content.decode()
    assert "128/82" in page and "62.5" in page
    # One small chart per measure (blood pressure: two), drawn on the server.
    assert page.count("data-measure-chart=") == 7 and "<polyline" in page


@pytest.mark.parametrize("fields, field, message", [
    ({"weight_kg": "0"}, "weight_kg", "Weight: 0 kg is outside the plausible range"),
    ({"weight_kg": "700"}, "weight_kg", "Weight: 700 kg is outside the plausible range"),
    ({"qtc_ms": "5"}, "qtc_ms", "ECG QTc: 5 ms is outside the plausible range"),
    ({"pulse_bpm": "400"}, "pulse_bpm", "Pulse: 400 /min is outside"),
    ({"temperature_c": "60"}, "temperature_c", "Temperature: 60"),
    ({"spo2_percent": "101"}, "spo2_percent", "Oxygen saturation (spo2): 101 %"),
    ({"systolic_mmhg": "120"}, "diastolic_mmhg", "enter both the systolic and the diastolic"),
    ({"systolic_mmhg": "80", "diastolic_mmhg": "90"}, "diastolic_mmhg", "below the systolic"),
    ({"systolic_mmhg": "300", "diastolic_mmhg": "90"}, "systolic_mmhg", "Blood pressure, "
     "systolic: 300 mmHg"),
    ({"weight_kg": "abc"}, "weight_kg", "Enter a number"),
    ({}, None, "Enter at least one measure"),
    ({"qtc_ms": "440", "taken_on": "2999-01-01"}, "taken_at", "cannot be in the future"),
])
def test_bad_measure_is_refused_naming_the_field(nurse, patient, fields, field, message):
    response = measure(nurse, patient, **fields)
    assert response.status_code == 200
    errors = response.context["form"].errors
    shown = " ".join(errors.get(field if field in response.context["form"].fields
                                else "__all__", []))
    assert message.lower() in shown.lower(), errors
    assert not Measurement.objects.exists()
    assert not AuditEvent.objects.filter(action="create").exists()


def test_measures_are_for_the_medical_roles(client, patient):
    for role in (Role.PSYCHOLOGIST, Role.SOCIAL_WORKER, Role.RECEPTION, Role.COORDINATOR):
        client.force_login(make_staff(role, username=f"t_mm_{role.value}"))
        assert measure(client, patient, weight_kg="60").status_code == 403
        assert client.get(reverse("clinical:measurements", args=[patient.pk])).status_code == 403
    assert not Measurement.objects.exists()


def test_measure_form_refuses_get_only_on_the_list(nurse, patient):
    assert nurse.post(reverse("clinical:measurements", args=[patient.pk])).status_code == 405


# --- the QTc / dose rule --------------------------------------------------------------------


def methadone(patient, dose):
    add_stock()
    rx = PrescriptionFactory(patient=patient, daily_dose=dose, start_date=day(-30))
    history(rx, days_ago=[1])
    return rx


def qtc(patient, value, *, days_ago=0):
    return Measurement.objects.create(
        patient=patient, qtc_ms=value,
        taken_at=timezone.now() - datetime.timedelta(days=days_ago))


def summary_of(client, patient) -> str:
    return client.get(reverse("clinical:summary", args=[patient.pk]), **EN).content.decode()


def test_ecg_due_above_the_dose_without_a_recent_qtc(doctor, patient):
    methadone(patient, QT_ECG_DAILY_DOSE_MG + 20)
    assert selectors.ecg_due(patient=patient) is not None
    assert "data-ecg-due" in summary_of(doctor, patient)
    # In the banner of every page of the patient, for the readers of QT alerts.
    for url in (reverse("patients:detail", args=[patient.pk]),
                reverse("dispensary:patient", args=[patient.pk])):
        banner = doctor.get(url, **EN).content.decode().split("data-alert-banner", 1)[1]
        assert 'data-alert="qt_ecg" data-derived-alert' in banner.split("</div>", 1)[0]
        assert "an ECG is due" in banner
    # A QTc older than 12 months does not count ...
    qtc(patient, 440, days_ago=ECG_VALID_DAYS + 1)
    assert selectors.ecg_due(patient=patient).last_qtc_on is not None
    # ... a recent one ends it at once (derived when read: nothing to end by hand).
    measure(doctor, patient, qtc_ms="450")
    assert selectors.ecg_due(patient=patient) is None
    assert "data-ecg-due" not in summary_of(doctor, patient)
    file = doctor.get(reverse("patients:detail", args=[patient.pk]), **EN).content.decode()
    assert "data-derived-alert" not in file


def test_ecg_due_on_the_dispensing_list_where_the_dose_is_given(nurse, patient,
                                                                django_assert_num_queries):
    above = methadone(patient, QT_ECG_DAILY_DOSE_MG + 20)
    below = methadone(PatientFactory(alias="Below the dose"), QT_ECG_DAILY_DOSE_MG)
    url = reverse("dispensary:today")

    def row_of(page, rx):
        return page.split(f'id="rx-{rx.pk}"', 1)[1].split("</tr>", 1)[0]

    page = nurse.get(url, **EN).content.decode()
    assert 'data-alert="qt_ecg"' in row_of(page, above) and "an ECG is due" in page
    assert 'data-alert="qt_ecg"' not in row_of(page, below)
    # A QTc today: gone from the row; the list reads the QTcs in one query whatever the rows.
    with CaptureQueriesContext(connection) as before:
        nurse.get(url)
    qtc(patient, 450)
    other = methadone(PatientFactory(alias="Also above"), QT_ECG_DAILY_DOSE_MG + 50)
    with django_assert_num_queries(len(before.captured_queries)):
        page = nurse.get(url, **EN).content.decode()
    assert 'data-alert="qt_ecg"' not in row_of(page, above)
    assert 'data-alert="qt_ecg"' in row_of(page, other)


def test_no_ecg_due_at_or_below_the_dose(doctor, patient):
    methadone(patient, QT_ECG_DAILY_DOSE_MG)
    assert selectors.ecg_due(patient=patient) is None
    assert "data-ecg-due" not in summary_of(doctor, patient)


def test_ecg_due_is_not_shown_to_who_reads_no_qt_alert(client, patient):
    methadone(patient, QT_ECG_DAILY_DOSE_MG + 20)
    client.force_login(make_staff(Role.PSYCHOLOGIST, username="t_psy_ecg"))
    assert "data-ecg-due" not in summary_of(client, patient)
    file = client.get(reverse("patients:detail", args=[patient.pk]), **EN).content.decode()
    assert "data-derived-alert" not in file and "an ECG is due" not in file


def test_qtc_above_500_stops_the_dose_until_a_doctor_ends_the_alert(nurse, doctor, patient):
    rx = methadone(patient, 80)
    response = measure(nurse, patient, qtc_ms=str(QTC_DOCTOR_FIRST_MS + 12))
    assert response.status_code == 302
    alert = Alert.objects.get(patient=patient, kind="doctor_first", ended_at__isnull=True)
    assert str(QTC_DOCTOR_FIRST_MS + 12) in alert.text
    assert AuditEvent.objects.filter(object_type="alerts.alert",
                                     object_id=str(alert.pk)).exists()
    # The counter refuses the dose.
    html = give(nurse, rx).content.decode()
    assert "A doctor must see this person before any dose" in html
    assert not Dispensation.objects.filter(prescription=rx, date=day()).exists()
    # A second high QTc does not pile up another alert to end.
    measure(nurse, patient, qtc_ms=str(QTC_DOCTOR_FIRST_MS + 30))
    assert Alert.objects.filter(patient=patient, kind="doctor_first").count() == 1
    # The doctor sees the person and ends it with a reason: the dose is given.
    doctor.post(reverse("alerts:end", args=[alert.pk]), {"reason": "Seen, dose lowered"})
    assert give(nurse, rx).status_code == 302
    assert Dispensation.objects.filter(prescription=rx, date=day(), status="given").exists()


def test_high_qtc_is_not_swallowed_by_an_alert_for_another_reason(nurse, doctor, patient):
    rx = methadone(patient, 80)
    drowsy = Alert.objects.create(patient=patient, kind="doctor_first", text="Very drowsy",
                                  recorded_by=make_staff(Role.DOCTOR, username="t_m_doc2"))
    measure(nurse, patient, qtc_ms=str(QTC_DOCTOR_FIRST_MS + 60))
    qtc_alert = Alert.objects.get(patient=patient, kind="doctor_first", ended_at__isnull=True,
                                  text__contains=str(QTC_DOCTOR_FIRST_MS + 60))
    # The doctor ends the drowsiness alert: the ECG's still stops the dose.
    doctor.post(reverse("alerts:end", args=[drowsy.pk]), {"reason": "Not drowsy today"})
    assert "A doctor must see this person before any dose" in give(nurse, rx).content.decode()
    assert not Dispensation.objects.filter(prescription=rx, date=day()).exists()
    doctor.post(reverse("alerts:end", args=[qtc_alert.pk]), {"reason": "ECG seen, dose kept"})
    assert give(nurse, rx).status_code == 302


def test_the_alert_of_a_withdrawn_qtc_does_not_stand_for_a_real_one(nurse, doctor, patient):
    rx = methadone(patient, 80)
    measure(nurse, patient, qtc_ms=str(QTC_DOCTOR_FIRST_MS + 20))
    typo = Measurement.objects.get(patient=patient)
    nurse.post(reverse("clinical:measurement_withdraw", args=[typo.pk]),
               {"reason": "Typed 520 for 420"})
    assert typo.withdrawal is not None
    measure(nurse, patient, qtc_ms=str(QTC_DOCTOR_FIRST_MS + 40))
    first = Alert.objects.get(patient=patient, text__contains=str(QTC_DOCTOR_FIRST_MS + 20))
    doctor.post(reverse("alerts:end", args=[first.pk]), {"reason": "The 520 was a typo"})
    assert Alert.objects.filter(patient=patient, kind="doctor_first", ended_at__isnull=True,
                                text__contains=str(QTC_DOCTOR_FIRST_MS + 40)).exists()
    assert not Dispensation.objects.filter(prescription=rx, date=day()).exists()
    assert "A doctor must see this person before any dose" in give(nurse, rx).content.decode()


def test_qtc_at_500_records_no_alert(nurse, patient):
    measure(nurse, patient, qtc_ms=str(QTC_DOCTOR_FIRST_MS))
    assert not Alert.objects.filter(patient=patient).exists()


def test_measures_queries_do_not_grow(nurse, patient, django_assert_num_queries):
    url = reverse("clinical:measurements", args=[patient.pk])
    services.measurement_record(patient=patient, values={"weight_kg": Decimal(60)},
                                actor=make_staff(Role.NURSE, username="t_q_n"))
    nurse.get(url)
    with CaptureQueriesContext(connection) as one:
        nurse.get(url)
    for value in (61, 62):
        Measurement.objects.create(patient=patient, weight_kg=value, pulse_bpm=70)
    with django_assert_num_queries(len(one.captured_queries)):
        page = nurse.get(url).content.decode()
    assert page.count("data-measurement=") == 3


# --- a measurement entered in error ---------------------------------------------------------


def test_withdrawn_measurement_counts_nowhere_but_stays_listed(nurse, doctor, patient):
    methadone(patient, QT_ECG_DAILY_DOSE_MG + 20)
    measure(nurse, patient, qtc_ms="452", weight_kg="61")
    row = Measurement.objects.get(patient=patient)
    assert selectors.ecg_due(patient=patient) is None
    url = reverse("clinical:measurement_withdraw", args=[row.pk])
    response = nurse.post(url, {"reason": "Another patient's ECG"}, **EN)
    assert response.status_code == 302
    assert row.__class__.objects.get(pk=row.pk).withdrawal.reason == "Another patient's ECG"
    assert AuditEvent.objects.filter(summary="measurement withdrawn").count() == 1
    # The rule no longer counts its QTc; the charts and last values skip it.
    assert selectors.ecg_due(patient=patient) is not None
    page = nurse.get(reverse("clinical:measurements", args=[patient.pk]), **EN).content.decode()
    assert "data-withdrawn" in page and "Another patient&#x27;s ECG" in page
    assert "data-measure-chart=" not in page
    assert "452 ms" not in summary_of(doctor, patient)


def test_withdrawal_needs_a_reason_and_happens_once(nurse, patient):
    measure(nurse, patient, pulse_bpm="80")
    row = Measurement.objects.get(patient=patient)
    url = reverse("clinical:measurement_withdraw", args=[row.pk])
    response = nurse.post(url, {"reason": "  "}, **EN)
    assert "reason" in response.context["form"].errors
    assert not hasattr(Measurement.objects.get(pk=row.pk), "withdrawal")
    nurse.post(url, {"reason": "Typo"}, **EN)
    response = nurse.post(url, {"reason": "Again"}, **EN)
    assert "already withdrawn" in " ".join(response.context["form"].non_field_errors())
    assert Measurement.objects.get(pk=row.pk).withdrawal.reason == "Typo"


def test_withdrawal_is_for_who_measures(client, patient):
    row = services.measurement_record(patient=patient, values={"pulse_bpm": 80},
                                      actor=make_staff(Role.NURSE, username="t_w_n"))
    client.force_login(make_staff(Role.PSYCHOLOGIST, username="t_w_psy"))
    url = reverse("clinical:measurement_withdraw", args=[row.pk])
    assert client.post(url, {"reason": "No"}).status_code == 403
    assert not hasattr(Measurement.objects.get(pk=row.pk), "withdrawal")


def test_an_old_high_qtc_entered_after_a_newer_one_records_no_alert(nurse, patient):
    qtc(patient, 440, days_ago=10)
    response = measure(nurse, patient, qtc_ms=str(QTC_DOCTOR_FIRST_MS + 20),
                       taken_on=str(day(-200)))
    assert response.status_code == 302
    assert Measurement.objects.filter(patient=patient).count() == 2
    assert not Alert.objects.filter(patient=patient).exists()
