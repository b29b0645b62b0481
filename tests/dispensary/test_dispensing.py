"""Dispensing through the HTTP client: one rule per test, asserting the ledger and the
register, not only the response."""

from decimal import Decimal

import pytest
from django.urls import reverse

from dispensary.models import (
    Dispensation,
    DispensationCancellation,
    HoldReview,
    Prescription,
    RegisterEntry,
)
from mass.accounts.roles import Role
from mass.models import AuditEvent
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
from tests.factories import DispensationFactory, PatientFactory, PrescriptionFactory

#: Queries of a dose given from the list with htmx, whatever the length of the list (the
#: patients' active alerts, their last QTc ("ECG due") and the centre's calendar, each read
#: twice: by the service's rules and by the row sent back).
GIVE_HTMX_QUERIES = 32


def dispense_url(rx):
    return reverse("dispensary:dispense", args=[rx.pk])


# --- the list -------------------------------------------------------------------------------


def test_list_shows_due_patient_with_one_click_button(nurse_client, rx):
    response = nurse_client.get(reverse("dispensary:today"), **EN)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Mimi" in content and 'data-state="due"' in content
    assert f'data-give="{rx.pk}-day"' in content
    assert "no signs of intoxication" in content


def test_give_from_list_records_dose_register_and_audit(nurse_client, nurse_user, rx):
    before = balance()
    response = give(nurse_client, rx)
    assert response.status_code == 302 and response["Location"] == reverse("dispensary:today")
    entry = given_rows(rx, dose_date=day()).get()
    assert entry.quantity == Decimal(60) and entry.dispensed_by == nurse_user
    assert entry.intoxication_signs is False and entry.date == day()
    assert balance() == before - 60
    assert RegisterEntry.objects.filter(dispensation=entry, kind="dispensed",
                                        quantity=-60).exists()
    assert AuditEvent.objects.filter(actor=nurse_user, action="create", patient=rx.patient,
                                     object_id=str(entry.pk)).exists()
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert 'data-state="done"' in listing and f"by {nurse_user}" in listing


def test_give_with_htmx_returns_the_updated_row(nurse_client, rx):
    response = give(nurse_client, rx, htmx=True)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith(f'<tr id="rx-{rx.pk}"')
    assert 'data-part-state="given"' in content and "Mimi: 60 mg" in content
    assert given_rows(rx, dose_date=day()).count() == 1


def test_list_search_filters_by_alias_or_file_number(nurse_client, rx, stock):
    other = PrescriptionFactory(patient=PatientFactory(alias="Zorro"), start_date=day(-2))
    history(other, days_ago=[1])
    content = nurse_client.get(reverse("dispensary:today"), {"q": "zor"}, **EN).content.decode()
    assert "Zorro" in content and "Mimi" not in content


@pytest.mark.parametrize("query", ["dede", "DEDE", "Dédé", "dÉdÉ"])
def test_list_search_ignores_accents_and_case(nurse_client, rx, stock, query):
    dede = PrescriptionFactory(patient=PatientFactory(alias="Dédé"), start_date=day(-2))
    history(dede, days_ago=[1])
    content = nurse_client.get(reverse("dispensary:today"), {"q": query}, **EN).content.decode()
    assert content.count('class="dose-row') == 1
    assert 'class="fw-bold">Dédé</a>' in content and "Mimi" not in content


def test_list_search_takes_wildcards_literally(nurse_client, stock):
    for alias in ("A_B", "AXB", "50%"):
        rx = PrescriptionFactory(patient=PatientFactory(alias=alias), start_date=day(-2))
        history(rx, days_ago=[1])
    for query, shown in (("_", ["A_B"]), ("%", ["50%"]), ("a", ["A_B", "AXB"])):
        content = nurse_client.get(reverse("dispensary:today"), {"q": query}).content.decode()
        assert content.count('class="dose-row') == len(shown), query
        assert all(f'class="fw-bold">{alias}</a>' in content for alias in shown), query


def test_list_rows_escape_what_they_show(nurse_client, stock):
    rx = PrescriptionFactory(patient=PatientFactory(alias="Zoé <b>&", file_number="T<9>"),
                             start_date=day(-2), instructions='Boire <lentement> & "calme"')
    history(rx, days_ago=[1])
    content = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    row = content.split(f'<tr id="rx-{rx.pk}"')[1].split("</tr>")[0]
    assert 'data-filter-text="zoé &lt;b&gt;&amp; t&lt;9&gt;"' in row
    assert ">Zoé &lt;b&gt;&amp;</a>" in row and ">T&lt;9&gt;</div>" in row
    assert "Boire &lt;lentement&gt; &amp; &quot;calme&quot;" in row and "<b>" not in row


