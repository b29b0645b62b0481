import datetime

import pytest

from mass.accounts.roles import Role
from mass.models import AuditEvent
from tests.factories import PatientFactory, VisitFactory
from tests.reporting.conftest import EXPECTED_2025

URL = "/reporting/file-active/2025/explain/{}/"


def rows_of(response) -> list[list]:
    return [[cell["value"] for cell in row] for row in response.context["rows"]]


@pytest.mark.parametrize("figure,count", [
    ("annual_active_patients", EXPECTED_2025["annual_active_patients"]),
    ("patient_contacts", EXPECTED_2025["patient_contacts"]),
    ("activity_days", EXPECTED_2025["activity_days"]),
    ("daily_distinct_patients_avg", EXPECTED_2025["activity_days"]),
    ("daily_consultations_avg", EXPECTED_2025["activity_days"]),
    ("monthly_active_patients_avg", 3),  # months with an activity day
    ("weekly_active_patients_avg", 4),  # ISO weeks with an activity day in 2025
    ("consultations", EXPECTED_2025["consultations"]),
    ("new_requests", EXPECTED_2025["new_requests"]),
    ("resumption_requests", EXPECTED_2025["resumption_requests"]),
    ("patients_in_treatment", EXPECTED_2025["patients_in_treatment"]),
    ("income_in_treatment", EXPECTED_2025["patients_in_treatment"]),
    ("dispensations", EXPECTED_2025["dispensations"]),
    ("patients_on_substitution", EXPECTED_2025["patients_on_substitution"]),
    ("group_attendances", EXPECTED_2025["group_attendances"]),
    ("harm_reduction_contacts", EXPECTED_2025["harm_reduction_contacts"]),
])
def test_each_figure_lists_what_it_counts(coordinator_client, history, figure, count):
    response = coordinator_client.get(URL.format(figure))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == count
    assert len(response.context["rows"]) == count


def test_new_requests_list_names_each_episode(coordinator_client, history):
    response = coordinator_client.get(URL.format("new_requests"), HTTP_ACCEPT_LANGUAGE="en")
    rows = rows_of(response)
    assert [row[1] for row in rows] == ["Patient B (F-B)", "Patient H (F-H)", "Patient G (F-G)"]
    # H was recorded as a resumption: the list shows it, with no earlier episode.
    assert rows[1][2] is None and rows[1][3] == "Resumption request"
    assert "Patient H (F-H)" in response.content.decode()


def test_monthly_average_list_shows_each_month_with_drill_down(coordinator_client, history):
    response = coordinator_client.get(URL.format("monthly_active_patients_avg"))
    first = response.context["rows"][0]
    assert first[1]["value"] == 2
    assert first[1]["url"] == URL.format("annual_active_patients") + "?month=1"


def test_weekly_list_counts_the_straddling_week_in_the_year(coordinator_client, history):
    response = coordinator_client.get(URL.format("weekly_active_patients_avg"))
    rows = rows_of(response)
    assert rows[0][0] == "2025-W01"
    assert rows[0][1] == datetime.date(2025, 1, 1)  # first activity day, not 30 December
    assert rows[-1][0] == "2026-W01" and rows[-1][2] == datetime.date(2025, 12, 31)
    assert [row[4] for row in rows] == [2, 1, 2, 2]


@pytest.mark.parametrize("query,aliases", [
    ("?month=6", ["Patient B (F-B)", "Patient C (F-C)"]),
    ("?week=2024-12-31", ["Patient A (F-A)", "Patient B (F-B)"]),  # any day of the week
    ("?day=2025-06-16", ["Patient B (F-B)", "Patient C (F-C)"]),
])
def test_active_patients_drill_down(coordinator_client, history, query, aliases):
    response = coordinator_client.get(URL.format("annual_active_patients") + query)
    assert [row[0] for row in rows_of(response)] == aliases


def test_contact_list_shows_every_route_of_a_day(coordinator_client, history):
    response = coordinator_client.get(URL.format("patient_contacts") + "?day=2025-01-01",
                                      HTTP_ACCEPT_LANGUAGE="en")
    [row] = rows_of(response)
    assert row[1] == "Patient A (F-A)"
    assert row[2] == "consultation, group attendance, dispensation, walk-in"


def test_income_list_by_source(coordinator_client, history):
    response = coordinator_client.get(URL.format("income_in_treatment") + "?source=unknown")
    # C is not in treatment in 2025: the 6-month rule ended its episode in May 2024.
    assert [row[0] for row in rows_of(response)] == ["Patient H (F-H)"]
    response = coordinator_client.get(URL.format("income_in_treatment") + "?source=cpas",
                                      HTTP_ACCEPT_LANGUAGE="en")
    [row] = rows_of(response)
    assert row[0] == "Patient A (F-A)"  # the latest of A's two records in 2025
    assert row[2] == datetime.date(2025, 6, 1)


