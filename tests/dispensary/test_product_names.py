"""Product names (issue 14): the products the project seeds are translated like the project's
strings; a name a coordinator typed is shown as typed, in every language."""

import importlib

import pytest
from django.utils import translation

from dispensary.models import SEEDED_PRODUCT_NAMES, Product, product_display_name

pytestmark = pytest.mark.django_db


def test_the_seeded_products_are_the_ones_marked_for_translation():
    seeded = importlib.import_module("dispensary.migrations.0003_products_and_roles")
    assert {name for name, *_rest in seeded.PRODUCTS} == SEEDED_PRODUCT_NAMES
    assert set(Product.objects.filter(name__in=SEEDED_PRODUCT_NAMES)
               .values_list("name", flat=True)) == SEEDED_PRODUCT_NAMES


def test_a_seeded_name_is_read_through_the_catalogue():
    methadone = Product.objects.get(name="Methadone syrup 1 mg/ml")
    for language in ("fr", "nl", "en"):
        with translation.override(language):
            assert str(methadone) == translation.gettext("Methadone syrup 1 mg/ml")


def test_a_name_the_coordinator_typed_is_shown_as_typed():
    # "Medical" is a message of the project (translated "Médical" / "Medisch"): a product
    # a coordinator names so keeps its name.
    with translation.override("fr"):
        assert translation.gettext("Medical") != "Medical"
        assert product_display_name("Medical") == "Medical"
    product = Product(name="Méthadone gélules 10 mg", substance="methadone", form="capsule",
                      max_daily_dose=300)
    with translation.override("nl"):
        assert str(product) == "Méthadone gélules 10 mg"