def test_list_orders_held_then_due_then_done(nurse_client, rx, stock):
    held = PrescriptionFactory(patient=PatientFactory(alias="Zed"), start_date=day(-10))
    history(held, days_ago=[5])
    done = PrescriptionFactory(patient=PatientFactory(alias="Abel"), start_date=day(-3))
    history(done, days_ago=[1, 0])
    content = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert content.index("Zed") < content.index("Mimi") < content.index("Abel")


def test_partner_pharmacy_and_ended_prescriptions_are_not_on_the_list(nurse_client, stock):
    from dispensary.models import Pharmacy
    PrescriptionFactory(patient=PatientFactory(alias="Pharma"), start_date=day(-3),
                        pharmacy=Pharmacy.objects.create(name="Pharmacie du Midi"))
    PrescriptionFactory(patient=PatientFactory(alias="Ended"), start_date=day(-10),
                        end_date=day(-1))
    PrescriptionFactory(patient=PatientFactory(alias="Later"), start_date=day(2),
                        course_started_on=day(2))
    content = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert "Pharma" not in content and "Ended" not in content and "Later" not in content


# --- never twice ----------------------------------------------------------------------------


def test_second_dose_same_day_is_refused_with_who_and_when(nurse_client, staff_factory, rx):
    give(nurse_client, rx)
    other_nurse = staff_factory(Role.NURSE, username="t_nurse2")
    nurse_client.force_login(other_nurse)
    response = give(nurse_client, rx)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Already dispensed today at" in content and "by " in content
    assert given_rows(rx, dose_date=day()).count() == 1
    assert RegisterEntry.objects.filter(kind="dispensed").count() == 1


def test_dose_change_the_same_day_cannot_double_the_dose(doctor_client, nurse_client,
                                                         nurse_user, rx):
    give(nurse_client, rx)  # 60 mg this morning
    # The doctor raises the dose to 80 mg from today: only 20 mg more may be given.
    doctor_client.post(reverse("dispensary:prescription_create", args=[rx.patient.pk]),
                       prescribing(rx.patient, product=rx.product.pk, daily_dose="80",
                                   start_date=day().isoformat(), **CONFIRMED), **EN)
    new_rx = Prescription.objects.get(replaces=rx)
    response = give(nurse_client, new_rx, quantity="80")
    assert ("A top-up above the remaining daily dose: 60 mg already given today, the daily "
            "dose is 80 mg; at most 20 mg more may be given." in response.content.decode())
    assert given_rows(new_rx).count() == 0
    # The one-click "give" gives exactly the top-up.
    response = give(nurse_client, new_rx)
    assert response.status_code == 302
    assert given_rows(new_rx).get().quantity == 20
    assert sum(e.quantity for e in given_rows(dose_date=day())) == 80


def test_split_dose_each_part_once(nurse_client, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-5), daily_dose=90,
                             evening_dose=30)
    DispensationFactory(prescription=rx, date=day(-1), part="morning", quantity=60)
    assert give(nurse_client, rx, part="day").status_code == 200  # not a part of it
    assert give(nurse_client, rx, part="morning").status_code == 302
    assert "Already dispensed" in give(nurse_client, rx, part="morning").content.decode()
    assert give(nurse_client, rx, part="evening").status_code == 302
    parts = dict(given_rows(rx, dose_date=day()).values_list("part", "quantity"))
    assert parts == {"morning": Decimal(60), "evening": Decimal(30)}


# --- prescription and quantity --------------------------------------------------------------


def test_no_active_prescription_refused(nurse_client, patient, stock):
    ended = PrescriptionFactory(patient=patient, start_date=day(-10), end_date=day(-1))
    response = give(nurse_client, ended)
    assert "No active prescription today" in response.content.decode()
    assert not Dispensation.objects.filter(date=day()).exists()


def test_prescription_of_partner_pharmacy_refused(nurse_client, patient, stock):
    from dispensary.models import Pharmacy
    rx = PrescriptionFactory(patient=patient, start_date=day(-1),
                             pharmacy=Pharmacy.objects.create(name="Pharmacie du Midi"))
    response = give(nurse_client, rx)
    assert "dispensed by Pharmacie du Midi" in response.content.decode()
    assert not Dispensation.objects.exists()


def test_more_than_prescribed_refused(nurse_client, rx):
    response = give(nurse_client, rx, quantity="61")
    assert "More than prescribed: the prescription gives 60 mg" in response.content.decode()
    assert not given_rows(rx, dose_date=day()).exists()


def test_less_than_prescribed_allowed(nurse_client, rx):
    assert give(nurse_client, rx, quantity="40").status_code == 302
    assert given_rows(rx, dose_date=day()).get().quantity == 40


# --- intoxication check ---------------------------------------------------------------------


