"""The services' own guards, called directly as a script or a shell would: the forms refuse
the same input first, so these are the only tests that reach them. Each refusal writes
nothing."""

import datetime

import pytest
from django.utils import timezone

from patients import services
from patients.models import Episode, OutreachAttempt, PatientMerge, Visit
from tests.conftest import service_refusal
from tests.factories import PatientFactory, woeringen

pytestmark = pytest.mark.usefixtures("english")


refusal = service_refusal


def test_an_episode_cannot_open_in_the_future(reception_user):
    patient = PatientFactory()
    error = refusal(services.episode_open, patient=patient, actor=reception_user,
                    opened_on=timezone.localdate() + datetime.timedelta(days=1))
    assert (error.code, error.message) == ("future", "An episode cannot open in the future.")
    assert not Episode.objects.filter(patient=patient).exists()


def test_a_walk_in_of_an_unknown_purpose_is_refused(reception_user):
    patient = PatientFactory()
    error = refusal(services.visit_log, patient=patient, purpose="picnic", site=woeringen(),
                    actor=reception_user)
    assert (error.code, error.message) == ("purpose", "Unknown purpose.")
    assert not Visit.objects.filter(patient=patient).exists()


def test_a_file_cannot_be_merged_into_itself(coordinator_user):
    patient = PatientFactory()
    error = refusal(services.patient_merge, kept=patient, merged=patient,
                    reason="Same person", actor=coordinator_user)
    assert (error.code, error.message) == ("same", "A file cannot be merged into itself.")
    assert not PatientMerge.objects.exists()


def test_an_outreach_attempt_says_how_the_person_was_sought(nurse_user):
    patient = PatientFactory()
    error = refusal(services.outreach_attempt_record, patient=patient, means="",
                    result="reached", actor=nurse_user)
    assert (error.code, error.message) == ("means", "Choose how the person was sought.")
    assert not OutreachAttempt.objects.exists()
