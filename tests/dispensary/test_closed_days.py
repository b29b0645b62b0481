"""The dispensing list on the days before the centre closes: the closed days' doses go home
with today's dose for a prescription with a take-home right; the others are flagged for a
doctor's plan (the list, the closed-day plan page). The missed-day count does not pause."""

import datetime

import pytest
from django.urls import reverse

from dispensary.models import Dispensation
from dispensary.selectors import MAX_TAKE_HOME_DAYS, dose_states
from mass.models import SiteClosure
from mass.sites.selectors import site_calendar
from tests.conftest import EN
from tests.dispensary.conftest import centre_calendar, day, give, given_rows, history
from tests.dispensary.test_access import ALERTS_QUERY, LIST_QUERIES
from tests.factories import DispensationFactory, PatientFactory, PrescriptionFactory, woeringen


def close_centre(first: int, last: int | None = None, reason="Journée de formation"):
    """A closure of the centre from day ``first`` to ``last`` (relative to today)."""
    from mass.accounts.roles import Role
    from tests.conftest import make_staff
    coordinator = make_staff(Role.COORDINATOR, username=f"t_closing_{first}_{last}")
    return SiteClosure.objects.create(site=woeringen(), first_day=day(first),
                                      last_day=day(last if last is not None else first),
                                      reason=reason, created_by=coordinator)


def with_take_home(patient, **fields):
    """A running prescription with a take-home right on a weekday four days ahead (not next
    to tomorrow: the take-home days of a closure tomorrow are then the closure's alone),
    past the supervised first days of the induction rule (two weeks for methadone)."""
    rx = PrescriptionFactory(patient=patient, start_date=day(-30),
                             take_home_weekdays=[day(4).weekday()], **fields)
    history(rx, days_ago=[1])
    return rx


def supervised_daily(patient):
    rx = PrescriptionFactory(patient=patient, start_date=day(-10))
    history(rx, days_ago=[1])
    return rx


def listing(client) -> str:
    return client.get(reverse("dispensary:today"), **EN).content.decode()


# --- the day before a closure ---------------------------------------------------------------


def test_list_offers_the_closed_days_dose_with_todays(nurse_client, patient, stock):
    rx = with_take_home(patient)
    close_centre(1)
    content = listing(nurse_client)
    assert "The centre is closed on:" in content and "Journée de formation" in content
    assert "data-closed-take-home" in content and "+ 1 take-home day" in content
    assert "data-closed-day-plan" not in content
    give(nurse_client, rx, htmx=True)
    entries = given_rows(rx, date=day()).order_by("dose_date")
    assert [(e.dose_date, e.quantity) for e in entries] == [(day(), 60), (day(1), 60)]
    # The closed day's dose is a take-home entry for that day.
    assert entries[1].is_take_home and entries[1].part == Dispensation.Part.DAY


def test_downtime_sheet_says_tomorrow_is_closed_and_hands_its_dose_today(nurse_client,
                                                                         patient, stock):
    with_take_home(patient)
    close_centre(1)
    page = nurse_client.get(reverse("dispensary:downtime_sheet"), **EN).content.decode()
    today_part, tomorrow_part = page.split('data-sheet-day="tomorrow"', 1)
    assert "data-sheet-closed" not in today_part
    assert "data-sheet-closed" in tomorrow_part and "Journée de formation" in tomorrow_part
    # Today's row lists the closed day's dose to hand with today's.
    assert "Take-home to hand with the dose:" in today_part
    assert f'{day(1):%d/%m}' in today_part.split("Take-home to hand with the dose:", 1)[1]


def test_closed_day_in_the_supervised_first_days_needs_a_doctors_plan(nurse_client,
                                                                     doctor_client, patient,
                                                                     stock):
    # Day 4 of a methadone start (two supervised weeks) with a take-home right: the closed
    # day's dose does not go home without a doctor's decision.
    rx = PrescriptionFactory(patient=patient, start_date=day(-3),
                             take_home_weekdays=[day(4).weekday()])
    history(rx, days_ago=[3, 2, 1])
    close_centre(1)
    content = listing(nurse_client)
    assert "data-closed-day-plan" in content and "data-closed-take-home" not in content
    state = dose_states(today=day(), patient_id=patient.pk)[0]
    assert state.is_supervised(day(1)) and state.take_home_to_hand == []
    # The doctor decides: then the dose goes home with today's.
    plan(doctor_client, rx, 1)
    assert "+ 1 take-home day" in listing(nurse_client)
    give(nurse_client, rx)
    assert given_rows(rx, date=day(), dose_date=day(1)).count() == 1