def test_intoxication_check_is_required(nurse_client, rx):
    response = give(nurse_client, rx, intoxication="")
    assert "Record the intoxication check before every dose." in response.content.decode()
    assert not Dispensation.objects.filter(date=day()).exists()


def test_signs_of_intoxication_cannot_be_given(nurse_client, rx):
    response = give(nurse_client, rx, intoxication="signs", observations="slurred speech")
    assert "the dose must be withheld" in response.content.decode()
    assert not Dispensation.objects.filter(date=day()).exists()


def test_withhold_for_intoxication_records_reason_and_no_stock_moves(nurse_client, rx):
    before = balance()
    response = nurse_client.post(dispense_url(rx), {
        "part": "day", "intoxication": "signs", "observations": "pinpoint pupils, drowsy",
        "action": "withhold"}, **EN)
    assert response.status_code == 302
    entry = Dispensation.objects.get(date=day())
    assert entry.status == "withheld" and entry.withheld_reason == "intoxication"
    assert entry.intoxication_signs and entry.quantity == 0
    assert entry.observations == "pinpoint pupils, drowsy"
    assert balance() == before


def test_withhold_needs_observed_signs_described(nurse_client, rx):
    response = nurse_client.post(dispense_url(rx), {
        "part": "day", "intoxication": "signs", "action": "withhold"}, **EN)
    assert "Describe the signs observed." in response.content.decode()
    assert not Dispensation.objects.filter(date=day()).exists()


def test_withhold_without_reason_refused(nurse_client, rx):
    response = nurse_client.post(dispense_url(rx), {
        "part": "day", "intoxication": "none", "action": "withhold"}, **EN)
    assert "Say why the dose is withheld." in response.content.decode()
    assert not Dispensation.objects.filter(date=day()).exists()


def test_dose_may_be_given_after_a_withheld_one_once_sober(nurse_client, rx):
    nurse_client.post(dispense_url(rx), {"part": "day", "intoxication": "signs",
                                         "observations": "smell of alcohol",
                                         "action": "withhold"}, **EN)
    withheld = Dispensation.objects.get(date=day())
    # Once sober: on the form, after a new assessment (tests/dispensary/test_withheld.py).
    assert give(nurse_client, rx, reassessment="none_now").status_code == 302
    given = given_rows(rx, dose_date=day()).get()
    assert given.replaces == withheld and given.reassessment_of == withheld
    assert "Already dispensed" in give(nurse_client, rx).content.decode()


def test_detailed_form_shows_prescription_and_warnings(nurse_client, rx):
    response = nurse_client.get(dispense_url(rx), {"part": "day"}, **EN)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Intoxication check" in content and "Methadone syrup" in content


# --- missed days ----------------------------------------------------------------------------


def make_held(patient, missed: int):
    rx = PrescriptionFactory(patient=patient, start_date=day(-30))
    history(rx, days_ago=[missed + 1])
    return rx


def test_two_missed_days_do_not_hold(nurse_client, patient, stock):
    rx = make_held(patient, 2)
    content = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert 'data-missed="2"' in content and 'data-state="due"' in content
    assert give(nurse_client, rx).status_code == 302


def test_three_missed_days_hold_the_patient(nurse_client, patient, stock):
    rx = make_held(patient, 3)
    content = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert 'data-missed="3"' in content and 'data-state="held"' in content
    assert f'data-give="{rx.pk}-day"' not in content
    response = give(nurse_client, rx)
    assert "Held: 3 consecutive days without a dose" in response.content.decode()
    assert not given_rows(rx, dose_date=day()).exists()


def test_new_prescription_never_collected_holds_after_three_days(nurse_client, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-3))
    assert "Held: 3" in give(nurse_client, rx).content.decode()


def test_dose_change_does_not_reset_the_missed_days(nurse_client, doctor_client, patient,
                                                    stock):
    rx = make_held(patient, 2)
    doctor_client.post(reverse("dispensary:prescription_create", args=[patient.pk]),
                       prescribing(patient, product=rx.product.pk, daily_dose="50",
                                   start_date=day(1).isoformat(), **CONFIRMED), **EN)
    new_rx = Prescription.objects.get(replaces=rx)
    assert new_rx.course_started_on == rx.course_started_on
    from dispensary.selectors import dose_states
    tomorrow = dose_states(today=day(1), patient_id=patient.pk)[0]
    assert tomorrow.prescription == new_rx and tomorrow.missed_days == 3 and tomorrow.is_held


