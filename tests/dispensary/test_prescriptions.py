from django.urls import reverse

from dispensary.models import Pharmacy, Prescription, Product
from mass.models import AuditEvent
from tests.conftest import EN
from tests.dispensary.conftest import CONFIRMED, day, prescribing
from tests.factories import PrescriptionFactory, methadone_syrup


def create_url(patient):
    return reverse("dispensary:prescription_create", args=[patient.pk])


def rx_data(patient, **overrides):
    # 30 mg: a first prescription within the methadone induction rule
    return prescribing(patient, **{"product": methadone_syrup().pk, "daily_dose": "30",
                                   "start_date": day().isoformat(), **overrides})


def test_doctor_prescribes_split_dose_with_take_home(doctor_client, doctor_user, patient):
    response = doctor_client.post(create_url(patient), rx_data(patient,
        daily_dose="90", evening_dose="30", take_home_weekdays=["5", "6"],
        instructions="Swallow in front of the nurse.", **CONFIRMED), **EN)
    assert response.status_code == 302
    rx = Prescription.objects.get()
    assert (rx.daily_dose, rx.evening_dose, rx.morning_dose) == (90, 30, 60)
    assert rx.take_home_weekdays == [5, 6] and rx.prescribed_by == doctor_user
    assert rx.course_started_on == day() and rx.is_at_mass
    assert AuditEvent.objects.filter(action="create", object_id=str(rx.pk)).exists()


def test_dose_change_is_a_new_prescription_ending_the_previous(doctor_client, rx):
    response = doctor_client.post(create_url(rx.patient), rx_data(rx.patient, daily_dose="70",
                                                                   start_date=day(1).isoformat()))
    assert response.status_code == 302
    rx.refresh_from_db()
    new = Prescription.objects.get(replaces=rx)
    assert rx.end_date == day() and new.start_date == day(1) and new.daily_dose == 70
    assert new.course_started_on == rx.course_started_on
    assert Prescription.objects.count() == 2  # the history stays


def test_switch_to_buprenorphine_keeps_methadone_history(doctor_client, rx):
    bup = Product.objects.get(name="Buprenorphine sublingual tablets")
    doctor_client.post(create_url(rx.patient), rx_data(rx.patient, product=bup.pk, daily_dose="8"))
    rx.refresh_from_db()
    assert rx.end_date is None  # another substance: the doctor stops methadone explicitly
    assert Prescription.objects.filter(product=bup).exists()


def test_prescription_bad_input_writes_nothing(doctor_client, patient):
    url = create_url(patient)
    for overrides, message in [
        ({"daily_dose": "0"}, "greater than or equal to 0.01"),
        ({"daily_dose": "301"}, "Above the highest daily dose for this product (300 mg)."),
        ({"daily_dose": "abc"}, "Enter a number."),
        ({"evening_dose": "60"}, "The evening part must be less than the daily dose."),
        ({"start_date": day(-1).isoformat()}, "A prescription cannot start in the past."),
        ({"end_date": day(-1).isoformat(), "start_date": day().isoformat()},
         "The prescription cannot end before it starts."),
        ({"take_home_weekdays": [str(d) for d in range(7)]},
         "At least one day a week must be dispensed under supervision."),
        ({"take_home_weekdays": ["9"]}, "Select a valid choice."),
        ({"product": ""}, "This field is required."),
    ]:
        response = doctor_client.post(url, rx_data(patient, **overrides), **EN)
        assert response.status_code == 200 and message in response.content.decode(), overrides
    assert not Prescription.objects.exists()


def test_buprenorphine_above_24_mg_refused(doctor_client, patient):
    bup = Product.objects.get(name="Buprenorphine/naloxone sublingual tablets")
    response = doctor_client.post(create_url(patient), rx_data(patient, product=bup.pk,
                                                               daily_dose="32"), **EN)
    assert "Above the highest daily dose for this product (24 mg)." in response.content.decode()
    assert not Prescription.objects.exists()


def test_prescription_at_partner_pharmacy(doctor_client, patient):
    pharmacy = Pharmacy.objects.create(name="Pharmacie Anspach")
    doctor_client.post(create_url(patient), rx_data(patient, pharmacy=pharmacy.pk))
    assert Prescription.objects.get().pharmacy == pharmacy


def test_change_form_is_prefilled_from_the_running_prescription(doctor_client, rx):
    response = doctor_client.get(create_url(rx.patient), {"from": rx.pk}, **EN)
    content = response.content.decode()
    assert 'value="60' in content and "ends the running one" in content


def test_stop_a_prescription(doctor_client, rx):
    url = reverse("dispensary:prescription_end", args=[rx.pk])
    response = doctor_client.post(url, {"end_date": day(-1).isoformat(),
                                        "reason": "Transferred to a GP."}, **EN)
    assert response.status_code == 302
    rx.refresh_from_db()
    assert rx.end_date == day(-1) and rx.end_reason == "Transferred to a GP."


def test_stop_bad_input(doctor_client, rx):
    url = reverse("dispensary:prescription_end", args=[rx.pk])
    for data, message in [
        ({"end_date": day(-2).isoformat(), "reason": "x"},
         "The last day cannot be before yesterday."),
        ({"end_date": day().isoformat(), "reason": ""}, "This field is required."),
        ({"end_date": "tomorrow", "reason": "x"}, "Enter a valid date."),
    ]:
        response = doctor_client.post(url, data, **EN)
        assert response.status_code == 200 and message in response.content.decode(), data
    rx.refresh_from_db()
    assert rx.end_date is None


def test_nurse_cannot_prescribe(nurse_client, patient):
    assert nurse_client.post(create_url(patient), rx_data(patient)).status_code == 403
    assert not Prescription.objects.exists()


def test_prescriptions_page_lists_held_patients_for_doctors(doctor_client, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-10))
    content = doctor_client.get(reverse("dispensary:prescriptions"), **EN).content.decode()
    assert f'data-held="{rx.pk}"' in content and "Mimi" in content


def test_psychiatrist_prescribes(psychiatrist_client, patient):
    assert psychiatrist_client.post(create_url(patient), rx_data(patient)).status_code == 302
    assert Prescription.objects.count() == 1