def test_closed_day_with_a_doctor_first_alert_is_flagged_not_promised(patient, stock):
    from tests.factories import AlertFactory
    with_take_home(patient)
    AlertFactory(patient=patient, kind="doctor_first", text="Very drowsy yesterday")
    close_centre(1)
    state = dose_states(today=day(), patient_id=patient.pk)[0]
    assert state.closed_days_taken_home == []
    assert [c.day for c in state.closed_days_to_plan] == [day(1)]


def test_closed_day_after_a_restart_is_supervised_again(db, stock):
    # An established treatment, held and restarted by a doctor's review yesterday.
    from tests.dispensary.conftest import reviewed
    patient = PatientFactory()
    rx = PrescriptionFactory(patient=patient, start_date=day(-60),
                             take_home_weekdays=[day(4).weekday()])
    history(rx, days_ago=[10, 9])
    DispensationFactory(prescription=rx, date=day(-1), review=reviewed(rx, -1, missed=8))
    close_centre(1)
    state = dose_states(today=day(), patient_id=patient.pk)[0]
    assert state.is_supervised(day(1)) and state.take_home_to_hand == []
    assert [c.day for c in state.closed_days_to_plan] == [day(1)]


def test_weekly_take_home_after_a_restart_at_the_same_dose_waits_for_the_supervised_days(
        db, stock):
    # Resumed at the dose of before the hold (no new prescription, so no induction check):
    # the take-home weekday of tomorrow is not handed in the supervised first days.
    from tests.dispensary.conftest import reviewed
    patient = PatientFactory()
    rx = PrescriptionFactory(patient=patient, start_date=day(-60),
                             take_home_weekdays=[day(1).weekday()])
    history(rx, days_ago=[10, 9])
    DispensationFactory(prescription=rx, date=day(-1), review=reviewed(rx, -1, missed=8))
    state = dose_states(today=day(), patient_id=patient.pk)[0]
    assert state.supervised_after_restart and state.take_home_due == []
    # Past the supervised days (two weeks for methadone) the right comes back.
    later = dose_states(today=day(14), patient_id=patient.pk)[0]
    assert not later.supervised_after_restart and later.take_home_days == [day(15)]


def test_patient_record_shows_the_closed_day_as_the_list_does(nurse_client, patient, stock):
    with_take_home(patient)
    close_centre(1)
    record = nurse_client.get(reverse("dispensary:patient", args=[patient.pk]),
                              **EN).content.decode()
    assert "data-closed-take-home" in record and "Journée de formation" in record


def test_closure_recorded_after_todays_dose_is_flagged_not_promised(nurse_client, patient,
                                                                   stock):
    rx = with_take_home(patient)
    give(nurse_client, rx)  # the dose of the morning; the closure is decided in the afternoon
    close_centre(1)
    state = dose_states(today=day(), patient_id=patient.pk)[0]
    assert state.closed_days_taken_home == []
    assert [c.day for c in state.closed_days_to_plan] == [day(1)]
    assert "data-closed-take-home" not in listing(nurse_client)


def test_a_run_of_closed_days_goes_home_together_capped(nurse_client, patient, stock):
    rx = with_take_home(patient)
    close_centre(1, 9)
    state = dose_states(today=day(), patient_id=patient.pk)[0]
    assert state.take_home_to_hand == [day(n) for n in range(1, MAX_TAKE_HOME_DAYS + 1)]
    give(nurse_client, rx)
    assert given_rows(rx, date=day()).count() == 1 + MAX_TAKE_HOME_DAYS


def test_split_dose_hands_both_parts_of_the_closed_day(nurse_client, patient, stock):
    rx = with_take_home(patient, daily_dose=90, evening_dose=30)
    DispensationFactory(prescription=rx, part="morning", quantity=60)
    close_centre(1)
    give(nurse_client, rx, part="evening")
    assert sorted(given_rows(rx, dose_date=day(1)).values_list("part", "quantity")) == [
        ("evening", 30), ("morning", 60)]