def test_take_home_days_are_not_missed(nurse_client, patient, stock):
    # Dose given three days ago with the two following days taken home: one day missed.
    rx = PrescriptionFactory(patient=patient, start_date=day(-30))
    DispensationFactory(prescription=rx, date=day(-4))
    DispensationFactory(prescription=rx, date=day(-4), dose_date=day(-3))
    DispensationFactory(prescription=rx, date=day(-4), dose_date=day(-2))
    content = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert 'data-missed="1"' in content
    assert give(nurse_client, rx).status_code == 302


def test_five_missed_days_strong_warning(nurse_client, patient, stock):
    make_held(patient, 5)
    content = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert 'data-missed="5"' in content and "High overdose risk" in content


def test_doctor_review_lifts_the_hold_for_today(doctor_client, doctor_user, nurse_client,
                                                patient, stock):
    rx = make_held(patient, 3)
    response = doctor_client.post(reverse("dispensary:review", args=[rx.pk]), {
        "decision": "resume", "note": "Seen, no signs of reduced tolerance, uses daily."},
        **EN)
    assert response.status_code == 302
    review = HoldReview.objects.get()
    assert review.reviewed_by == doctor_user and review.missed_days == 3
    assert review.reviewed_on == day()
    assert give(nurse_client, rx).status_code == 302
    assert given_rows(rx, dose_date=day()).get().review == review


def test_review_after_five_days_needs_explicit_confirmation(doctor_client, patient, stock):
    rx = make_held(patient, 6)
    page = doctor_client.get(reverse("dispensary:review", args=[rx.pk]), **EN)
    assert "data-strong-warning" in page.content.decode()
    response = doctor_client.post(reverse("dispensary:review", args=[rx.pk]), {
        "decision": "resume", "note": "Resume."}, **EN)
    assert "6 days without a dose: confirm explicitly" in response.content.decode()
    assert not HoldReview.objects.exists()
    response = doctor_client.post(reverse("dispensary:review", args=[rx.pk]), {
        "decision": "resume", "note": "In hospital, methadone given there (letter).",
        "full_dose_confirmed": "on"}, **EN)
    assert response.status_code == 302 and HoldReview.objects.get().full_dose_confirmed


def test_review_may_lower_the_dose(doctor_client, nurse_client, patient, stock):
    rx = make_held(patient, 5)
    response = doctor_client.post(reverse("dispensary:review", args=[rx.pk]), {
        "decision": "lower", "new_daily_dose": "30", "note": "Five days off: restart at 30."},
        **EN)
    assert response.status_code == 302
    review = HoldReview.objects.get()
    lowered = review.new_prescription
    assert lowered.daily_dose == 30 and lowered.start_date == day() and lowered.replaces == rx
    rx.refresh_from_db()
    assert rx.end_date == day()  # replaced today: ends today, the lower one is in force
    assert "More than prescribed" in give(nurse_client, lowered, quantity="60").content.decode()
    assert give(nurse_client, lowered).status_code == 302
    assert given_rows(dose_date=day()).get().quantity == 30


def test_review_bad_input(doctor_client, patient, stock):
    rx = make_held(patient, 3)
    url = reverse("dispensary:review", args=[rx.pk])
    for data, message in [
        ({"decision": "lower", "new_daily_dose": "60", "note": "x"}, "must be below"),
        ({"decision": "lower", "note": "x"}, "Give the new, lower daily dose."),
        ({"decision": "resume", "note": ""}, "This field is required."),
        ({"decision": "maybe", "note": "x"}, "Select a valid choice."),
    ]:
        response = doctor_client.post(url, data, **EN)
        assert response.status_code == 200 and message in response.content.decode(), data
    assert not HoldReview.objects.exists()
    assert Prescription.objects.count() == 1


def test_review_of_patient_not_held_refused(doctor_client, rx):
    response = doctor_client.post(reverse("dispensary:review", args=[rx.pk]), {
        "decision": "resume", "note": "Just in case."}, **EN)
    assert "This patient is not held" in response.content.decode()
    assert not HoldReview.objects.exists()


def test_nurse_cannot_review(nurse_client, patient, stock):
    rx = make_held(patient, 3)
    response = nurse_client.post(reverse("dispensary:review", args=[rx.pk]), {
        "decision": "resume", "note": "I think it is fine."})
    assert response.status_code == 403 and not HoldReview.objects.exists()


# --- take-home ------------------------------------------------------------------------------


def test_take_home_doses_handed_the_day_before(nurse_client, patient, stock):
    tomorrow = day(1)
    rx = PrescriptionFactory(patient=patient, start_date=day(-5),
                             take_home_weekdays=[tomorrow.weekday()])
    history(rx, days_ago=[1])
    before = balance()
    give(nurse_client, rx)
    entries = given_rows(rx, date=day()).order_by("dose_date")
    assert [(e.dose_date, e.quantity) for e in entries] == [(day(), 60), (tomorrow, 60)]
    assert balance() == before - 120
    # Tomorrow the dose is shown as taken home, and cannot be given again.
    from dispensary.selectors import dose_states
    state = dose_states(today=tomorrow, patient_id=patient.pk)[0]
    assert state.desk_state == "taken_home" and state.missed_days == 0


