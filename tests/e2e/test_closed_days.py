"""A closed-day plan in a real browser (issue 12, item 5): a coordinator records a closure of
the centre for tomorrow; the nurse's list today says the centre is closed, the row of a
patient with a take-home right offers tomorrow's dose with today's, and one click hands both
(tomorrow's as a take-home entry); a patient without a take-home right is flagged, and a
doctor's plan on the closed-day page lets tomorrow's dose go home with today's too."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


@pytest.fixture
def patients(staff_factory, _reference_data_for_transactional_test):
    """Egret may take doses home (on a weekday four days ahead); Ibis comes every day."""
    from dispensary import services
    from dispensary.models import Product
    from tests.factories import PatientFactory, PrescriptionFactory
    staff_factory(Role.COORDINATOR, username="e2e_coordinator")
    staff_factory(Role.DOCTOR, username="e2e_doctor")
    nurse = staff_factory(Role.NURSE, username="e2e_nurse")
    syrup = Product.objects.get(name="Methadone syrup 1 mg/ml")
    services.register_receipt(product=syrup, quantity=Decimal("2000"), supplier="e2e",
                              batch="E2E-C", received_on=timezone.localdate(), actor=nurse)
    in_four_days = timezone.localdate() + datetime.timedelta(days=4)
    # Egret: an established treatment (past the induction rule's supervised first days) with
    # a take-home right; Ibis: a first day, supervised.
    egret = PrescriptionFactory(patient=PatientFactory(alias="Egret"), product=syrup,
                                start_date=timezone.localdate() - datetime.timedelta(days=30),
                                take_home_weekdays=[in_four_days.weekday()])
    from tests.dispensary.conftest import history
    history(egret, days_ago=[2, 1])
    ibis = PrescriptionFactory(patient=PatientFactory(alias="Ibis"), product=syrup)
    return egret, ibis


def test_closure_tomorrow_hands_its_dose_with_todays(page, new_page, steps, patients):
    from dispensary.models import Dispensation
    egret, ibis = patients
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    login(page, "e2e_coordinator")
    page.goto("/sites/")
    page.locator("tr", has_text="MASS Woeringen").get_by_role("link", name="Closures").click()
    page.fill("input[name=first_day]", tomorrow.isoformat())
    page.fill("input[name=last_day]", tomorrow.isoformat())
    page.fill("input[name=reason]", "Staff training day")
    steps.shot("closure-form")
    page.get_by_role("button", name="Record the closure").click()
    expect(page.get_by_role("alert").first).to_contain_text("Closure of MASS Woeringen recorded")
    expect(page.locator("[data-closure]")).to_contain_text("Staff training day")
    steps.shot("closure-recorded")

    nurse = new_page("en")
    login(nurse, "e2e_nurse")
    nurse.goto("/dispensary/")
    expect(nurse.locator("[data-closed-days]")).to_contain_text("Staff training day")
    expect(nurse.locator("[data-closed-days]")).to_contain_text("1 patient needs a doctor's plan")
    egret_row = nurse.locator(f"#rx-{egret.pk}")
    expect(egret_row.locator("[data-closed-take-home]")).to_contain_text("Staff training day")
    expect(egret_row.locator(f"[data-give='{egret.pk}-day']")).to_contain_text("take-home day")
    expect(nurse.locator(f"#rx-{ibis.pk} [data-closed-day-plan]")).to_contain_text(
        "a doctor's plan is needed")
    steps.shot("list-with-closed-day-plan", nurse)

    egret_row.locator(f"[data-give='{egret.pk}-day']").click()
    expect(nurse.locator(f"#rx-{egret.pk}")).to_contain_text("Take-home doses handed for:")
    steps.shot("given-with-take-home", nurse)
    tomorrows = Dispensation.objects.get(prescription=egret, dose_date=tomorrow)
    assert tomorrows.date == timezone.localdate() and tomorrows.status == "given"
    assert not Dispensation.objects.filter(prescription=ibis).exists()

    doctor = new_page("en")
    login(doctor, "e2e_doctor")
    doctor.goto("/dispensary/closed-days/")
    form = doctor.locator(f"[data-plan-form='{ibis.pk}']")
    form.get_by_label("Take-home with the dose of the day before").check()
    form.locator("input[name=note]").fill("Seen today: stable, may take tomorrow's dose.")
    steps.shot("doctor-plans", doctor)
    form.get_by_role("button", name="Record the plan").click()
    expect(doctor.get_by_role("alert").first).to_contain_text(
        "Closed-day plan recorded for Ibis.")
    expect(doctor.locator(f"[data-plan='{ibis.pk}']")).to_have_count(0)

    nurse.goto("/dispensary/")
    ibis_row = nurse.locator(f"#rx-{ibis.pk}")
    expect(ibis_row.locator("[data-closed-day-note]")).to_contain_text("stable")
    ibis_row.locator(f"[data-give='{ibis.pk}-day']").click()
    expect(nurse.locator(f"#rx-{ibis.pk}")).to_contain_text("Take-home doses handed for:")
    steps.shot("planned-take-home-given", nurse)
    assert Dispensation.objects.filter(prescription=ibis, dose_date=tomorrow).exists()
    assert not csp_errors(page, nurse, doctor), csp_errors(page, nurse, doctor)
