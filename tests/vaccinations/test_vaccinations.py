import datetime

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mass.models import AuditEvent
from patients.selectors import months_after
from tests.conftest import EN
from tests.factories import PatientFactory, VaccinationCourseFactory, VaccinationDoseFactory
from vaccinations.models import VaccinationCourse, VaccinationDose, dose_due_on
from vaccinations.selectors import week_of

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def course_with_doses(*dates, schedule="standard", vaccine="hbv", patient=None, by=None):
    course = VaccinationCourseFactory(schedule=schedule, vaccine=vaccine,
                                      patient=patient or PatientFactory(),
                                      **({"started_by": by} if by else {}))
    for number, day in enumerate(dates, start=1):
        VaccinationDoseFactory(course=course, number=number, date=day,
                               **({"given_by": by} if by else {}))
    return course


# --- the schedules ----------------------------------------------------------------------


def test_schedule_due_dates_count_from_the_first_dose():
    first = datetime.date(2026, 1, 31)
    assert [dose_due_on("standard", n, first) for n in (1, 2, 3)] == [
        first, datetime.date(2026, 2, 28), datetime.date(2026, 7, 31)]
    assert [dose_due_on("accelerated", n, first) for n in (1, 2, 3, 4)] == [
        first, datetime.date(2026, 2, 7), datetime.date(2026, 2, 21),
        datetime.date(2027, 1, 31)]


def test_course_start_records_the_first_dose_and_shows_the_next_due(nurse_client, nurse_user):
    patient = PatientFactory()
    first = today() - datetime.timedelta(days=3)
    response = nurse_client.post(
        reverse("vaccinations:course_create") + f"?patient={patient.pk}",
        {"vaccine": "hbv", "schedule": "accelerated", "date": first.isoformat(),
         "product": "Engerix-B", "batch": "AB12"})
    assert response.status_code == 302
    course = VaccinationCourse.objects.get(patient=patient)
    dose = course.doses.get()
    assert (course.schedule, dose.number, dose.date, dose.batch, dose.given_by) == (
        "accelerated", 1, first, "AB12", nurse_user)
    page = nurse_client.get(reverse("patients:detail", args=[patient.pk]), **EN)
    due = (first + datetime.timedelta(days=7)).isoformat()
    assert f'data-due="{due}"' in page.content.decode()
    assert AuditEvent.objects.filter(object_type="vaccinations.vaccinationdose").exists()


def test_dose_recorded_on_its_course_and_the_course_completes(nurse_client):
    start = today() - datetime.timedelta(days=400)
    course = course_with_doses(start, months_after(start, 1))
    response = nurse_client.post(reverse("vaccinations:dose_create", args=[course.pk]),
                                 {"number": 3, "date": months_after(start, 6).isoformat()})
    assert response.status_code == 302
    assert list(course.doses.values_list("number", flat=True)) == [1, 2, 3]
    page = nurse_client.get(reverse("vaccinations:dose_create", args=[course.pk]), **EN)
    assert "data-course-complete" in page.content.decode()
    assert page.context["form"] is None


# --- bad input: each refused on its field, nothing written -----------------------------


@pytest.mark.parametrize(("number", "date", "field", "message"), [
    (3, None, "number", "The next dose of this course is dose 2"),
    (2, "future", "date", "cannot be later than today"),
    (2, "before", "date", "cannot be given on or before dose 1"),
])
def test_bad_dose_refused_on_its_field_and_nothing_written(nurse_client, number, date, field,
                                                           message):
    first = today() - datetime.timedelta(days=60)
    course = course_with_doses(first)
    day = {None: today(), "future": today() + datetime.timedelta(days=1),
           "before": first - datetime.timedelta(days=1)}[date]
    doses, audits = VaccinationDose.objects.count(), AuditEvent.objects.exclude(
        action="view").count()
    response = nurse_client.post(reverse("vaccinations:dose_create", args=[course.pk]),
                                 {"number": number, "date": day.isoformat()}, **EN)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert VaccinationDose.objects.count() == doses
    assert AuditEvent.objects.exclude(action="view").count() == audits


