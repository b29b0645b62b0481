"""Reference data: products and partner pharmacies, kept by the coordinator."""

from django.urls import reverse

from dispensary.models import Pharmacy, Product
from mass.models import AuditEvent

PRODUCT = {"name": "Morphine sulfate (slow release)", "substance": "morphine",
           "form": "capsule", "unit": "mg", "is_substitution": "on", "is_controlled": "on",
           "max_daily_dose": "1200", "is_active": "on"}


def test_coordinator_adds_a_product(coordinator_client, coordinator_user):
    response = coordinator_client.post(reverse("dispensary:product_create"), PRODUCT)
    assert response.status_code == 302
    product = Product.objects.get(substance="morphine")
    assert product.is_substitution and product.max_daily_dose == 1200
    assert AuditEvent.objects.filter(actor=coordinator_user, object_id=str(product.pk)).exists()


def test_product_bad_input_writes_nothing(coordinator_client):
    url = reverse("dispensary:product_create")
    for overrides, message in [
        ({"name": ""}, "This field is required."),
        ({"name": "Methadone capsules"}, "Product with this Name already exists."),
        ({"substance": "two words"}, "Enter a valid “slug”"),
        ({"max_daily_dose": "0"}, "Must be above zero."),
        ({"max_daily_dose": "x"}, "Enter a number."),
        ({"form": "powder"}, "Select a valid choice."),
    ]:
        response = coordinator_client.post(url, {**PRODUCT, **overrides},
                                           HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200 and message in response.content.decode(), overrides
    assert not Product.objects.filter(substance__in=["morphine", "two words"]).exists()


def test_substance_of_an_existing_product_cannot_change(coordinator_client):
    product = Product.objects.get(name="Methadone capsules")
    response = coordinator_client.post(reverse("dispensary:product_update", args=[product.pk]),
                                       {**PRODUCT, "name": product.name, "substance": "other"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.substance == "methadone" and product.max_daily_dose == 1200


def test_pharmacy_create_and_bad_input(coordinator_client):
    url = reverse("dispensary:pharmacy_create")
    response = coordinator_client.post(url, {"name": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert "This field is required." in response.content.decode()
    assert not Pharmacy.objects.exists()
    response = coordinator_client.post(url, {"name": "Pharmacie Anspach", "is_active": "on"})
    assert response.status_code == 302 and Pharmacy.objects.get().name == "Pharmacie Anspach"
    page = coordinator_client.get(reverse("dispensary:products")).content.decode()
    assert "Pharmacie Anspach" in page


def test_clinicians_read_but_do_not_edit_reference_data(nurse_client):
    assert nurse_client.get(reverse("dispensary:products")).status_code == 200
    assert nurse_client.post(reverse("dispensary:product_create"), PRODUCT).status_code == 403
    assert nurse_client.post(reverse("dispensary:pharmacy_create"),
                             {"name": "X"}).status_code == 403
