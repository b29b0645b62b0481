import pytest
from django.contrib.auth.models import Group

from mass.models import Site


@pytest.mark.django_db(transaction=True)
def test_transactional_test_sees_reference_data():
    assert Group.objects.filter(name="nurse").exists()
    assert Site.objects.filter(name="MASS Woeringen").exists()


@pytest.mark.django_db(transaction=True)
def test_reference_data_survives_a_previous_transactional_test():
    # Runs after the test above, which ended by emptying every table.
    assert Group.objects.get(name="coordinator").permissions.exists()