def test_take_home_dose_cannot_be_given_again_on_its_day(nurse_client, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-5))
    history(rx, days_ago=[1])
    DispensationFactory(prescription=rx, date=day(-1), dose_date=day())
    response = give(nurse_client, rx)
    assert "handed on" in response.content.decode() and "to take home" in \
        response.content.decode()
    assert given_rows(rx, dose_date=day()).count() == 1


def test_take_home_not_handed_when_nurse_unticks_it(nurse_client, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-5),
                             take_home_weekdays=[day(1).weekday()])
    history(rx, days_ago=[1])
    nurse_client.post(dispense_url(rx), {"part": "day", "intoxication": "none",
                                         "action": "give"}, **EN)
    assert list(given_rows(rx, date=day()).values_list("dose_date", flat=True)) == [day()]


# --- cancellation ---------------------------------------------------------------------------


def test_doctor_cancels_with_reason_and_the_dose_may_be_given_again(
        nurse_client, doctor_client, doctor_user, rx):
    give(nurse_client, rx)
    entry = given_rows(rx, dose_date=day()).get()
    before = balance()
    response = doctor_client.post(reverse("dispensary:cancel", args=[entry.pk]), {
        "reason": "Recorded for the wrong patient."}, **EN)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.cancellation.cancelled_by == doctor_user
    assert entry.status == "given" and entry.quantity == 60  # the row itself is unchanged
    assert balance() == before + 60
    assert RegisterEntry.objects.filter(kind="cancelled", dispensation=entry).exists()
    assert AuditEvent.objects.filter(action="cancel", object_id=str(entry.pk)).exists()
    assert give(nurse_client, rx).status_code == 302
    assert given_rows(rx, dose_date=day()).get().replaces == entry


def test_the_reason_of_a_cancellation_stays_with_clinicians(nurse_client, doctor_client, rx,
                                                            coordinator_user):
    """The reason may be clinical: the register and the audit trail, which coordinators
    read, name the cancelled entry, not the reason."""
    from django.test import Client
    give(nurse_client, rx)
    entry = given_rows(rx, dose_date=day()).get()
    doctor_client.post(reverse("dispensary:cancel", args=[entry.pk]),
                       {"reason": "CANCELXREASON vomited the dose"}, **EN)
    register_row = RegisterEntry.objects.get(kind="cancelled", dispensation=entry)
    assert "CANCELXREASON" not in register_row.note
    coordinator = Client()
    coordinator.force_login(coordinator_user)
    for url in [reverse("dispensary:register"), "/audit/",
                reverse("dispensary:register_month", args=[rx.product_id, day().year,
                                                           day().month])]:
        response = coordinator.get(url)
        assert response.status_code == 200, url  # the coordinator reads both
        assert b"CANCELXREASON" not in response.content, url


def test_nurse_cannot_cancel(nurse_client, rx):
    give(nurse_client, rx)
    entry = Dispensation.objects.get(date=day())
    response = nurse_client.post(reverse("dispensary:cancel", args=[entry.pk]),
                                 {"reason": "Mistake, wrong patient"})
    assert response.status_code == 403
    assert not DispensationCancellation.objects.exists()
    assert given_rows(rx, dose_date=day()).count() == 1


def test_nobody_cancels_their_own_entry(client, staff_factory, rx):
    nurse_doctor = staff_factory(Role.NURSE, Role.DOCTOR, username="t_both")
    client.force_login(nurse_doctor)
    give(client, rx)
    entry = Dispensation.objects.get(date=day())
    response = client.post(reverse("dispensary:cancel", args=[entry.pk]),
                           {"reason": "Mistake, wrong patient"}, **EN)
    assert "another authorised person must cancel it" in response.content.decode()
    assert given_rows(rx, dose_date=day()).count() == 1


def test_cancel_needs_a_reason_and_only_once(nurse_client, doctor_client, rx):
    give(nurse_client, rx)
    entry = Dispensation.objects.get(date=day())
    url = reverse("dispensary:cancel", args=[entry.pk])
    response = doctor_client.post(url, {"reason": ""}, **EN)
    assert "This field is required." in response.content.decode()
    response = doctor_client.post(url, {"reason": "abc"}, **EN)
    assert "at least 5 characters" in response.content.decode()
    assert given_rows(rx, dose_date=day()).count() == 1
    doctor_client.post(url, {"reason": "Wrong patient chosen."}, **EN)
    response = doctor_client.post(url, {"reason": "Wrong patient chosen again."}, **EN)
    assert "Cancelled on" in response.content.decode()
    assert DispensationCancellation.objects.get().reason == "Wrong patient chosen."