def test_without_take_home_right_flagged_and_only_todays_dose(nurse_client, patient, stock):
    rx = supervised_daily(patient)
    close_centre(1)
    content = listing(nurse_client)
    assert "data-closed-day-plan" in content and 'data-closed-day-flags="1"' in content
    assert "take-home day" not in content
    give(nurse_client, rx)
    assert list(given_rows(rx).filter(date=day()).values_list("dose_date", flat=True)) == [
        day()]
    # The flag stays after the dose: the closed day is still not planned.
    assert "data-closed-day-plan" in listing(nurse_client)


def test_closure_flagged_a_week_ahead_for_patients_without_take_home_right(nurse_client,
                                                                          stock):
    daily = supervised_daily(PatientFactory(alias="Daily"))
    at_home = with_take_home(PatientFactory(alias="Athome"))
    close_centre(6, reason="Grève")
    states = {s.prescription.pk: s for s in dose_states(today=day())}
    assert [c.day for c in states[daily.pk].closed_days_to_plan] == [day(6)]
    assert states[at_home.pk].closed_days_to_plan == []
    assert states[at_home.pk].take_home_to_hand == []  # not tomorrow: nothing goes home yet
    content = listing(nurse_client)
    assert content.count("data-closed-day-plan") == 1 and "Grève" in content


def test_weekly_closed_day_flagged_only_the_day_before(db, stock):
    rx = supervised_daily(PatientFactory(alias="Daily"))
    centre_calendar(open_weekdays=[d for d in range(7) if d != day(5).weekday()],
                    public_holidays=False)
    assert dose_states(today=day())[0].closed_days_to_plan == []
    eve = dose_states(today=day(4), patient_id=rx.patient_id)[0]
    assert [c.day for c in eve.closed_days_to_plan] == [day(5)]
    assert eve.closed_days_to_plan[0].is_weekly


def test_saturday_before_sunday_and_easter_monday(db, stock):
    """Easter 2027: Saturday 27 March, the centre closed on Sunday (its hours) and on Easter
    Monday (a public holiday), with its hours of seed 000 and the holidays of Belgium."""
    saturday = datetime.date(2027, 3, 27)
    centre_calendar(open_weekdays=range(6), public_holidays=True)
    at_home = PrescriptionFactory(patient=PatientFactory(alias="Athome"),
                                  start_date=datetime.date(2027, 3, 1),
                                  take_home_weekdays=[2])
    daily = PrescriptionFactory(patient=PatientFactory(alias="Daily"),
                                start_date=datetime.date(2027, 3, 1))
    for rx in (at_home, daily):
        DispensationFactory(prescription=rx, date=saturday - datetime.timedelta(days=1))
    states = {s.prescription.pk: s for s in dose_states(today=saturday)}
    easter = [datetime.date(2027, 3, 28), datetime.date(2027, 3, 29)]
    assert states[at_home.pk].take_home_to_hand == easter
    assert [c.kind for c in states[at_home.pk].closed_days_taken_home] == ["hours", "holiday"]
    assert [c.day for c in states[daily.pk].closed_days_to_plan] == easter
    assert states[daily.pk].take_home_to_hand == []


def test_no_closed_day_dose_after_missed_days(nurse_client, patient, stock):
    from tests.dispensary.conftest import reviewed
    rx = PrescriptionFactory(patient=patient, start_date=day(-10),
                             take_home_weekdays=[day(4).weekday()])
    history(rx, days_ago=[4])
    reviewed(rx)
    close_centre(1)
    state = dose_states(today=day(), patient_id=patient.pk)[0]
    assert state.missed_days == 3 and state.take_home_to_hand == []
    assert [c.day for c in state.closed_days_to_plan] == [day(1)]
    give(nurse_client, rx)
    assert not given_rows(rx, dose_date=day(1)).exists()


def test_no_closed_day_dose_after_a_dose_withheld_for_intoxication(nurse_client, patient,
                                                                   stock):
    rx = with_take_home(patient)
    close_centre(1)
    from tests.dispensary.test_withheld import withhold_for_intoxication
    withhold_for_intoxication(nurse_client, rx)
    state = dose_states(today=day(), patient_id=patient.pk)[0]
    assert state.take_home_to_hand == [] and [c.day for c in state.closed_days_to_plan] == [
        day(1)]
    assert not given_rows(rx, dose_date=day(1)).exists()


# --- the missed-day count does not pause ----------------------------------------------------


