"""The services' own guards, called directly as a script or a shell would (the forms refuse
the same input first), and the database's refusal turned into a sentence when it is the
database, not the service, that says no. Each refusal writes nothing."""

import datetime
from decimal import Decimal

import pytest

from dispensary import services
from dispensary.models import Dispensation, Product, RegisterEntry
from mass.refusals import refusal_text
from tests.conftest import service_refusal
from tests.dispensary.conftest import day

pytestmark = pytest.mark.usefixtures("english")


def refusal(call, **kwargs) -> str:
    return refusal_text(service_refusal(call, unchanged=(Dispensation, RegisterEntry), **kwargs))


def test_a_product_the_database_refuses_is_a_sentence_not_an_error(coordinator_user):
    # The form asks for a dose above zero; the service leaves it to the check constraint.
    message = refusal(services.product_save, product=None, actor=coordinator_user, data={
        "name": "Methadone 0 mg", "substance": "methadone", "form": "syrup", "unit": "mg",
        "is_substitution": True, "is_controlled": True, "max_daily_dose": Decimal(0),
        "is_active": True})
    assert message.startswith("The database refused this entry: ")
    assert "dispensary_product_max_dose_positive" in message
    assert message.endswith(". Nothing was recorded.")
    assert not Product.objects.filter(name="Methadone 0 mg").exists()


def test_a_paper_record_of_a_day_to_come_is_refused(nurse_user, rx):
    message = refusal(services.dispensation_record_after_the_fact, prescription=rx,
                      day=day(1), time=datetime.time(9, 0), part="day",
                      intoxication_signs=False, actor=nurse_user)
    assert "is a day to come: only a dose already given can be recorded." in message


def test_a_paper_record_names_a_nurse_as_the_giver(nurse_user, doctor_user, rx):
    message = refusal(services.dispensation_record_after_the_fact, prescription=rx,
                      day=day(-1), time=datetime.time(9, 0), part="day",
                      intoxication_signs=False, actor=nurse_user, given_by=doctor_user)
    assert message == (f"{doctor_user} does not dispense doses: choose the nurse who gave "
                       "it. Nothing was recorded.")