# --- stock ----------------------------------------------------------------------------------


def test_dispensation_refused_when_the_balance_would_go_negative(nurse_client, patient):
    rx = PrescriptionFactory(patient=patient, start_date=day(-5))
    history(rx, days_ago=[1])
    response = give(nurse_client, rx)
    content = response.content.decode()
    assert "Not enough Methadone syrup 1 mg/ml in the register: the balance is 0 mg" in content
    assert "needs 60 mg" in content
    assert not Dispensation.objects.filter(date=day()).exists()
    assert not RegisterEntry.objects.exists()


def test_uncontrolled_product_is_dispensed_without_register(nurse_client, patient):
    from dispensary.models import Product
    vitamin = Product.objects.create(name="Vitamin B1", substance="thiamine", form="tablet",
                                     is_controlled=False, max_daily_dose=300)
    rx = PrescriptionFactory(patient=patient, product=vitamin, daily_dose=100)
    assert give(nurse_client, rx).status_code == 302
    assert given_rows(rx).count() == 1 and not RegisterEntry.objects.exists()



def test_no_take_home_doses_after_missed_days(doctor_client, nurse_client, patient, stock):
    rx = PrescriptionFactory(patient=patient, start_date=day(-30),
                             take_home_weekdays=[day(1).weekday()])
    history(rx, days_ago=[4])
    doctor_client.post(reverse("dispensary:review", args=[rx.pk]), {
        "decision": "resume", "note": "Seen: no sign of lost tolerance."})
    page = nurse_client.get(dispense_url(rx), **EN).content.decode()
    assert "No take-home doses after missed days" in page
    assert give(nurse_client, rx).status_code == 302
    assert list(given_rows(rx, date=day()).values_list("dose_date", flat=True)) == [day()]


# --- a break between prescriptions does not reset the missed days ---------------------------


def ended_course(patient, *, last_dose_days_ago: int, ended_days_ago: int | None = None,
                 daily_dose=120):
    """A prescription of methadone that ran for weeks and ended ``ended_days_ago`` (default:
    the day of the last dose), its last dose given ``last_dose_days_ago``."""
    ended = last_dose_days_ago if ended_days_ago is None else ended_days_ago
    rx = PrescriptionFactory(patient=patient, daily_dose=daily_dose, start_date=day(-60),
                             end_date=day(-ended))
    history(rx, days_ago=[last_dose_days_ago])
    return rx


def prescribe_again(doctor_client, patient, daily_dose="120"):
    """The doctor prescribes again from today, through the prescription form."""
    from tests.factories import methadone_syrup
    response = doctor_client.post(
        reverse("dispensary:prescription_create", args=[patient.pk]),
        prescribing(patient, product=methadone_syrup().pk, daily_dose=daily_dose,
                    start_date=day().isoformat(), **CONFIRMED), **EN)
    assert response.status_code == 302
    return Prescription.objects.get(patient=patient, start_date=day())


def test_prescription_ended_then_a_gap_then_a_new_one_is_held(doctor_client, nurse_client,
                                                               patient, stock):
    """The review's reproduction: 120 mg, last dose and end 10 days ago, 120 mg again today.
    The new prescription starts a new run, but the 9 days without a dose still count."""
    ended_course(patient, last_dose_days_ago=10)
    rx = prescribe_again(doctor_client, patient)
    assert rx.course_started_on == day()  # a new run: no prescription ran yesterday
    before = balance()
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    row = listing.split(f'<tr id="rx-{rx.pk}"')[1].split("</tr>")[0]
    assert 'data-state="held"' in row and 'data-missed="9"' in row
    assert "High overdose risk" in row and f'data-give="{rx.pk}-day"' not in row
    response = give(nurse_client, rx)
    assert "Held: 9 consecutive days without a dose" in response.content.decode()
    assert not Dispensation.objects.filter(date=day()).exists()
    assert balance() == before and not RegisterEntry.objects.filter(kind="dispensed").exists()
    # The doctor's review: 9 days, so the full dose needs an explicit confirmation; lowered.
    review_url = reverse("dispensary:review", args=[rx.pk])
    assert "data-strong-warning" in doctor_client.get(review_url, **EN).content.decode()
    response = doctor_client.post(review_url, {"decision": "resume", "note": "Resume."}, **EN)
    assert "9 days without a dose: confirm explicitly" in response.content.decode()
    assert not HoldReview.objects.exists()
    doctor_client.post(review_url, {"decision": "lower", "new_daily_dose": "40",
                                    "note": "Nine days without methadone: restart at 40.",
                                    **CONFIRMED})
    review = HoldReview.objects.get()
    assert (review.missed_days, review.reviewed_on) == (9, day())
    assert give(nurse_client, review.new_prescription).status_code == 302
    entry = given_rows(dose_date=day()).get()
    assert (entry.quantity, entry.review, entry.prescription) == (40, review,
                                                                  review.new_prescription)
    assert balance() == before - 40


