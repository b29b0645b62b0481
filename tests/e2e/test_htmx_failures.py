"""The dose button when the action cannot reach the ledger (issue 12, item 6), in a real
browser: after the idle timeout the page goes to the login page saying the dose was NOT
recorded, and back to the list after login; with the network down, or the nurse's role
withdrawn meanwhile, the page says so above the list. Never a login form inside the row."""

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
def heron(staff_factory, _reference_data_for_transactional_test):
    """Heron's methadone, 60 mg from today, due on the list; the stock to give it from."""
    from dispensary import services
    from dispensary.models import Product
    from tests.factories import PatientFactory, PrescriptionFactory
    nurse = staff_factory(Role.NURSE, username="e2e_nurse")
    syrup = Product.objects.get(name="Methadone syrup 1 mg/ml")
    services.register_receipt(product=syrup, quantity=Decimal("1000"), supplier="e2e",
                              batch="E2E-1", received_on=timezone.localdate(), actor=nurse)
    return nurse, PrescriptionFactory(patient=PatientFactory(alias="Heron"), product=syrup)


def doses_of(rx) -> int:
    from dispensary.models import Dispensation
    return Dispensation.objects.filter(prescription=rx).count()


def test_dose_button_after_session_expiry_goes_to_login_and_back(page, steps, heron):
    from django.contrib.sessions.models import Session
    _, rx = heron
    login(page, "e2e_nurse")
    page.goto("/dispensary/?q=her")
    give = page.locator(f"[data-give='{rx.pk}-day']")
    expect(give).to_contain_text("Give 60 mg")
    steps.shot("list")

    # Thirty minutes at the counter without a click: the session has expired.
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    give.click()

    page.wait_for_url("**/accounts/login/?next=%2Fdispensary%2F%3Fq%3Dher")
    expect(page.get_by_role("alert")).to_contain_text(
        "Not recorded: your session had ended before the action reached the server.")
    expect(page.locator("#dispensing-list")).to_have_count(0)
    steps.shot("login-says-not-recorded")
    assert doses_of(rx) == 0

    page.fill("input[name=username]", "e2e_nurse")
    page.fill("input[name=password]", "test-password-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/dispensary/?q=her")
    give = page.locator(f"[data-give='{rx.pk}-day']")
    expect(give).to_contain_text("Give 60 mg")  # still due: nothing was recorded
    give.click()
    expect(page.locator("#dispensing-list")).to_contain_text("Heron: 60 mg")
    steps.shot("given-after-login")
    assert doses_of(rx) == 1
    assert not csp_errors(page), csp_errors(page)


def test_dose_button_with_the_network_down_says_not_recorded(page, steps, heron):
    _, rx = heron
    login(page, "e2e_nurse")
    page.goto("/dispensary/")
    give = page.locator(f"[data-give='{rx.pk}-day']")
    expect(give).to_contain_text("Give 60 mg")

    page.context.set_offline(True)
    give.click()
    alert = page.locator("#htmx-alert [role=alert]")
    expect(alert).to_have_text(
        "Not recorded: the connection was lost. Check your connection and try again.")
    expect(give).to_be_enabled()  # the row is as it was: the nurse can try again
    steps.shot("connection-lost")
    assert doses_of(rx) == 0

    page.context.set_offline(False)
    give.click()
    expect(page.locator("#dispensing-list")).to_contain_text("Heron: 60 mg")
    assert doses_of(rx) == 1
    assert not csp_errors(page), csp_errors(page)


def test_dose_button_refused_shows_the_alert_above_the_list(page, steps, heron):
    nurse, rx = heron
    login(page, "e2e_nurse")
    page.goto("/dispensary/")
    give = page.locator(f"[data-give='{rx.pk}-day']")
    expect(give).to_contain_text("Give 60 mg")

    nurse.groups.clear()  # the coordinator withdrew the nurse role meanwhile
    give.click()
    alert = page.locator("#htmx-alert [role=alert]")
    expect(alert).to_contain_text("Not recorded: you are not allowed to do this")
    expect(page.locator(f"#rx-{rx.pk}")).to_contain_text("Heron")  # the row is still there
    steps.shot("refused")
    assert doses_of(rx) == 0
    assert not csp_errors(page), csp_errors(page)
