"""An alert banner (issue 12, part 3), in a real browser: a doctor records "doctor before
any dose" on a patient's file; at the counter the nurse sees it on the row and on the
dispense form, where no dose is offered; once the doctor has seen the person and ended the
alert, the dose is offered again."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


@pytest.fixture
def heron(staff_factory, _reference_data_for_transactional_test):
    """Heron's methadone, 60 mg from today, due on the list; a nurse and a doctor."""
    from dispensary import services
    from dispensary.models import Product
    from tests.factories import PatientFactory, PrescriptionFactory
    nurse = staff_factory(Role.NURSE, username="e2e_nurse")
    staff_factory(Role.DOCTOR, username="e2e_doctor")
    syrup = Product.objects.get(name="Methadone syrup 1 mg/ml")
    services.register_receipt(product=syrup, quantity=Decimal("1000"), supplier="e2e",
                              batch="E2E-1", received_on=timezone.localdate(), actor=nurse)
    return PrescriptionFactory(patient=PatientFactory(alias="Heron"), product=syrup)


def test_doctor_records_an_alert_and_the_nurse_sees_it_at_the_counter(page, new_page, steps,
                                                                       heron):
    from alerts.models import Alert
    rx = heron
    patient = rx.patient

    # The doctor, on the patient's file: record "doctor before any dose".
    login(page, "e2e_doctor")
    page.goto(f"/patients/{patient.pk}/")
    page.locator("[data-alerts-link]").click()
    page.get_by_role("link", name="Record an alert").click()
    page.select_option("select[name=kind]", "doctor_first")
    page.fill("input[name=text]", "Very drowsy last night: I see him before the dose")
    steps.shot("doctor-records")
    page.get_by_role("button", name="Record the alert").click()
    expect(page.locator("[data-alert-kind=doctor_first]")).to_contain_text("Very drowsy")
    page.goto(f"/patients/{patient.pk}/")
    expect(page.locator("[data-alert-banner]")).to_contain_text("Doctor before any dose")
    steps.shot("banner-on-the-file")

    # The nurse, at the counter: the row says to call a doctor, and offers no dose.
    nurse = new_page("en")
    login(nurse, "e2e_nurse")
    nurse.goto("/dispensary/?q=her")
    row = nurse.locator(f"#rx-{rx.pk}")
    expect(row.locator("[data-alert-banner]")).to_contain_text("Very drowsy last night")
    expect(row.locator("[data-doctor-first]")).to_contain_text("Call a doctor")
    expect(row.locator("[data-give]")).to_have_count(0)
    steps.shot("counter-row", nurse)
    row.get_by_role("link", name="Withhold…").click()
    expect(nurse.locator("[data-alert-banner]")).to_contain_text("Very drowsy last night")
    expect(nurse.locator("div[data-doctor-first]")).to_contain_text("Doctor before any dose.")
    expect(nurse.get_by_role("button", name="Give the dose")).to_be_disabled()
    steps.shot("dispense-form", nurse)

    # The doctor has seen him and ends the alert; the dose is offered again.
    page.goto(f"/patients/{patient.pk}/alerts/")
    page.locator("[data-end-alert]").click()
    page.fill("input[name=reason]", "Seen at 10:00: alert, no sedation, usual dose")
    page.get_by_role("button", name="End the alert").click()
    expect(page.locator("tr[data-ended]")).to_contain_text("usual dose")
    steps.shot("alert-ended")
    assert not Alert.objects.filter(ended_at__isnull=True).exists()

    nurse.goto("/dispensary/?q=her")
    expect(nurse.locator(f"[data-give='{rx.pk}-day']")).to_contain_text("Give 60 mg")
    expect(nurse.locator(f"#rx-{rx.pk} [data-alert-banner]")).to_have_count(0)
    steps.shot("dose-offered-again", nurse)
    assert not csp_errors(page, nurse), csp_errors(page, nurse)