def test_the_doctor_is_told_of_the_hold_when_prescribing_again(doctor_client, patient, stock):
    ended_course(patient, last_dose_days_ago=10)
    url = reverse("dispensary:prescription_create", args=[patient.pk])
    form = doctor_client.get(url, **EN).content.decode()
    assert 'data-last-dose="methadone" data-missed="9"' in form
    assert "9 days without a dose since" in form and "does not reset these days" in form
    response = doctor_client.post(url, prescribing(patient, product=stock.product.pk,
                                                   daily_dose="120",
                                                   start_date=day().isoformat(),
                                                   **CONFIRMED),
                                  follow=True, **EN)
    assert "has had no dose of methadone for 9 days: held until a doctor reviews" in \
        response.content.decode()


def test_a_dose_yesterday_shows_no_gap_on_the_prescription_form(doctor_client, rx):
    form = doctor_client.get(reverse("dispensary:prescription_create", args=[rx.patient.pk]),
                             **EN).content.decode()
    assert "data-last-dose" not in form


@pytest.mark.parametrize("missed, held, strong", [(2, False, False), (3, True, False),
                                                  (4, True, False), (5, True, True)])
def test_missed_days_across_prescriptions_boundaries(doctor_client, nurse_client, patient,
                                                     stock, missed, held, strong):
    """The last dose ``missed + 1`` days ago, the prescription ended the same day, a new one
    today: held from 3 days, the stronger warning from 5."""
    ended_course(patient, last_dose_days_ago=missed + 1)
    rx = prescribe_again(doctor_client, patient)
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert f'data-missed="{missed}"' in listing
    assert ('data-state="held"' in listing) is held
    assert ("High overdose risk" in listing) is strong
    response = give(nurse_client, rx)
    if held:
        assert f"Held: {missed} consecutive days without a dose" in response.content.decode()
        assert not Dispensation.objects.filter(date=day()).exists()
    else:
        assert response.status_code == 302
        assert given_rows(rx, dose_date=day()).get().quantity == 120
    page = doctor_client.get(reverse("dispensary:review", args=[rx.pk]), **EN).content.decode()
    assert ("data-strong-warning" in page) is strong


def test_take_home_days_before_the_break_are_not_missed(doctor_client, nurse_client, patient,
                                                        stock):
    # Last supervised dose 5 days ago with the two following days taken home (the last
    # day of the prescription): two days without a dose, not four.
    old = PrescriptionFactory(patient=patient, start_date=day(-30), end_date=day(-3))
    DispensationFactory(prescription=old, date=day(-5))
    DispensationFactory(prescription=old, date=day(-5), dose_date=day(-4))
    DispensationFactory(prescription=old, date=day(-5), dose_date=day(-3))
    rx = prescribe_again(doctor_client, patient, daily_dose="60")
    assert 'data-missed="2"' in nurse_client.get(reverse("dispensary:today")).content.decode()
    assert give(nurse_client, rx).status_code == 302
    assert given_rows(rx, dose_date=day()).count() == 1


def test_a_cancelled_dose_does_not_count_as_the_last_one(doctor_client, nurse_client,
                                                         psychiatrist_client, patient, stock):
    old = ended_course(patient, last_dose_days_ago=4, ended_days_ago=2, daily_dose=60)
    mistake = DispensationFactory(prescription=old, date=day(-2))
    psychiatrist_client.post(reverse("dispensary:cancel", args=[mistake.pk]),
                             {"reason": "Recorded for the wrong patient."})
    assert DispensationCancellation.objects.filter(dispensation=mistake).exists()
    rx = prescribe_again(doctor_client, patient, daily_dose="60")
    assert "Held: 3 consecutive days" in give(nurse_client, rx).content.decode()
    assert not Dispensation.objects.filter(date=day()).exists()


# --- take-home doses of a prescription replaced since ---------------------------------------