def test_a_closed_day_without_a_planned_dose_still_counts_as_missed(db, stock):
    rx = PrescriptionFactory(patient=PatientFactory(), start_date=day(-10))
    history(rx, days_ago=[3])
    close_centre(-2, -1)  # yesterday and the day before: closed, no dose taken home
    state = dose_states(today=day(), patient_id=rx.patient_id)[0]
    assert state.missed_days == 2
    calendar = site_calendar(centre=True, start=day(-2), end=day())
    assert not calendar.is_open(day(-1)) and not calendar.is_open(day(-2))


def test_a_closed_day_covered_by_its_take_home_dose_is_not_missed(nurse_client, patient,
                                                                  stock):
    rx = with_take_home(patient)
    close_centre(1)
    give(nurse_client, rx)
    assert dose_states(today=day(2), patient_id=patient.pk)[0].missed_days == 0


# --- queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_list_before_closures_constant_queries(nurse_client, django_assert_num_queries,
                                               count, stock):
    close_centre(1)
    close_centre(5, 6)
    for index in range(count):
        patient = PatientFactory(alias=f"P{index}")
        with_take_home(patient) if index % 2 else supervised_daily(patient)
    with django_assert_num_queries(LIST_QUERIES + ALERTS_QUERY):
        response = nurse_client.get(reverse("dispensary:today"))
    assert response.content.decode().count('class="dose-row') == count


# --- the closed-day plan --------------------------------------------------------------------


def test_doctor_sees_the_closed_day_plan(doctor_client, stock):
    daily = supervised_daily(PatientFactory(alias="Daily"))
    with_take_home(PatientFactory(alias="Athome"))
    close_centre(2, reason="Grève")
    content = doctor_client.get(reverse("dispensary:closed_days"), **EN).content.decode()
    assert f'data-plan="{daily.pk}"' in content and "Athome" not in content
    assert "Grève" in content and 'data-taking-home="1"' in content
    assert f"?from={daily.pk}" in content  # to prescribe take-home days


def test_closed_day_plan_when_the_centre_is_open_all_week(doctor_client, stock):
    supervised_daily(PatientFactory(alias="Daily"))
    content = doctor_client.get(reverse("dispensary:closed_days"), **EN).content.decode()
    assert "The centre is open every day of the coming week." in content
    assert "Nobody needs a plan" in content


def test_nurse_reads_no_closed_day_plan_page(nurse_client, stock):
    assert nurse_client.get(reverse("dispensary:closed_days")).status_code == 403


def test_closed_day_plan_is_get_only(doctor_client):
    assert doctor_client.post(reverse("dispensary:closed_days")).status_code == 405


@pytest.mark.parametrize("count", [1, 3])
def test_closed_day_plan_constant_queries(doctor_client, django_assert_num_queries, count,
                                          stock):
    close_centre(1)
    for index in range(count):
        supervised_daily(PatientFactory(alias=f"P{index}"))
    with django_assert_num_queries(PLAN_QUERIES):
        response = doctor_client.get(reverse("dispensary:closed_days"))
    assert response.content.decode().count("data-plan=") == count


#: session, user, permissions and roles (one), the centre's calendar, the prescriptions, the
#: day's entries and their products, the patients' active alerts and their last QTc, the
#: audit row, saving the session (three).
PLAN_QUERIES = LIST_QUERIES + ALERTS_QUERY


def test_list_announces_a_sunday_only_the_day_before(db):
    from dispensary.selectors import closed_days_notice
    from mass.sites.selectors import SiteCalendar
    centre = SiteCalendar(site=None, open_weekdays=frozenset(range(6)), closures=(),
                          closed_on_public_holidays=True)
    wednesday, saturday = datetime.date(2027, 3, 24), datetime.date(2027, 3, 27)
    easter_monday = datetime.date(2027, 3, 29)
    assert [c.day for c in closed_days_notice(centre, today=wednesday)] == [easter_monday]
    assert [c.day for c in closed_days_notice(centre, today=saturday)] == [
        datetime.date(2027, 3, 28), easter_monday]


# --- a doctor's plan ------------------------------------------------------------------------


def plan(client, rx, first: int, last: int | None = None, decision="take_home",
         note="Prend la dose de demain, vu avec lui."):
    return client.post(reverse("dispensary:closed_day_plan_record", args=[rx.pk]), {
        "first_day": day(first).isoformat(),
        "last_day": day(last if last is not None else first).isoformat(),
        "decision": decision, "note": note}, follow=True, **EN)


