"""A doctor's day with the clinical record (issue 17), in a real browser: on the file of a
patient on 120 mg of methadone without a recent ECG, "ECG due" shows; the doctor records a
diagnosis found by English words, the QTc of today's ECG, a first dose of hepatitis B vaccine
and an HCV RNA result, and sees them all on the clinical summary, where "ECG due" is gone."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


@pytest.fixture
def ibis(staff_factory, _reference_data_for_transactional_test):
    from dispensary import services
    from dispensary.models import Product
    from tests.factories import PatientFactory, PrescriptionFactory
    nurse = staff_factory(Role.NURSE, username="e2e_nurse")
    staff_factory(Role.DOCTOR, username="e2e_doctor")
    syrup = Product.objects.get(name="Methadone syrup 1 mg/ml")
    services.register_receipt(product=syrup, quantity=Decimal("1000"), supplier="e2e",
                              batch="E2E-1", received_on=timezone.localdate(), actor=nurse)
    return PrescriptionFactory(patient=PatientFactory(alias="Ibis"), product=syrup,
                               daily_dose=120)


def test_doctor_records_a_diagnosis_and_a_qtc_and_sees_them_on_the_summary(page, steps, ibis):
    from clinical.models import Measurement, ProblemVersion
    from labs.models import LabResult
    from vaccinations.models import VaccinationDose
    patient = ibis.patient

    login(page, "e2e_doctor")
    page.goto(f"/patients/{patient.pk}/")
    expect(page.locator("[data-alert-banner] [data-derived-alert]")).to_contain_text(
        "an ECG is due")
    panel = page.locator("[data-panel=clinical]")
    steps.shot("file-ecg-due")

    # A diagnosis, found by English words, its code filled in by the chosen match.
    panel.get_by_role("link", name="New problem").click()
    page.fill("input[name=q]", "opioids dependence")
    page.get_by_role("button", name="Search").click()
    page.locator("[data-icd10='F11.2']").click()
    expect(page.locator("input[name=code]")).to_have_value("F11.2")
    page.fill("input[name=label]", "Dépendance aux opiacés")
    page.fill("input[name=onset]", "2019-05-01")
    steps.shot("problem-form")
    page.get_by_role("button", name="Record the problem").click()
    summary = page.locator("[data-summary-section=problems]")
    expect(summary).to_contain_text("F11.2")
    expect(summary).to_contain_text("Dépendance aux opiacés")
    assert ProblemVersion.objects.get(problem__patient=patient).substance == "F11"

    # Today's ECG: its QTc.
    # (The summary is a document in the patient's language: its links found by address.)
    page.locator(f"[data-summary-section=measures] "
                 f"a[href='/patients/{patient.pk}/measures/new/']").click()
    page.fill("input[name=qtc_ms]", "468")
    page.fill("input[name=weight_kg]", "71.5")
    steps.shot("measures-form")
    page.get_by_role("button", name="Record the measures").click()
    expect(page.locator("[data-measure-chart=qtc_ms]")).to_be_visible()
    steps.shot("measures-charts")
    assert Measurement.objects.get(patient=patient).qtc_ms == 468

    # A first dose of hepatitis B vaccine, on the schedule for people hard to reach.
    page.goto(f"/patients/{patient.pk}/")
    page.locator("[data-panel=vaccinations]").get_by_role(
        "link", name="New vaccination course").click()
    page.select_option("select[name=vaccine]", "hbv")
    page.select_option("select[name=schedule]", "accelerated")
    page.fill("input[name=batch]", "HBV-E2E-7")
    page.get_by_role("button", name="Save").click()
    dose = VaccinationDose.objects.get(course__patient=patient)
    assert (dose.number, dose.batch, dose.course.schedule) == (1, "HBV-E2E-7", "accelerated")

    # The HCV viral load from the lab.
    page.goto(f"/patients/{patient.pk}/")
    page.locator("[data-panel=labs]").get_by_role("link", name="New lab result").click()
    page.select_option("select[name=test]", "hcv_rna")
    page.select_option("select[name=reading]", "positive")
    page.fill("input[name=value]", "520000")
    page.fill("input[name=unit]", "IU/mL")
    page.fill("input[name=laboratory]", "LHUB-ULB")
    steps.shot("lab-result-form")
    page.get_by_role("button", name="Save").click()
    result = LabResult.objects.get(patient=patient)
    assert (result.test, result.value, result.unit) == ("hcv_rna", Decimal("520000"), "IU/mL")

    # The clinical summary: the diagnosis, the QTc, the treatment, the vaccine due next and
    # the cascade's step; no longer "ECG due".
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Clinical summary").click()
    due = page.locator("[data-summary-section=vaccinations_due] [data-summary-vaccinations-due]")
    expect(due).to_be_visible()
    expect(page.locator(f"[data-summary-section=latest_tests] "
                        f"[data-summary-result='{result.pk}']")).to_be_visible()
    expect(page.locator("[data-summary-section=measures]")).to_contain_text("468 ms")
    expect(page.locator("[data-summary-section=problems]")).to_contain_text("F11.2")
    expect(page.locator("[data-summary-section=treatment]")).to_contain_text("120")
    expect(page.locator("[data-ecg-due]")).to_have_count(0)
    expect(page.locator("[data-print]")).to_be_visible()
    steps.shot("summary")
    # Nor on the file's banner.
    page.goto(f"/patients/{patient.pk}/")
    expect(page.locator("[data-derived-alert]")).to_have_count(0)
    assert not csp_errors(page)