def test_take_home_of_a_replaced_prescription_shows_the_day_as_taken_home(
        doctor_client, nurse_client, patient, stock):
    # Yesterday: today's dose handed to take home under the 60 mg prescription; then the
    # doctor changed the dose from today.
    old = PrescriptionFactory(patient=patient, start_date=day(-10))
    DispensationFactory(prescription=old, date=day(-1))
    handed = DispensationFactory(prescription=old, date=day(-1), dose_date=day())
    rx = prescribe_again(doctor_client, patient, daily_dose="60")
    old.refresh_from_db()
    assert old.end_date == day() and rx.replaces == old  # replaced today: ends today
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    row = listing.split(f'<tr id="rx-{rx.pk}"')[1].split("</tr>")[0]
    assert 'data-state="taken_home"' in row and 'data-part-state="taken_home"' in row
    assert f"handed {handed.date:%a %d/%m}" in row
    assert 'data-part-state="due"' not in row and "data-give" not in row
    assert 'data-count="taken_home">1<' in listing and 'data-count="due">0<' in listing
    record = nurse_client.get(reverse("dispensary:patient", args=[patient.pk]),
                              **EN).content.decode()
    assert 'data-today-state="taken_home"' in record
    # Giving is refused all the same, and nothing is written.
    response = give(nurse_client, rx)
    assert ("Nothing left to give today: 60 mg already given, the daily dose is 60 mg"
            in response.content.decode())
    assert given_rows(dose_date=day()).get() == handed


def test_take_home_of_a_replaced_prescription_cancelled_leaves_the_day_due(
        doctor_client, nurse_client, psychiatrist_client, patient, stock):
    old = PrescriptionFactory(patient=patient, start_date=day(-10))
    DispensationFactory(prescription=old, date=day(-1))
    handed = DispensationFactory(prescription=old, date=day(-1), dose_date=day())
    psychiatrist_client.post(reverse("dispensary:cancel", args=[handed.pk]),
                             {"reason": "Bottle broken at the desk, not taken home."})
    rx = prescribe_again(doctor_client, patient, daily_dose="60")
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    row = listing.split(f'<tr id="rx-{rx.pk}"')[1].split("</tr>")[0]
    assert 'data-state="due"' in row and f'data-give="{rx.pk}-day"' in row


# --- the counts at the top of the list follow a dose given from it --------------------------


def counts_of(content: str) -> dict[str, int]:
    import re
    block = content.split('id="dispensing-counts"')[1].split("</div>")[0]
    return {key: int(value) for key, value in
            re.findall(r'data-count="(\w+)">(\d+)<', block)}


def test_give_with_htmx_refreshes_the_counts_out_of_band(nurse_client, rx, stock):
    other = PrescriptionFactory(patient=PatientFactory(alias="Zorro"), start_date=day(-2))
    history(other, days_ago=[1])
    listing = nurse_client.get(reverse("dispensary:today"), **EN).content.decode()
    assert counts_of(listing) == {"held": 0, "due": 2, "withheld": 0, "done": 0,
                                  "taken_home": 0}
    assert "hx-swap-oob" not in listing
    response = give(nurse_client, rx, htmx=True)
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tr id="rx-{rx.pk}"')
    oob = content.split("<template>")[1].split("</template>")[0]
    assert 'id="dispensing-counts"' in oob and 'hx-swap-oob="true"' in oob
    assert counts_of(oob) == {"held": 0, "due": 1, "withheld": 0, "done": 1, "taken_home": 0}
    assert given_rows(rx, dose_date=day()).count() == 1
    # A refused second dose: the row says why; the counts are those of the list as it is.
    content = give(nurse_client, rx, htmx=True).content.decode()
    assert "Already dispensed today" in content
    assert counts_of(content.split("<template>")[1]) == {
        "held": 0, "due": 1, "withheld": 0, "done": 1, "taken_home": 0}
    assert given_rows(rx, dose_date=day()).count() == 1


def test_counts_after_give_follow_the_search_of_the_list(nurse_client, rx, stock):
    other = PrescriptionFactory(patient=PatientFactory(alias="Zorro"), start_date=day(-2))
    history(other, days_ago=[1])
    page = "http://testserver" + reverse("dispensary:today") + "?q=mim"
    response = give(nurse_client, rx, htmx=True, HTTP_HX_CURRENT_URL=page)
    assert counts_of(response.content.decode().split("<template>")[1]) == {
        "held": 0, "due": 0, "withheld": 0, "done": 1, "taken_home": 0}


@pytest.mark.parametrize("count", [1, 30])
def test_give_with_htmx_constant_queries(nurse_client, rx, stock, count,
                                         django_assert_num_queries):
    for index in range(count - 1):
        other = PrescriptionFactory(patient=PatientFactory(alias=f"P{index:03d}"),
                                    start_date=day(-2))
        history(other, days_ago=[1])
    # The dose and its rules as before, then the row and the counts from one read of the
    # list (two queries): the same number with 1 and 30 patients on it.
    with django_assert_num_queries(GIVE_HTMX_QUERIES):
        response = give(nurse_client, rx, htmx=True)
    assert counts_of(response.content.decode().split("<template>")[1])["done"] == 1
