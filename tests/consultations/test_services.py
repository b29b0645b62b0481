"""The services' own guards, called directly as a script or a shell would (the forms refuse
the same input first). Each refusal writes nothing."""

import datetime

import pytest
from django.utils import timezone

from consultations import services
from consultations.models import Consultation, ConsultationAmendment
from tests.conftest import service_refusal
from tests.factories import ConsultationFactory, PatientFactory

pytestmark = pytest.mark.usefixtures("english")


def refusal(call, **kwargs) -> str:
    return service_refusal(call, **kwargs).message


def test_a_nurse_writes_no_psychological_note(nurse_user):
    message = refusal(services.consultation_create, patient=PatientFactory(),
                      discipline="psychological", date=timezone.localdate(), note="Text",
                      actor=nurse_user)
    assert message == "You cannot write a note in this discipline."
    assert not Consultation.objects.exists()


def test_a_note_cannot_be_dated_tomorrow(doctor_user):
    message = refusal(services.consultation_create, patient=PatientFactory(),
                      discipline="medical", note="Text", actor=doctor_user,
                      date=timezone.localdate() + datetime.timedelta(days=1))
    assert message == "The date cannot be later than today."
    assert not Consultation.objects.exists()


def test_an_amendment_gives_its_reason(doctor_user):
    note = ConsultationFactory(author=doctor_user, discipline="medical",
                               signed_at=timezone.now(), signed_by=doctor_user)
    message = refusal(services.consultation_amend, consultation=note, text="Dose was 60 mg",
                      reason="  ", actor=doctor_user)
    assert message == "Give the reason for the amendment."
    assert not ConsultationAmendment.objects.exists()


def test_an_unsigned_note_is_edited_not_amended(doctor_user):
    note = ConsultationFactory(author=doctor_user, discipline="medical")
    message = refusal(services.consultation_amend, consultation=note, text="Dose was 60 mg",
                      reason="Typo", actor=doctor_user)
    assert message == "This note is not signed yet: edit it instead."
    assert not ConsultationAmendment.objects.exists()
