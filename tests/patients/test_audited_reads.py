"""Every page that shows one person's details is a read of the file, audited like opening it,
so that "who read this file" (tests/mass/test_auth_audit.py) lists it. A refused or empty
page writes nothing."""

import datetime

import pytest
from django.utils import timezone

from mass.models import AuditEvent
from tests.conftest import EN
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db


def reads_of(patient, user):
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, patient=patient,
                                          actor=user).values_list("summary", flat=True))


def test_the_edit_form_of_a_file_is_a_read(reception_client, reception_user):
    patient = PatientFactory(file_number="A7")
    assert reception_client.get(f"/patients/{patient.pk}/edit/").status_code == 200
    assert reads_of(patient, reception_user) == ["patient file A7 (edit form)"]


def test_the_merge_preview_reads_both_files(coordinator_client, coordinator_user):
    kept, other = PatientFactory(file_number="K9"), PatientFactory(file_number="D9")
    coordinator_client.get(f"/patients/{kept.pk}/merge/")
    # The empty form shows the kept file (its identity): a read of it.
    assert reads_of(kept, coordinator_user) == ["patient file K9 (merge form)"]
    response = coordinator_client.post(f"/patients/{kept.pk}/merge/",
                                       {"other": "D9", "reason": "Même personne"}, **EN)
    assert response.status_code == 200 and 'name="confirm"' in response.content.decode()
    assert reads_of(kept, coordinator_user) == ["patient file K9 (merge preview K9 <- D9)",
                                                "patient file K9 (merge form)"]
    assert reads_of(other, coordinator_user) == ["patient file D9 (merge preview K9 <- D9)"]


def test_the_closing_form_of_an_episode_is_a_read(doctor_client, doctor_user):
    episode = EpisodeFactory(opened_on=timezone.localdate() - datetime.timedelta(days=20))
    assert doctor_client.get(f"/patients/episodes/{episode.pk}/close/").status_code == 200
    assert reads_of(episode.patient, doctor_user) == [
        f"episode {episode.pk} of {episode.patient.file_number} (closing form)"]


def test_likely_duplicates_shown_at_registration_are_a_search(reception_client, reception_user):
    PatientFactory(alias="Momo", last_name="Benali")
    response = reception_client.post("/patients/new/", {"alias": "Momo", "last_name": "Benali",
                                                        "sex": "U"}, **EN)
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.SEARCH, actor=reception_user)
    assert event.summary == "registration: 1 likely duplicates shown"


def test_a_refused_edit_form_reads_nothing(coordinator_client):
    patient = PatientFactory()
    assert coordinator_client.get(f"/patients/{patient.pk}/edit/").status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()
