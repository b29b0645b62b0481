"""After a dose withheld for signs of intoxication: the row says so, nothing is given with one
click, a later dose needs a new assessment on the form, and no take-home dose is handed that
day."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from dispensary.models import Dispensation, RegisterEntry
from mass.models import AuditEvent
from tests.conftest import EN
from tests.dispensary.conftest import balance, day, give, given_rows, history
from tests.dispensary.test_access import ALERTS_QUERY, LIST_QUERIES
from tests.factories import DispensationFactory, PatientFactory, PrescriptionFactory


def dispense_url(rx):
    return reverse("dispensary:dispense", args=[rx.pk])


def withhold_for_intoxication(client, rx, part="day"):
    response = client.post(dispense_url(rx), {
        "part": part, "intoxication": "signs", "observations": "drowsy, slurred speech",
        "action": "withhold"}, **EN)
    assert response.status_code == 302
    return Dispensation.objects.get(prescription=rx, date=day(), part=part,
                                    status="withheld")


def withheld_at(entry) -> str:
    return timezone.localtime(entry.dispensed_at).strftime("%H:%M")


@pytest.fixture
def rx_with_take_home(patient, stock):
    """Methadone 60 mg a day, tomorrow's dose taken home today, last dose yesterday."""
    prescription = PrescriptionFactory(patient=patient, start_date=day(-10),
                                       take_home_weekdays=[day(1).weekday()])
    history(prescription, days_ago=[1])
    return prescription


def ledger_today():
    return list(Dispensation.objects.filter(date=day()).order_by("id")
                .values_list("id", "status"))


def test_row_after_withheld_dose_says_so_without_one_click_give(nurse_client,
                                                                 rx_with_take_home):
    rx = rx_with_take_home
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert f'data-give="{rx.pk}-day"' in listing and "+ 1 take-home day" in listing
    withheld = withhold_for_intoxication(nurse_client, rx)
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert f"Withheld at {withheld_at(withheld)}: signs of intoxication." in listing
    assert f'data-give="{rx.pk}-day"' not in listing and "take-home day" not in listing
    assert f'data-reassess="{rx.pk}-day"' in listing
    # The patient file shows the same.
    record = nurse_client.get(reverse("dispensary:patient", args=[rx.patient_id]),
                              **EN).content.decode()
    assert f'data-give="{rx.pk}-day"' not in record
    assert f'data-reassess="{rx.pk}-day"' in record and "data-withheld-intoxication" in record


def test_withheld_for_another_reason_keeps_the_one_click_give(nurse_client, rx):
    nurse_client.post(dispense_url(rx), {"part": "day", "intoxication": "none",
                                         "action": "withhold", "withheld_reason": "refused"},
                      **EN)
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert f'data-give="{rx.pk}-day"' in listing and "data-withheld-intoxication" not in listing


@pytest.mark.parametrize("htmx", [False, True])
def test_one_click_give_after_withheld_dose_is_refused(nurse_client, rx, htmx):
    withheld = withhold_for_intoxication(nurse_client, rx)
    before, stock_before = ledger_today(), balance()
    response = give(nurse_client, rx, htmx=htmx)
    content = response.content.decode()
    assert (f"A dose was withheld today at {withheld_at(withheld)} for signs of intoxication"
            in content)
    assert "record a new assessment" in content
    assert ledger_today() == before and balance() == stock_before


def test_form_without_the_new_assessment_is_refused(nurse_client, rx):
    withhold_for_intoxication(nurse_client, rx)
    form = nurse_client.get(dispense_url(rx), {"part": "day"}, **EN).content.decode()
    assert 'name="reassessment"' in form and 'name="intoxication"' not in form
    assert "No take-home doses today." in form
    before = ledger_today()
    response = nurse_client.post(dispense_url(rx), {"part": "day", "action": "give"}, **EN)
    assert "Record the intoxication check before every dose." in response.content.decode()
    assert ledger_today() == before


def test_give_after_new_assessment_records_it(nurse_client, nurse_user, rx):
    withheld = withhold_for_intoxication(nurse_client, rx)
    stock_before = balance()
    response = nurse_client.post(dispense_url(rx), {
        "part": "day", "reassessment": "none_now", "action": "give",
        "next": reverse("dispensary:today")}, **EN)
    assert response.status_code == 302
    given = given_rows(rx, dose_date=day()).get()
    assert given.reassessment_of == withheld and given.replaces == withheld
    assert given.intoxication_signs is False and given.quantity == 60
    assert balance() == stock_before - 60
    assert RegisterEntry.objects.filter(dispensation=given, kind="dispensed").exists()
    assert AuditEvent.objects.filter(
        actor=nurse_user, object_id=str(given.pk),
        summary__contains="after a new intoxication assessment").exists()
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert 'data-state="done"' in listing and "data-withheld-intoxication" in listing
    record = nurse_client.get(reverse("dispensary:patient", args=[rx.patient_id]),
                              **EN).content.decode()
    assert record.count("data-reassessed") == 1
    assert "after a new intoxication assessment" in record


