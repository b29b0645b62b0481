"""Reference data: products and partner pharmacies, kept by the coordinator."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from dispensary import services
from dispensary.models import Pharmacy, Product
from mass.models import AuditEvent
from tests.conftest import EN
from tests.factories import PrescriptionFactory, methadone_syrup

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
    url = reverse("dispensary:product_update", args=[product.pk])
    assert 'name="substance"' in coordinator_client.get(url).content.decode()
    response = coordinator_client.post(url, {**PRODUCT, "name": product.name,
                                             "substance": "other"}, **EN)
    assert "The substance of a saved product cannot change" in response.content.decode()
    product.refresh_from_db()
    assert product.substance == "methadone" and product.max_daily_dose == 300
    # Not posted (a browser does not post a disabled field): the rest is saved.
    data = {**PRODUCT, "name": product.name}
    del data["substance"]
    assert coordinator_client.post(url, data).status_code == 302
    product.refresh_from_db()
    assert product.substance == "methadone" and product.max_daily_dose == 1200


# --- a product in use keeps its unit and flags ----------------------------------------------


def product_data(product, **overrides):
    """The edit form of ``product`` as a browser posts it (unticked boxes absent, the
    disabled substance absent), with ``overrides``."""
    data = {"name": product.name, "form": product.form, "unit": product.unit,
            "max_daily_dose": str(product.max_daily_dose), "is_active": "on"}
    if product.is_substitution:
        data["is_substitution"] = "on"
    if product.is_controlled:
        data["is_controlled"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def snapshot(product):
    return Product.objects.filter(pk=product.pk).values().get()


@pytest.mark.parametrize("change, field", [
    ({"unit": "ml"}, "unit"),
    ({"is_controlled": None}, "controlled drug"),
    ({"is_substitution": None}, "substitution treatment"),
])
@pytest.mark.parametrize("used_by", ["prescription", "register"])
def test_a_product_in_use_keeps_its_unit_and_flags(coordinator_client, coordinator_user,
                                                   nurse_user, change, field, used_by):
    product = methadone_syrup()
    if used_by == "prescription":
        PrescriptionFactory(product=product)
    else:
        services.register_receipt(product=product, quantity=Decimal(100), supplier="Febelco",
                                  batch="B-1", received_on=timezone.localdate(),
                                  actor=nurse_user)
    url = reverse("dispensary:product_update", args=[product.pk])
    page = coordinator_client.get(url, **EN).content.decode()
    assert page.count("data-locked") == 4  # substance, unit and both flags
    before, audit = snapshot(product), AuditEvent.objects.count()
    response = coordinator_client.post(url, product_data(product, **change,
                                                         max_daily_dose="250"), **EN)
    content = response.content.decode()
    assert response.status_code == 200
    assert (f"Methadone syrup 1 mg/ml is prescribed or in the drug register: its {field} "
            "cannot change") in content and "Nothing was saved" in content
    assert snapshot(product) == before  # not even the highest dose
    assert AuditEvent.objects.count() == audit


def test_a_product_in_use_may_change_the_rest(coordinator_client, coordinator_user):
    product = methadone_syrup()
    PrescriptionFactory(product=product)
    url = reverse("dispensary:product_update", args=[product.pk])
    response = coordinator_client.post(url, product_data(product, name="Methadone 1 mg/ml",
                                                         max_daily_dose="250"))
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.max_daily_dose, product.unit, product.is_controlled) == \
        ("Methadone 1 mg/ml", 250, "mg", True)
    assert AuditEvent.objects.filter(actor=coordinator_user, action="update",
                                     object_id=str(product.pk)).exists()


def test_a_product_not_in_use_may_change_its_unit_and_flags(coordinator_client):
    product = Product.objects.get(name="Diazepam tablets")
    url = reverse("dispensary:product_update", args=[product.pk])
    assert "data-locked" not in coordinator_client.get(url).content.decode()
    response = coordinator_client.post(url, product_data(product, unit="unit",
                                                         is_controlled=None))
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.unit == "unit" and not product.is_controlled


def test_product_save_refuses_a_locked_change_made_since_the_form(coordinator_user):
    """The form checked before the product was prescribed (a stale page, another code
    path): the service refuses all the same, and writes nothing."""
    product = methadone_syrup()
    PrescriptionFactory(product=product)
    before, audit = snapshot(product), AuditEvent.objects.count()
    data = {"name": product.name, "substance": "methadone", "form": "syrup", "unit": "mg",
            "is_substitution": True, "is_controlled": False, "max_daily_dose": Decimal(250),
            "is_active": True}
    with translation.override("en"), \
            pytest.raises(ValidationError, match="its controlled drug cannot change"):
        services.product_save(product=product, data=data, actor=coordinator_user)
    assert snapshot(product) == before and AuditEvent.objects.count() == audit


def test_pharmacy_create_and_bad_input(coordinator_client):
    url = reverse("dispensary:pharmacy_create")
    response = coordinator_client.post(url, {"name": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert "This field is required." in response.content.decode()
    assert not Pharmacy.objects.exists()
    response = coordinator_client.post(url, {"name": "Pharmacie Anspach", "is_active": "on"})
    assert response.status_code == 302 and Pharmacy.objects.get().name == "Pharmacie Anspach"
    page = coordinator_client.get(reverse("dispensary:products")).content.decode()
    assert "Pharmacie Anspach" in page


def test_clinicians_read_but_do_not_edit_reference_data(nurse_client, doctor_client):
    products, pharmacies = set(Product.objects.values_list()), Pharmacy.objects.count()
    syrup = Product.objects.get(name="Methadone syrup 1 mg/ml")
    for client in (nurse_client, doctor_client):
        assert client.get(reverse("dispensary:products")).status_code == 200
        assert client.post(reverse("dispensary:product_create"), PRODUCT).status_code == 403
        assert client.post(reverse("dispensary:product_update", args=[syrup.pk]),
                           {**PRODUCT, "name": syrup.name}).status_code == 403
        assert client.post(reverse("dispensary:pharmacy_create"),
                           {"name": "X"}).status_code == 403
    assert set(Product.objects.values_list()) == products
    assert Pharmacy.objects.count() == pharmacies == 0
    assert not AuditEvent.objects.filter(action__in=["create", "update"]).exists()
