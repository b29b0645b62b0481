"""One daily dose per substance and day, whatever the prescriptions: a doctor changes the
dose the day a dose was already given (issue 12, part 1)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from dispensary.models import Dispensation, Prescription, RegisterEntry
from tests.conftest import EN
from tests.dispensary.conftest import (
    CONFIRMED,
    balance,
    day,
    give,
    given_rows,
    history,
    prescribing,
)
from tests.factories import DispensationFactory, PrescriptionFactory


def prescribe_today(client, replaced, daily_dose):
    """The doctor changes the dose of ``replaced`` from today, through the form."""
    response = client.post(reverse("dispensary:prescription_create",
                                   args=[replaced.patient_id]),
                           prescribing(replaced.patient, product=replaced.product_id,
                                       daily_dose=daily_dose, start_date=day().isoformat(),
                                       **CONFIRMED),
                           **EN)
    assert response.status_code == 302, response.content.decode()
    return Prescription.objects.get(replaces=replaced)


def row_of(listing: str, rx) -> str:
    return listing.split(f'<tr id="rx-{rx.pk}"')[1].split("</tr>")[0]


def test_same_day_re_prescription_offers_exactly_the_top_up(doctor_client, nurse_client,
                                                            patient, stock):
    old = PrescriptionFactory(patient=patient, start_date=day(-10), daily_dose=30)
    history(old, days_ago=[1])
    assert give(nurse_client, old).status_code == 302  # 30 mg this morning
    new = prescribe_today(doctor_client, old, "90")
    old.refresh_from_db()
    # Replaced today: it ends today (the 30 mg given under it stay consistent with it).
    assert old.end_date == day() and new.replaces == old and new.start_date == day()
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert f'<tr id="rx-{old.pk}"' not in listing  # only the prescription in force
    row = row_of(listing, new)
    assert "due</span> 60 mg" in row and "top-up: 30 mg already given today" in row
    form = nurse_client.get(reverse("dispensary:dispense", args=[new.pk]), **EN)
    assert ("Dose changed today: 30 mg already given under the replaced prescription. The "
            "daily dose is now 90 mg: give only the top-up, at most 60 mg."
            in form.content.decode())
    before = balance()
    assert give(nurse_client, new).status_code == 302
    assert given_rows(new).get().quantity == 60
    assert balance() == before - 60
    # Nothing more today, by either prescription.
    assert "Already dispensed today at" in give(nurse_client, new).content.decode()
    assert "was replaced today" in give(nurse_client, old).content.decode()
    assert sum(e.quantity for e in given_rows(dose_date=day())) == 90
    assert balance() == before - 60


def test_prescription_started_and_replaced_today_never_ends_before_its_start(
        doctor_client, nurse_client, patient, stock):
    first = PrescriptionFactory(patient=patient, start_date=day(), daily_dose=30)
    assert give(nurse_client, first).status_code == 302
    new = prescribe_today(doctor_client, first, "90")
    first.refresh_from_db()
    assert first.end_date == day() == first.start_date
    assert new.replaces == first and new.course_started_on == first.course_started_on


def test_a_top_up_above_the_remaining_daily_dose_is_refused(doctor_client, nurse_client,
                                                           patient, stock):
    old = PrescriptionFactory(patient=patient, start_date=day(-10), daily_dose=30)
    history(old, days_ago=[1])
    give(nurse_client, old)
    new = prescribe_today(doctor_client, old, "90")
    before, entries = balance(), Dispensation.objects.count()
    for quantity in ("61", "90"):
        response = give(nurse_client, new, quantity=quantity)
        assert response.status_code == 200
        assert ("A top-up above the remaining daily dose: 30 mg already given today, the "
                "daily dose is 90 mg; at most 60 mg more may be given. Nothing was recorded."
                in response.content.decode()), quantity
    assert Dispensation.objects.count() == entries and balance() == before
    assert give(nurse_client, new, quantity="40").status_code == 302  # less is allowed


def test_a_lower_dose_the_same_day_leaves_nothing_to_give(doctor_client, nurse_client,
                                                         patient, stock):
    old = PrescriptionFactory(patient=patient, start_date=day(-10), daily_dose=90)
    history(old, days_ago=[1])
    give(nurse_client, old)
    new = prescribe_today(doctor_client, old, "60")
    row = row_of(nurse_client.get(reverse("dispensary:today"), **EN).content.decode(), new)
    assert 'data-state="done"' in row and 'data-part-state="given"' in row
    assert "data-give" not in row
    response = give(nurse_client, new)
    assert ("Nothing left to give today: 90 mg already given, the daily dose is 60 mg."
            in response.content.decode())
    assert not given_rows(new).exists()


def test_the_database_allows_the_top_up_and_nothing_more(patient):
    """Any route (a script, a future bug): after 60 mg given under the replaced prescription,
    the new one of 80 mg accepts 20 mg, not more, and the replaced one nothing."""
    old = PrescriptionFactory(patient=patient, start_date=day(-10), daily_dose=60,
                              end_date=day())
    history(old, days_ago=[1])
    DispensationFactory(prescription=old)
    new = PrescriptionFactory(patient=patient, start_date=day(), daily_dose=80, replaces=old,
                              course_started_on=old.course_started_on)
    with pytest.raises(IntegrityError, match="60.00 already given for .*, the daily dose is "
                                             "80.00"), transaction.atomic():
        DispensationFactory(prescription=new, quantity=21)
    # The trigger runs before the unique index: it names the rule.
    with pytest.raises(IntegrityError, match=f"prescription {old.pk} is not in force"), \
            transaction.atomic():
        DispensationFactory(prescription=old, quantity=10)
    top_up = DispensationFactory(prescription=new, quantity=20)
    assert top_up.quantity == Decimal(20)
    assert sum(e.quantity for e in given_rows(dose_date=day())) == 80
    assert not RegisterEntry.objects.exists()  # the factories bypass the register


# --- prescribing: a second doctor on a changed state ----------------------------------------


def test_a_prescription_saved_on_a_changed_state_is_refused(doctor_client, psychiatrist_client,
                                                            rx):
    url = reverse("dispensary:prescription_create", args=[rx.patient.pk])
    form = doctor_client.get(url, **EN).content.decode()
    based_on = form.split('name="based_on" value="')[1].split('"')[0]
    data = {"product": rx.product.pk, "start_date": day().isoformat(), "based_on": based_on,
            **CONFIRMED}
    # A colleague prescribes first, on the same state.
    assert psychiatrist_client.post(url, {**data, "daily_dose": "70"}, **EN).status_code == 302
    count = Prescription.objects.count()
    response = doctor_client.post(url, {**data, "daily_dose": "90"}, **EN)
    content = response.content.decode()
    assert response.status_code == 200
    assert "The prescriptions of Mimi changed meanwhile" in content
    assert "Nothing was recorded" in content
    assert Prescription.objects.count() == count
    assert not Prescription.objects.filter(daily_dose=90).exists()
    # The page now shows the colleague's prescription and carries its state: saving again,
    # knowingly, works.
    assert "70" in content and based_on not in content
    new_based_on = content.split('name="based_on" value="')[1].split('"')[0]
    response = doctor_client.post(url, {**data, "daily_dose": "90", "based_on": new_based_on},
                                  **EN)
    assert response.status_code == 302
    assert Prescription.objects.filter(patient=rx.patient).latest("id").daily_dose == 90


def test_a_prescription_form_without_its_state_is_refused(doctor_client, rx):
    url = reverse("dispensary:prescription_create", args=[rx.patient.pk])
    response = doctor_client.post(url, {"product": rx.product.pk, "daily_dose": "70",
                                        "start_date": day().isoformat()}, **EN)
    assert "The form is incomplete: reload the page" in response.content.decode()
    assert Prescription.objects.count() == 1


def test_a_row_loaded_before_the_change_is_replaced_by_the_new_one(doctor_client, nurse_client,
                                                                   patient, stock):
    """The list was loaded before the doctor's change: "give" on the replaced row records
    nothing, says why and puts the row of the prescription in force in its place."""
    old = PrescriptionFactory(patient=patient, start_date=day(-10), daily_dose=30)
    history(old, days_ago=[1])
    give(nurse_client, old)
    new = prescribe_today(doctor_client, old, "90")
    response = give(nurse_client, old, htmx=True)
    content = response.content.decode()
    assert "was replaced today by a new one" in content
    assert f'<tr id="rx-{new.pk}"' in content and "due</span> 60 mg" in content
    assert not given_rows(new).exists()


def test_a_second_change_the_same_day_keeps_who_ended_the_first(doctor_client,
                                                                psychiatrist_client,
                                                                doctor_user, nurse_client,
                                                                patient, stock):
    old = PrescriptionFactory(patient=patient, start_date=day(-10), daily_dose=30)
    history(old, days_ago=[1])
    give(nurse_client, old)
    middle = prescribe_today(doctor_client, old, "90")
    last = prescribe_today(psychiatrist_client, middle, "70")
    old.refresh_from_db()
    middle.refresh_from_db()
    assert (old.end_date, old.ended_by) == (day(), doctor_user)  # not rewritten
    assert middle.end_date == day() and last.course_started_on == old.course_started_on
    row = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert f'<tr id="rx-{last.pk}"' in row and f'<tr id="rx-{middle.pk}"' not in row
    assert give(nurse_client, last).status_code == 302
    assert given_rows(last).get().quantity == 40


def test_the_prescriptions_page_lists_only_the_prescription_in_force(doctor_client,
                                                                     nurse_client, patient,
                                                                     stock):
    old = PrescriptionFactory(patient=patient, start_date=day(-10), daily_dose=30)
    history(old, days_ago=[1])
    give(nurse_client, old)
    new = prescribe_today(doctor_client, old, "90")
    page = doctor_client.get(reverse("dispensary:prescriptions"), **EN).content.decode()
    assert f"?from={new.pk}" in page and f"?from={old.pk}" not in page
