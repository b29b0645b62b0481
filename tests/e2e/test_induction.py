"""The induction warning in a real browser (issue 12, part 4): a doctor prescribes a
brand-new patient too high a starting dose of methadone, is shown the rule and its source,
nothing is saved; confirming with a reason saves the prescription and records the reason."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import console_errors, csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]

REASON = "Tolerance confirmed: 60 mg a day at the Transit programme until Friday."


def test_doctor_confirms_a_starting_dose_above_the_rule_with_a_reason(
        page, steps, staff_factory, _reference_data_for_transactional_test):
    from dispensary.models import InductionRule, Prescription, Product
    from tests.factories import PatientFactory
    doctor = staff_factory(Role.DOCTOR, username="e2e_doctor")
    patient = PatientFactory(alias="Heron")
    syrup = Product.objects.get(name="Methadone syrup 1 mg/ml")
    rule = InductionRule.objects.get(product=syrup)
    dose = rule.max_starting_dose * 2

    login(page, "e2e_doctor")
    page.goto(reverse("dispensary:prescription_create", args=[patient.pk]))
    page.get_by_label("Product").select_option(label="Methadone syrup 1 mg/ml")
    page.get_by_label("Daily dose").fill(f"{dose.normalize():f}")
    expect(page.get_by_label("Reason for going above the induction rules")).to_have_count(0)
    steps.shot("first-prescription")
    page.get_by_role("button", name="Prescribe").click()

    # The warning: the rule, its source; nothing saved; the confirmation offered.
    warning = page.locator("[data-induction-warning]")
    expect(warning).to_contain_text(
        f"Starting dose {dose.normalize():f} mg: above the induction ceiling of "
        f"{rule.max_starting_dose.normalize():f} mg")
    expect(warning).to_contain_text("a first prescription of methadone for this patient")
    expect(warning).to_contain_text("WHO")
    steps.shot("induction-warning")
    assert not Prescription.objects.filter(patient=patient).exists()

    # Confirmed without a reason: refused, still nothing saved.
    page.get_by_label("I have read the induction rule and prescribe above it").check()
    page.get_by_role("button", name="Prescribe").click()
    expect(page.get_by_text("Give the reason for going above the induction rules")).to_be_visible()
    assert not Prescription.objects.filter(patient=patient).exists()

    page.get_by_label("I have read the induction rule and prescribe above it").check()
    page.get_by_label("Reason for going above the induction rules").fill(REASON)
    steps.shot("confirmed-with-reason")
    page.get_by_role("button", name="Prescribe").click()
    expect(page.get_by_text("Prescription recorded")).to_be_visible()
    steps.shot("prescription-recorded")

    rx = Prescription.objects.get(patient=patient)
    assert (rx.daily_dose, rx.start_date, rx.prescribed_by) == (
        Decimal(dose), timezone.localdate(), doctor)
    assert rx.induction_overrides == ["starting_dose"]
    assert rx.induction_override_reason == REASON
    assert not csp_errors(page), csp_errors(page)
    assert not console_errors(page), console_errors(page)