def test_bad_filter_is_reported_and_ignored(coordinator_client, history):
    response = coordinator_client.get(URL.format("annual_active_patients") + "?month=13&day=x",
                                      HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "not understood" in response.content.decode()
    assert response.context["page"].paginator.count == 4


def test_day_of_another_year_is_refused(coordinator_client, history):
    response = coordinator_client.get(URL.format("patient_contacts") + "?day=2024-12-31",
                                      HTTP_ACCEPT_LANGUAGE="en")
    assert "Not in 2025" in response.content.decode()
    assert response.context["page"].paginator.count == 9


def test_unknown_figure_is_404(coordinator_client, db):
    assert coordinator_client.get(URL.format("everything")).status_code == 404


def test_reading_a_list_is_audited(coordinator_client, coordinator_user, history):
    coordinator_client.get(URL.format("new_requests") + "?month=7")
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, actor=coordinator_user)
    patients = event.details.pop("patients")
    assert event.details == {"year": 2025, "figure": "new_requests", "page": 1,
                             "filters": ["month"]}
    # The patients of the page, named for "who read this file".
    assert patients and all(isinstance(pk, int) for pk in patients)


def test_list_is_refused_to_other_roles(client, staff_factory, history):
    client.force_login(staff_factory(Role.DOCTOR))
    assert client.get(URL.format("patient_contacts")).status_code == 403


def test_list_pages_in_constant_queries(coordinator_client, db, django_assert_num_queries):
    VisitFactory(date=datetime.date(2025, 3, 1))
    coordinator_client.get(URL.format("patient_contacts"))
    # Session, user, permissions and roles (one), session save (3); the page with its count
    # (one statement: reporting.sql.ListingPaginator); audit row.
    with django_assert_num_queries(8):
        coordinator_client.get(URL.format("patient_contacts"))
    for patient in PatientFactory.create_batch(150):
        VisitFactory(patient=patient, date=datetime.date(2025, 3, 2))
    with django_assert_num_queries(8):
        response = coordinator_client.get(URL.format("patient_contacts") + "?page=2")
    assert len(response.context["rows"]) == 51
    assert response.context["page"].paginator.count == 151
    # Past the last page: the empty page, then the count and the last page, as Paginator.
    with django_assert_num_queries(10):
        response = coordinator_client.get(URL.format("patient_contacts") + "?page=9")
    assert response.context["page"].number == 2 and len(response.context["rows"]) == 51


@pytest.mark.parametrize("number", ["1", "2", "3", "4", "99", "9" * 20, "0", "-1", "x", None])
def test_listing_pages_are_the_slices_paginator_would_read(db, number):
    """A page and its count read in one statement hold the rows, in the order, of the count
    and slice Django's Paginator reads in two ("1" to "4", "x", None, and "99" first); a
    page past the end or before the first is the one Paginator gives (the last), a page
    past PostgreSQL's bigint OFFSET too."""
    from django.core.paginator import Paginator

    from reporting.sql import ListingPaginator, active_patients_listing

    for n, patient in enumerate(PatientFactory.create_batch(250)):
        VisitFactory(patient=patient, date=datetime.date(2025, 1 + n % 12, 1 + n % 28))
    listing = active_patients_listing(start=datetime.date(2025, 1, 1),
                                      end=datetime.date(2025, 12, 31))

    ours = ListingPaginator(listing, 100).get_page(number)
    theirs = Paginator(listing, 100).get_page(number)

    assert ours.number == theirs.number and ours.paginator.count == theirs.paginator.count
    assert list(ours.object_list) == list(theirs.object_list)
    assert len(ours.object_list) == (100 if theirs.number < 3 else 50)


def test_listing_count_column_is_not_a_listing_column(db):
    from reporting.sql import SqlListing

    assert SqlListing("SELECT 5 AS listing_count", {}).rows_and_count(0, 10) == (
        [{"listing_count": 5}], 1)


# --- the dispensations list follows the dispensary's read rule ------------------------------


def test_coordinator_sees_who_came_for_a_dose_not_what_was_given(coordinator_client, history):
    response = coordinator_client.get(URL.format("dispensations"), HTTP_ACCEPT_LANGUAGE="en")

    content = response.content.decode()
    assert [column.key for column in response.context["explanation"].columns] == [
        "date", "patient", "dose_date"]
    assert [row[1] for row in rows_of(response)] == [
        "Patient A (F-A)", "Patient C (F-C)", "Patient D (F-D)"]
    assert "Quantity" not in content and "Product" not in content
    assert "Methadone" not in content and "Diazepam" not in content
    # Not even read: the rows carry no dose.
    assert not {"quantity", "product_name"} & set(response.context["page"].object_list[0])


def test_doctor_who_coordinates_sees_product_and_quantity(client, staff_factory, history):
    client.force_login(staff_factory(Role.DOCTOR, Role.COORDINATOR))

    response = client.get(URL.format("dispensations"), HTTP_ACCEPT_LANGUAGE="en")

    content = response.content.decode()
    assert [column.key for column in response.context["explanation"].columns] == [
        "date", "patient", "product_name", "quantity", "dose_date"]
    rows = rows_of(response)
    assert [(row[1], row[2], row[3]) for row in rows] == [
        ("Patient A (F-A)", "Methadone syrup 1 mg/ml", 60),
        ("Patient C (F-C)", "Methadone syrup 1 mg/ml", 60),
        ("Patient D (F-D)", "Diazepam tablets", 10)]
    assert "Quantity" in content and "Diazepam tablets" in content
