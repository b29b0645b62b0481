"""The identification photo in a real browser (issue 12, part 2): at the counter, two files
called Kéké; the nurse opens one's dispense form, takes the photo with the device camera
(Chromium's fake camera), with the person's consent, and back on the dispensing list the
row shows it, while the other Kéké shows birth year, sex and distinguishing feature."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mass.accounts.roles import Role
from tests.e2e.conftest import csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.locale("en")]


@pytest.fixture
def two_kekes(staff_factory, settings, tmp_path, _reference_data_for_transactional_test):
    from dispensary import services
    from dispensary.models import Product
    from tests.factories import PatientFactory, PrescriptionFactory
    settings.PHOTO_ROOT = tmp_path / "photos"
    nurse = staff_factory(Role.NURSE, username="e2e_nurse")
    syrup = Product.objects.get(name="Methadone syrup 1 mg/ml")
    services.register_receipt(product=syrup, quantity=Decimal("1000"), supplier="e2e",
                              batch="E2E-1", received_on=timezone.localdate(), actor=nurse)
    first = PrescriptionFactory(patient=PatientFactory(alias="Kéké", file_number="E1"),
                                product=syrup)
    second = PrescriptionFactory(
        patient=PatientFactory(alias="Kéké", file_number="E2", birth_year=1979, sex="F",
                               distinguishing_note="tattoo left hand"), product=syrup)
    return first, second


def test_photo_taken_at_the_counter_shows_on_the_dispensing_row(page, steps, two_kekes,
                                                                settings):
    from patients.models import PatientPhoto, PhotoConsent
    first, second = two_kekes
    login(page, "e2e_nurse")
    page.goto("/dispensary/")
    row, other = page.locator(f"#rx-{first.pk}"), page.locator(f"#rx-{second.pk}")
    expect(row.locator("img[data-photo]")).to_have_count(0)
    expect(other).to_contain_text("born 1979 · Female")
    expect(other).to_contain_text("tattoo left hand")
    steps.shot("two-kekes")

    row.locator("a", has_text="other").click()
    page.get_by_role("link", name="Take a photo (with consent)").click()
    page.get_by_role("button", name="Start the camera").click()
    # The page's CSP forbids evaluated strings: wait on the element's property instead.
    expect(page.locator("[data-camera-video]")).not_to_have_js_property("videoWidth", 0)
    page.get_by_role("button", name="Take the photo").click()
    expect(page.locator("[data-camera-taken]")).to_be_visible()
    page.locator("input[name=consent]").check()
    steps.shot("photo-taken")
    page.get_by_role("button", name="Save the photo").click()

    # Back on the dispense form it was taken from: the photo is there.
    expect(page.get_by_role("alert").or_(page.locator(".alert-success"))).to_contain_text(
        "Photo saved for Kéké.")
    expect(page.locator(f"img[data-photo='{first.patient.pk}']")).to_be_visible()
    photo = PatientPhoto.objects.get(patient=first.patient)
    assert photo.source == "camera"
    assert PhotoConsent.objects.get(patient=first.patient).decision == "given"
    assert sorted(p.name for p in settings.PHOTO_ROOT.iterdir()) == sorted(
        [f"{photo.token}.jpg", f"{photo.token}-thumb.jpg"])

    page.goto("/dispensary/")
    thumbnail = page.locator(f"#rx-{first.pk} img[data-photo]")
    expect(thumbnail).to_be_visible()
    expect(thumbnail).to_have_js_property("naturalWidth", 72)  # served, and a real JPEG
    expect(page.locator(f"#rx-{second.pk} img[data-photo]")).to_have_count(0)
    steps.shot("row-with-photo")
    assert csp_errors(page) == []