def test_doctor_plans_take_home_for_a_patient_without_the_right(doctor_client, nurse_client,
                                                               patient, stock):
    from dispensary.models import ClosedDayPlan
    from mass.models import AuditEvent
    rx = supervised_daily(patient)
    close_centre(1)
    page = doctor_client.get(reverse("dispensary:closed_days"), **EN).content.decode()
    assert f'data-plan-form="{rx.pk}"' in page
    response = plan(doctor_client, rx, 1)
    assert "Closed-day plan recorded for Mimi." in response.content.decode()
    assert f'data-plan="{rx.pk}"' not in response.content.decode()  # planned: off the list
    recorded = ClosedDayPlan.objects.get()
    assert (recorded.patient, recorded.substance, recorded.first_day) == (
        patient, "methadone", day(1))
    assert AuditEvent.objects.filter(object_type="dispensary.closeddayplan",
                                     patient=patient).exists()
    content = listing(nurse_client)
    assert "data-closed-day-plan" not in content and "+ 1 take-home day" in content
    assert "Prend la dose de demain" in content
    give(nurse_client, rx)
    assert given_rows(rx, date=day(), dose_date=day(1)).count() == 1


def test_doctor_plans_another_arrangement(doctor_client, nurse_client, patient, stock):
    rx = supervised_daily(patient)
    close_centre(1)
    plan(doctor_client, rx, 1, decision="no_take_home", note="Pharmacie de garde demain.")
    content = listing(nurse_client)
    assert "data-closed-day-plan" not in content and "take-home day" not in content
    assert "Pharmacie de garde demain." in content
    give(nurse_client, rx)
    assert not given_rows(rx, dose_date=day(1)).exists()


def test_plan_made_a_week_ahead_is_used_on_the_eve(doctor_client, patient, stock):
    rx = supervised_daily(patient)
    close_centre(5)
    assert dose_states(today=day(), patient_id=patient.pk)[0].closed_days_to_plan
    plan(doctor_client, rx, 5)
    assert dose_states(today=day(), patient_id=patient.pk)[0].closed_days_to_plan == []
    for coming in range(4):  # the patient comes every day until then
        DispensationFactory(prescription=rx, date=day(coming))
    eve = dose_states(today=day(4), patient_id=patient.pk)[0]
    assert eve.take_home_to_hand == [day(5)]


def test_a_later_plan_replaces_an_earlier_one(doctor_client, patient, stock):
    rx = supervised_daily(patient)
    close_centre(1)
    plan(doctor_client, rx, 1)
    plan(doctor_client, rx, 1, decision="no_take_home", note="Finalement: pharmacie.")
    state = dose_states(today=day(), patient_id=patient.pk)[0]
    assert state.take_home_to_hand == [] and state.closed_days_to_plan == []
    assert state.closed_day_notes == ["Finalement: pharmacie."]


@pytest.mark.parametrize("first,last,decision,note,message", [
    (1, 1, "take_home", "  ", "This field is required."),
    (1, 1, "", "Vu.", "This field is required."),
    (1, 1, "always", "Vu.", "Select a valid choice."),
    (0, 1, "take_home", "Vu.", "A closed-day plan is for the coming days"),
    (-2, -1, "take_home", "Vu.", "A closed-day plan is for the coming days"),
    (2, 1, "take_home", "Vu.", "The last closed day is before the first one."),
])
def test_closed_day_plan_bad_input_refused_and_nothing_written(doctor_client, patient, stock,
                                                               first, last, decision, note,
                                                               message):
    from dispensary.models import ClosedDayPlan
    from mass.models import AuditEvent
    rx = supervised_daily(patient)
    close_centre(1)
    events = AuditEvent.objects.exclude(action="view").count()
    response = plan(doctor_client, rx, first, last, decision=decision, note=note)
    assert "Nothing was recorded for Mimi" in response.content.decode()
    assert message in response.content.decode()
    assert not ClosedDayPlan.objects.exists()
    assert AuditEvent.objects.exclude(action="view").count() == events


def test_nurse_may_not_plan_closed_days(nurse_client, patient, stock):
    from dispensary.models import ClosedDayPlan
    rx = supervised_daily(patient)
    close_centre(1)
    assert plan(nurse_client, rx, 1).status_code == 403
    url = reverse("dispensary:closed_day_plan_record", args=[rx.pk])
    assert nurse_client.get(url).status_code == 405
    assert not ClosedDayPlan.objects.exists()
