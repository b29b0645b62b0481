"""Alerts at the dispensing counter: shown on the row of the list, and "doctor before any
dose" stops the dose (the row, the form, the service and the database)."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from alerts.models import Alert
from dispensary.models import Dispensation
from mass.accounts.roles import Role
from tests.conftest import EN, make_staff
from tests.dispensary.conftest import add_stock, day, give, history, own_client
from tests.factories import AlertFactory, DispensationFactory, PatientFactory, PrescriptionFactory


@pytest.fixture
def rx(db):
    add_stock()
    prescription = PrescriptionFactory(patient=PatientFactory(alias="Kéké"), start_date=day(-30))
    history(prescription, days_ago=[1])
    return prescription


@pytest.fixture
def nurse(db):
    return own_client(make_staff(Role.NURSE, username="t_alert_nurse"))


@pytest.fixture
def doctor_first(rx):
    return AlertFactory(patient=rx.patient, kind="doctor_first", text="Seen very drowsy",
                        recorded_by=make_staff(Role.DOCTOR, username="t_alert_doctor"))


def row_of(html: str, rx) -> str:
    start = html.index(f'id="rx-{rx.pk}"')
    return html[start:html.index("</tr>", start)]


def test_row_shows_the_alerts_the_nurse_reads(nurse, rx):
    AlertFactory(patient=rx.patient, kind="allergy", text="Penicillin")
    AlertFactory(patient=rx.patient, kind="behaviour", text="Not alone with him")
    ended = AlertFactory(patient=rx.patient, kind="pregnancy", text="Pregnant")
    Alert.objects.filter(pk=ended.pk).update(ended_at=ended.recorded_at, end_reason="Over")
    row = row_of(nurse.get(reverse("dispensary:today"), **EN).content.decode(), rx)
    assert 'data-alert="allergy"' in row and "Penicillin" in row
    assert 'data-alert="behaviour"' in row and "Not alone with him" in row
    assert "Pregnant" not in row
    assert "data-give=" in row  # an allergy informs, it does not stop the dose


def test_row_escapes_the_alert_text(nurse, rx):
    AlertFactory(patient=rx.patient, kind="allergy", text="<b>latex</b>")
    row = row_of(nurse.get(reverse("dispensary:today"), **EN).content.decode(), rx)
    assert "&lt;b&gt;latex&lt;/b&gt;" in row and "<b>latex" not in row


def test_row_says_call_a_doctor_instead_of_the_dose(nurse, rx, doctor_first):
    row = row_of(nurse.get(reverse("dispensary:today"), **EN).content.decode(), rx)
    assert "data-doctor-first" in row
    assert "Call a doctor: a doctor must see this person before any dose." in row
    assert "data-give=" not in row
    assert "Seen very drowsy" in row


def test_downtime_sheet_prints_the_alerts_the_reader_may_read(rx, doctor_first):
    AlertFactory(patient=rx.patient, kind="behaviour", text="Not alone with him")
    sheet = own_client(make_staff(Role.NURSE, username="t_sheet_nurse"))
    page = sheet.get(reverse("dispensary:downtime_sheet"), **EN).content.decode()
    today = page.split('data-sheet-day="tomorrow"', 1)[0]
    assert 'data-alert="doctor_first"' in today and "Seen very drowsy" in today
    assert "Not alone with him" in today
    tomorrow = page.split('data-sheet-day="tomorrow"', 1)[1]
    assert "Seen very drowsy" in tomorrow
    # No blank to write a dose given on paper: no dose may be given.
    row = today.split(f'data-sheet-row="{rx.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "data-no-dose" in row and "downtime-blank" not in row


def test_dispense_form_says_doctor_first_and_offers_no_give(nurse, rx, doctor_first):
    html = nurse.get(reverse("dispensary:dispense", args=[rx.pk]), **EN).content.decode()
    assert "data-doctor-first" in html and "Seen very drowsy" in html
    assert 'value="give" class="btn btn-success" disabled' in html


def test_dispensing_record_offers_the_doctor_to_end_the_alert(rx, doctor_first):
    doctor = own_client(make_staff(Role.DOCTOR))
    html = doctor.get(reverse("dispensary:patient", args=[rx.patient.pk]), **EN).content.decode()
    assert "Seen by you? End the alert…" in html
    assert reverse("alerts:list", args=[rx.patient.pk]) in html


@pytest.mark.parametrize("htmx", [False, True])
def test_dose_refused_while_a_doctor_must_see_the_person(nurse, rx, doctor_first, htmx):
    before = Dispensation.objects.count()
    response = give(nurse, rx, htmx=htmx)
    html = response.content.decode()
    assert "A doctor must see this person before any dose" in html
    assert "Nothing was recorded" in html
    assert Dispensation.objects.count() == before


def test_withholding_is_still_recorded(nurse, rx, doctor_first):
    response = nurse.post(reverse("dispensary:dispense", args=[rx.pk]), {
        "part": "day", "intoxication": "signs", "action": "withhold",
        "withheld_reason": "intoxication", "observations": "Drowsy"}, **EN)
    assert response.status_code == 302
    assert Dispensation.objects.filter(prescription=rx, status="withheld").count() == 1


def test_dose_given_once_the_doctor_ended_the_alert(nurse, rx, doctor_first):
    doctor = own_client(make_staff(Role.DOCTOR))
    doctor.post(reverse("alerts:end", args=[doctor_first.pk]),
                {"reason": "Seen: fine, usual dose"})
    response = give(nurse, rx)
    assert response.status_code == 302
    assert Dispensation.objects.filter(prescription=rx, date=day(), status="given").count() == 1


def test_database_refuses_a_dose_while_a_doctor_must_see_the_person(rx, doctor_first):
    with pytest.raises(IntegrityError, match="before any dose"), transaction.atomic():
        DispensationFactory(prescription=rx, date=day())
    # Withheld: recorded. A dose given before the alert (entered after the fact): recorded.
    withheld = DispensationFactory(prescription=rx, date=day(), status="withheld", quantity=0,
                                   withheld_reason="refused")
    earlier = doctor_first.recorded_at - datetime.timedelta(hours=1)
    paper = DispensationFactory(prescription=rx, date=day(), dispensed_at=earlier,
                                replaces=withheld)
    assert (withheld.status, paper.status) == ("withheld", "given")


@pytest.mark.parametrize("with_alerts", [1, 3])
def test_list_queries_do_not_grow_with_alerts(nurse, with_alerts, django_assert_num_queries):
    from tests.dispensary.test_access import ALERTS_QUERY, LIST_QUERIES
    add_stock()
    for index in range(3):
        rx = PrescriptionFactory(patient=PatientFactory(alias=f"P{index}"), start_date=day(-20))
        history(rx, days_ago=[1])
        if index < with_alerts:
            AlertFactory(patient=rx.patient, kind="allergy", text=f"Allergy {index}")
            AlertFactory(patient=rx.patient, kind="behaviour", text=f"Behaviour {index}")
    with django_assert_num_queries(LIST_QUERIES + ALERTS_QUERY):
        html = nurse.get(reverse("dispensary:today"), **EN).content.decode()
    assert html.count('data-alert="allergy"') == with_alerts
