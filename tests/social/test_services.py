"""The services' own guards, called directly as a script or a shell would (the forms refuse
the same input first). Each refusal writes nothing."""

import datetime

import pytest
from django.utils import timezone

from social import services
from social.models import IncomeRecord
from tests.conftest import service_refusal
from tests.factories import IncomeRecordFactory, PatientFactory

pytestmark = pytest.mark.usefixtures("english")


refusal = service_refusal


def test_a_situation_cannot_be_dated_in_the_future(social_worker_user):
    error = refusal(services.situation_record, patient=PatientFactory(),
                    date=timezone.localdate() + datetime.timedelta(days=1),
                    changes={"income": {"source": "salary"}}, actor=social_worker_user)
    assert (error.code, error.message) == ("future",
                                           "A situation cannot be dated in the future.")
    assert not IncomeRecord.objects.exists()


def test_a_situation_without_a_change_is_refused(social_worker_user):
    error = refusal(services.situation_record, patient=PatientFactory(),
                    date=timezone.localdate(), changes={}, actor=social_worker_user)
    assert (error.code, error.message) == ("empty", "Nothing to record.")
    assert not IncomeRecord.objects.exists()


def test_a_correction_says_why(social_worker_user):
    record = IncomeRecordFactory()
    error = refusal(services.situation_correct, record=record, date=record.date,
                    values={"source": "cpas"}, reason=" ", actor=social_worker_user)
    assert (error.code, error.message) == ("no_reason", "Say why this is corrected.")
    assert list(IncomeRecord.objects.all()) == [record]
