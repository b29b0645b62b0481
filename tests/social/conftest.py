import pytest

from tests.factories import PatientFactory


@pytest.fixture
def patient(db):
    return PatientFactory(alias="Papillon")


@pytest.fixture
def en(settings):
    """Requests in English, so that tests can assert the English messages."""
    return {"HTTP_ACCEPT_LANGUAGE": "en"}