# --- minimum intervals between doses (vaccinations.models.SCHEDULE_MIN_INTERVALS) ---------


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.mark.parametrize(("schedule", "vaccine", "given", "number", "too_soon", "earlier"), [
    # Standard hepatitis B: 4 weeks between doses 1 and 2...
    ("standard", "hbv", [0], 2, 27, 1),
    # ... 8 weeks between 2 and 3 ...
    ("standard", "hbv", [0, 60], 3, 60 + 55, 2),
    # ... and 16 weeks between 1 and 3, even with 8 weeks between 2 and 3.
    ("standard", "hbv", [0, 28], 3, 111, 1),
    # The accelerated schedule's own 7 and 14 days.
    ("accelerated", "hbv", [0], 2, 6, 1),
    ("accelerated", "hbv", [0, 7], 3, 7 + 13, 2),
])
def test_dose_before_its_minimum_interval_is_refused_on_the_date(
        nurse_client, schedule, vaccine, given, number, too_soon, earlier):
    start = today() - _days(too_soon + 1)
    course = course_with_doses(*[start + _days(n) for n in given], schedule=schedule,
                               vaccine=vaccine)
    earliest = start + _days(too_soon + 1)
    doses, audits = VaccinationDose.objects.count(), AuditEvent.objects.exclude(
        action="view").count()

    response = nurse_client.post(reverse("vaccinations:dose_create", args=[course.pk]),
                                 {"number": number,
                                  "date": (start + _days(too_soon)).isoformat()}, **EN)

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["date"])
    assert f"minimum interval after dose {earlier}" in errors
    assert earliest.strftime("%Y") in errors
    assert VaccinationDose.objects.count() == doses
    assert AuditEvent.objects.exclude(action="view").count() == audits
    # The day after, the dose is recorded.
    nurse_client.post(reverse("vaccinations:dose_create", args=[course.pk]),
                      {"number": number, "date": earliest.isoformat()})
    assert course.doses.filter(number=number, date=earliest).exists()


def test_hepatitis_a_second_dose_before_six_months_is_refused(nurse_client):
    start = months_after(today(), -7)
    course = course_with_doses(start, schedule="two_doses", vaccine="hav")
    too_soon = months_after(start, 6) - _days(1)

    response = nurse_client.post(reverse("vaccinations:dose_create", args=[course.pk]),
                                 {"number": 2, "date": too_soon.isoformat()}, **EN)

    assert "minimum interval after dose 1" in " ".join(response.context["form"].errors["date"])
    assert course.doses.count() == 1


@pytest.mark.parametrize(("schedule", "given", "due"), [
    # Dose 2 given late (day 150 of a 0-1-6 months course): dose 3 is due 8 weeks after it,
    # after the 6 months counted from dose 1.
    ("standard", [0, 150], 150 + 56),
    # On time, the schedule's day from dose 1 stands (6 months, after day 28 + 8 weeks).
    ("standard", [0, 28], None),
    # Accelerated, dose 2 given on day 20 instead of 7: dose 3 on day 34, not 21.
    ("accelerated", [0, 20], 20 + 14),
])
def test_next_dose_is_due_after_the_minimum_interval_from_a_late_dose(nurse_client, schedule,
                                                                      given, due):
    start = today() - _days(given[-1] + 1)
    course = course_with_doses(*[start + _days(n) for n in given], schedule=schedule)
    expected = (start + _days(due)) if due is not None else dose_due_on(schedule, 3, start)

    page = nurse_client.get(reverse("patients:detail", args=[course.patient.pk]), **EN)

    assert f'data-due="{expected.isoformat()}"' in page.content.decode()


def test_schedule_not_of_the_vaccine_refused(nurse_client):
    patient = PatientFactory()
    response = nurse_client.post(
        reverse("vaccinations:course_create") + f"?patient={patient.pk}",
        {"vaccine": "tetanus", "schedule": "accelerated", "date": today().isoformat()}, **EN)
    assert response.status_code == 200
    assert response.context["form"].errors["schedule"]
    assert not VaccinationCourse.objects.filter(patient=patient).exists()


def test_course_start_with_a_future_first_dose_writes_no_course(nurse_client):
    patient = PatientFactory()
    response = nurse_client.post(
        reverse("vaccinations:course_create") + f"?patient={patient.pk}",
        {"vaccine": "hbv", "schedule": "standard",
         "date": (today() + datetime.timedelta(days=2)).isoformat()}, **EN)
    assert "cannot be later than today" in response.context["form"].errors["date"][0]
    assert not VaccinationCourse.objects.filter(patient=patient).exists()


# --- corrections -----------------------------------------------------------------------


def test_last_dose_cancelled_by_its_giver_then_recorded_again(nurse_client, nurse_user):
    first = today() - datetime.timedelta(days=60)
    course = course_with_doses(first, first + datetime.timedelta(days=40), by=nurse_user)
    second = course.doses.get(number=2)
    response = nurse_client.post(reverse("vaccinations:dose_cancel", args=[second.pk]),
                                 {"reason": "Wrong file"})
    assert response.status_code == 302
    assert second.cancellation.reason == "Wrong file"
    nurse_client.post(reverse("vaccinations:dose_create", args=[course.pk]),
                      {"number": 2, "date": today().isoformat()})
    standing = course.doses.standing().order_by("number")
    assert [(d.number, d.date) for d in standing] == [(1, first), (2, today())]
    assert course.doses.count() == 3  # the cancelled dose stays


