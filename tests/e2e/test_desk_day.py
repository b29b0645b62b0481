"""The desk's day in a real browser: reception starts at the desk, Enter logs what the
person usually comes for, and registering someone logs their arrival in the same step."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import console_errors, csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


def test_enter_logs_the_usual_purpose_and_registering_logs_the_arrival(page, steps,
                                                                       staff_factory):
    from patients.models import Patient, Visit
    from tests.factories import PatientFactory, VisitFactory
    clerk = staff_factory(Role.RECEPTION, username="e2e_desk_day")
    regular = PatientFactory(alias="Sandpiper", birth_year=1978)
    for days in (2, 5, 9):
        VisitFactory(patient=regular, purpose="social",
                     date=timezone.localdate() - datetime.timedelta(days=days))

    login(page, "e2e_desk_day")
    page.wait_for_url("**/reception/")  # reception's start page is the desk
    box = page.get_by_label("Who arrives? Alias, name, file number or birth year")
    box.press_sequentially("sandpiper 1978", delay=30)
    row = page.locator("#arrival-results [data-arrival-row]")
    expect(row).to_have_count(1)
    usual = row.locator("button[name=purpose][data-usual]")
    expect(usual).to_contain_text("Social")
    steps.shot("usual-purpose-highlighted")
    box.press("ArrowDown")
    expect(usual).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#today [data-notice]")).to_contain_text("Sandpiper arrived: Social.")
    assert Visit.objects.filter(patient=regular, date=timezone.localdate()).get().purpose == \
        Visit.Purpose.SOCIAL

    # Someone new: registered and arrived in one step, back at the desk.
    box.press_sequentially("Turnstone", delay=30)
    page.locator("#arrival-results").get_by_role("link", name="Register a new file").click()
    expect(page.get_by_label("Log the arrival now")).to_be_checked()
    # No "I checked the files above" without files above.
    expect(page.locator("input[name=not_a_duplicate]")).to_have_count(0)
    page.get_by_label("Came for").select_option("hygiene")
    steps.shot("registration-with-arrival")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/reception/")
    patient = Patient.objects.get(alias="Turnstone")
    expect(page.get_by_text(f"File {patient.file_number} registered; Turnstone arrived: "
                            "Shower, laundry, rest.")).to_be_visible()
    expect(page.locator("#today [data-visit]").filter(has_text="Turnstone")).to_have_count(1)
    steps.shot("registered-and-arrived")
    visit = Visit.objects.get(patient=patient)
    assert (visit.purpose, visit.logged_by) == (Visit.Purpose.HYGIENE, clerk)
    assert not csp_errors(page), csp_errors(page)
    assert not console_errors(page), console_errors(page)
