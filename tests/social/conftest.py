import pytest

from tests.factories import PatientFactory


@pytest.fixture
def patient(db):
    return PatientFactory(alias="Papillon")
