"""Part 4 of issue 16: outreach work in the figures by site, and the time from a first
outreach contact to a first visit at the centre."""

import datetime
import statistics

import pytest
from django.urls import reverse
from django.utils import timezone

from mass.models import AuditEvent
from reporting import selectors
from tests.factories import (
    ConsultationFactory,
    GroupAttendanceFactory,
    GroupSessionFactory,
    PatientFactory,
    VisitFactory,
    woeringen,
)
from tests.outreach.conftest import made_at, record, sync

pytestmark = pytest.mark.django_db


def test_synced_contacts_count_at_their_site_and_date(nurse_api, device, shelter):
    patient = PatientFactory()
    when = made_at(datetime.timedelta(hours=-2))
    sync(nurse_api, device, [
        record("contact", site=shelter, patient=patient, when=when),
        record("note", site=shelter, patient=patient, discipline="nursing", text="ok",
               when=when),
        record("material", site=shelter, lines=[{"code": "syringe", "handed_out": 7}],
               when=when),
    ])
    day = datetime.date.fromisoformat(when[:10])

    rows = {row["site_id"]: row for row in selectors.site_breakdown(day.year)}
    figures = selectors.file_active_figures(day.year).figures

    # The walk-in and the note are one contact (a patient on a day), at the shelter.
    assert rows[shelter.pk]["contacts"] == 1 and rows[shelter.pk]["patients"] == 1
    assert rows[shelter.pk]["site_name"] == shelter.name
    assert figures["patient_contacts"] == sum(row["contacts"] for row in rows.values())
    # Anonymous material counts apart, at its date.
    assert figures["harm_reduction_items_handed_out"] == 7


def _day(year, month, day):
    return datetime.date(year, month, day)


def test_outreach_arrivals_of_a_year(shelter):
    year = timezone.localdate().year - 1
    centre = woeringen()
    came_quickly = PatientFactory(alias="Quick")
    VisitFactory(patient=came_quickly, site=shelter, date=_day(year, 3, 2))
    VisitFactory(patient=came_quickly, site=centre, date=_day(year, 3, 12))
    VisitFactory(patient=came_quickly, site=centre, date=_day(year, 5, 1))  # not the first
    came_later = PatientFactory(alias="Later")
    ConsultationFactory(patient=came_later, site=shelter, date=_day(year - 1, 12, 20))
    VisitFactory(patient=came_later, site=centre, date=_day(year, 1, 15))
    centre_first = PatientFactory(alias="Centre first")
    VisitFactory(patient=centre_first, site=centre, date=_day(year, 2, 1))
    VisitFactory(patient=centre_first, site=shelter, date=_day(year, 2, 5))
    VisitFactory(patient=centre_first, site=centre, date=_day(year, 2, 9))
    both_first_day = PatientFactory(alias="Both")
    VisitFactory(patient=both_first_day, site=shelter, date=_day(year, 4, 1))
    VisitFactory(patient=both_first_day, site=centre, date=_day(year, 4, 1))
    outreach_only = PatientFactory(alias="Outreach only")
    VisitFactory(patient=outreach_only, site=shelter, date=_day(year, 6, 1))
    next_year = PatientFactory(alias="Next year")
    VisitFactory(patient=next_year, site=shelter, date=_day(year, 12, 30))
    VisitFactory(patient=next_year, site=centre, date=_day(year + 1, 1, 2))

    arrivals = selectors.outreach_arrivals(year)

    expected = {"Quick": (_day(year, 3, 12) - _day(year, 3, 2)).days,
                "Later": (_day(year, 1, 15) - _day(year - 1, 12, 20)).days}
    assert {row["alias"]: row["days"] for row in arrivals.rows} == expected
    assert arrivals.median_days == statistics.median(expected.values())
    assert [row["alias"] for row in selectors.outreach_arrivals(year + 1).rows] == ["Next year"]


def test_outreach_arrivals_met_at_a_group_session_outside(shelter):
    """Only the people with a record at an outreach site are read again (reporting.sql): a
    group session held at the shelter is such a record, as a walk-in there is; a first day
    whose only record names no site is neither on outreach nor at the centre."""
    year = timezone.localdate().year - 1
    centre = woeringen()
    at_group = PatientFactory(alias="Group outside")
    GroupAttendanceFactory(patient=at_group,
                           session=GroupSessionFactory(site=shelter, date=_day(year, 2, 3)))
    VisitFactory(patient=at_group, site=centre, date=_day(year, 2, 10))
    no_site_first = PatientFactory(alias="No site first")
    VisitFactory(patient=no_site_first, site=None, date=_day(year, 3, 1))
    VisitFactory(patient=no_site_first, site=shelter, date=_day(year, 3, 2))
    VisitFactory(patient=no_site_first, site=centre, date=_day(year, 3, 9))

    rows = selectors.outreach_arrivals(year).rows

    assert [(row["alias"], row["days"]) for row in rows] == [("Group outside", 7)]


def test_outreach_arrivals_page_shows_median_and_list_audited(coordinator_client,
                                                              coordinator_user, shelter):
    year = timezone.localdate().year - 1
    person = PatientFactory(alias="Arrived")
    VisitFactory(patient=person, site=shelter, date=_day(year, 5, 1))
    VisitFactory(patient=person, site=woeringen(), date=_day(year, 5, 21))

    response = coordinator_client.get(reverse("reporting:outreach_arrivals", args=[year]),
                                      HTTP_ACCEPT_LANGUAGE="en")

    content = response.content.decode()
    assert "Arrived" in content and person.file_number in content
    assert "data-arrivals-median>20<" in content
    event = AuditEvent.objects.filter(actor=coordinator_user).latest("id")
    assert event.details["patients"] == [person.pk]
    figures_page = coordinator_client.get(reverse("reporting:file_active", args=[year]))
    assert reverse("reporting:outreach_arrivals", args=[year]) in figures_page.content.decode()


def test_outreach_arrivals_page_is_for_the_coordinator(nurse_client):
    year = timezone.localdate().year
    assert nurse_client.get(reverse("reporting:outreach_arrivals", args=[year])
                            ).status_code == 403


def test_outreach_arrivals_page_queries_do_not_grow(coordinator_client, shelter,
                                                    django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    year = timezone.localdate().year - 1

    def arrival(n):
        person = PatientFactory()
        VisitFactory(patient=person, site=shelter, date=_day(year, 2, n))
        VisitFactory(patient=person, site=woeringen(), date=_day(year, 3, n))

    arrival(1)
    url = reverse("reporting:outreach_arrivals", args=[year])
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(url)
    arrival(2)
    arrival(3)
    with django_assert_num_queries(len(one)):
        response = coordinator_client.get(url)
    assert "data-arrivals-count>3<" in response.content.decode()