def test_an_earlier_dose_cannot_be_cancelled_before_the_later_one(nurse_client, nurse_user):
    first = today() - datetime.timedelta(days=60)
    course = course_with_doses(first, first + datetime.timedelta(days=40), by=nurse_user)
    first_dose = course.doses.get(number=1)
    response = nurse_client.post(reverse("vaccinations:dose_cancel", args=[first_dose.pk]),
                                 {"reason": "Wrong day"}, **EN)
    assert response.status_code == 200
    assert "cancel it first" in response.content.decode()
    assert not VaccinationDose.objects.filter(cancellation__isnull=False).exists()


def test_doses_are_append_only_in_the_database():
    dose = VaccinationDoseFactory()
    with pytest.raises((InternalError, ProgrammingError, IntegrityError)), \
            transaction.atomic():
        VaccinationDose.objects.filter(pk=dose.pk).update(date=today())


# --- the nurses' list ------------------------------------------------------------------


def test_due_this_week_lists_due_and_overdue_not_later(nurse_client):
    monday, sunday = week_of(today())
    due = course_with_doses(monday - datetime.timedelta(days=7), schedule="accelerated")
    overdue = course_with_doses(months_after(today(), -3))
    later = course_with_doses(today())
    complete = course_with_doses(today() - datetime.timedelta(days=30), vaccine="influenza",
                                 schedule="single")
    deceased = course_with_doses(months_after(today(), -2),
                                 patient=PatientFactory(status="deceased"))
    response = nurse_client.get(reverse("vaccinations:due"), **EN)
    shown = {state.course.pk for state in response.context["states"]}
    assert shown == {due.pk, overdue.pk}
    assert later.pk not in shown and complete.pk not in shown and deceased.pk not in shown
    assert "data-overdue" in response.content.decode()


@pytest.mark.parametrize("rows", [1, 3])
def test_due_this_week_queries_do_not_grow(nurse_client, nurse_user, django_assert_num_queries,
                                           rows):
    for _row in range(rows):
        course_with_doses(today() - datetime.timedelta(days=7), schedule="accelerated")
    nurse_client.get(reverse("vaccinations:due"))  # sessions and caches warmed
    with django_assert_num_queries(QUERIES_DUE_PAGE):
        response = nurse_client.get(reverse("vaccinations:due"))
    assert len(response.context["states"]) == rows


#: The "due this week" page: session, user, permissions and roles (one), the courses,
#: their doses, the audit row and the base template's queries; the same whatever the number
#: of rows.
QUERIES_DUE_PAGE = 9


# --- access ----------------------------------------------------------------------------


def test_vaccinations_are_medical(client, role_users):
    from mass.accounts.roles import Role
    course = course_with_doses(today() - datetime.timedelta(days=3))
    for role, user in role_users.items():
        client.force_login(user)
        page = client.get(reverse("vaccinations:dose_create", args=[course.pk]))
        listing = client.get(reverse("vaccinations:due"))
        file = client.get(reverse("patients:detail", args=[course.patient.pk]))
        medical = role in (Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST)
        assert page.status_code == (200 if medical else 403), role
        assert listing.status_code == (200 if medical else 403), role
        assert (f'data-course="{course.pk}"' in file.content.decode()) == medical, role


def test_dose_cancel_page_is_405_for_put_and_refuses_others(client, role_users):
    course = course_with_doses(today())
    dose = course.doses.get()
    client.force_login(role_users["nurse"])
    assert client.put(reverse("vaccinations:dose_cancel", args=[dose.pk])).status_code == 405
    assert client.get(reverse("vaccinations:dose_cancel", args=[dose.pk])).status_code == 403
    client.force_login(role_users["psychologist"])
    assert client.get(reverse("vaccinations:dose_cancel", args=[dose.pk])).status_code == 404
    assert not VaccinationDose.objects.filter(cancellation__isnull=False).exists()


# --- the summary and the file ----------------------------------------------------------


def test_summary_shows_the_doses_due_to_medical_readers_only(client, role_users):
    first = today() - datetime.timedelta(days=10)
    course = course_with_doses(first)
    url = reverse("patients:summary", args=[course.patient.pk])
    client.force_login(role_users["doctor"])
    page = client.get(url, **EN).content.decode()
    assert "data-summary-vaccinations-due" in page
    assert f'data-due="{months_after(first, 1).isoformat()}"' in page
    client.force_login(role_users["psychologist"])
    assert "data-summary-vaccinations-due" not in client.get(url).content.decode()


def test_patient_file_and_summary_queries_do_not_grow_with_courses(nurse_client):
    patient = PatientFactory()

    def count(url):
        nurse_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            nurse_client.get(url)
        return len(captured)

    course_with_doses(today() - datetime.timedelta(days=40), patient=patient)
    urls = [reverse("patients:detail", args=[patient.pk]),
            reverse("patients:summary", args=[patient.pk])]
    one = [count(url) for url in urls]
    course_with_doses(today() - datetime.timedelta(days=20), today(), patient=patient,
                      schedule="accelerated")
    course_with_doses(today(), patient=patient, vaccine="influenza", schedule="single")
    assert [count(url) for url in urls] == one