def test_signs_persist_withholds_again_with_the_assessment(nurse_client, rx):
    first = withhold_for_intoxication(nurse_client, rx)
    refused = nurse_client.post(dispense_url(rx), {
        "part": "day", "reassessment": "signs_again", "action": "give"}, **EN)
    assert "the dose must be withheld, not given" in refused.content.decode()
    response = nurse_client.post(dispense_url(rx), {
        "part": "day", "reassessment": "signs_again", "observations": "still drowsy",
        "action": "withhold"}, **EN)
    assert response.status_code == 302
    second = Dispensation.objects.get(replaces=first)
    assert second.status == "withheld" and second.intoxication_signs
    assert second.withheld_reason == "intoxication" and second.reassessment_of == first
    assert not given_rows(rx, dose_date=day()).exists()


def test_no_take_home_doses_the_day_of_a_withheld_dose(nurse_client, rx_with_take_home):
    rx = rx_with_take_home
    withhold_for_intoxication(nurse_client, rx)
    before, stock_before = ledger_today(), balance()
    response = nurse_client.post(dispense_url(rx), {
        "part": "day", "reassessment": "none_now", "action": "give",
        "hand_take_home": "on"}, **EN)
    assert "No take-home doses today" in response.content.decode()
    assert ledger_today() == before and balance() == stock_before
    # Today's dose alone is given.
    nurse_client.post(dispense_url(rx), {"part": "day", "reassessment": "none_now",
                                         "action": "give"}, **EN)
    assert list(given_rows(rx, date=day()).values_list("dose_date", flat=True)) == [day()]


def test_withheld_morning_part_needs_a_new_assessment_for_the_evening(nurse_client, patient,
                                                                      stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-10), daily_dose=80,
                             evening_dose=30)
    history(rx, days_ago=[1])
    withhold_for_intoxication(nurse_client, rx, part="morning")
    response = give(nurse_client, rx, part="evening")
    assert "record a new assessment" in response.content.decode()
    assert not given_rows(rx, dose_date=day()).exists()


def test_a_cancelled_withheld_entry_does_not_count(nurse_client, doctor_client, rx):
    withheld = withhold_for_intoxication(nurse_client, rx)
    doctor_client.post(reverse("dispensary:cancel", args=[withheld.pk]),
                       {"reason": "Recorded for the wrong patient."}, **EN)
    assert Dispensation.objects.filter(pk=withheld.pk, cancellation__isnull=False).exists()
    assert give(nurse_client, rx).status_code == 302
    assert given_rows(rx, dose_date=day()).get().reassessment_of is None


@pytest.mark.parametrize("count", [1, 3])
def test_list_with_withheld_doses_constant_queries(nurse_client, django_assert_num_queries,
                                                   stock, count):
    for index in range(count):
        rx = PrescriptionFactory(patient=PatientFactory(alias=f"W{index}"),
                                 start_date=day(-10), take_home_weekdays=[day(1).weekday()])
        history(rx, days_ago=[1])
        DispensationFactory(prescription=rx, status="withheld", quantity=0,
                            intoxication_signs=True, withheld_reason="intoxication")
    with django_assert_num_queries(LIST_QUERIES + ALERTS_QUERY):
        response = nurse_client.get(reverse("dispensary:today"), **EN)
    content = response.content.decode()
    assert content.count("data-withheld-intoxication") == count
    assert content.count("data-reassess=") == count and "data-give=" not in content


def test_database_refuses_a_dose_after_a_withheld_one_without_new_assessment(rx):
    withheld = DispensationFactory(prescription=rx, status="withheld", quantity=0,
                                   intoxication_signs=True, withheld_reason="intoxication")
    with pytest.raises(IntegrityError, match="a new assessment must be recorded"), \
            transaction.atomic():
        DispensationFactory(prescription=rx, replaces=withheld)
    with pytest.raises(IntegrityError, match="no take-home dose"), transaction.atomic():
        DispensationFactory(prescription=rx, dose_date=day(1), reassessment_of=withheld)
    given = DispensationFactory(prescription=rx, replaces=withheld, reassessment_of=withheld)
    assert given_rows(rx, dose_date=day()).get() == given
