import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from consultations.models import Consultation
from mass.models import AuditEvent
from patients import selectors
from patients.models import Episode, Patient
from tests.conftest import EN
from tests.factories import EpisodeFactory, PatientFactory, VisitFactory

TODAY = timezone.localdate


def days_ago(n):
    return TODAY() - datetime.timedelta(days=n)


def open_episode(client, patient, day=None):
    return client.post(f"/patients/{patient.pk}/episodes/open/",
                       {"opened_on": (day or TODAY()).isoformat()}, **EN)


def expected_redirect(episode):
    return reverse("reporting:tdi", args=[episode.pk])


def test_first_episode_is_a_new_request(reception_client, reception_user):
    patient = PatientFactory()
    response = open_episode(reception_client, patient)
    episode = Episode.objects.get(patient=patient)
    assert episode.kind == Episode.Kind.NEW and episode.opened_by == reception_user
    assert response.status_code == 302 and response["Location"] == expected_redirect(episode)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, patient=patient,
                                     object_type="patients.episode").exists()


def test_episode_after_a_closed_one_is_a_resumption(reception_client):
    patient = PatientFactory()
    EpisodeFactory(patient=patient, opened_on=days_ago(100), closed_on=days_ago(50),
                   closure_reason="moved")
    open_episode(reception_client, patient)
    assert Episode.objects.get(patient=patient, closed_on__isnull=True).kind == "resumption"


def test_open_episode_with_recent_contact_refuses_a_second(reception_client):
    patient = PatientFactory()
    EpisodeFactory(patient=patient, opened_on=days_ago(150))
    VisitFactory(patient=patient, date=days_ago(30))
    response = open_episode(reception_client, patient)
    assert response.status_code == 302
    follow = reception_client.get(response["Location"], **EN).content.decode()
    assert "still in treatment" in follow
    assert Episode.objects.filter(patient=patient).count() == 1


def test_six_months_without_contact_starts_a_resumption(reception_client):
    patient = PatientFactory()
    old = EpisodeFactory(patient=patient, opened_on=selectors.months_before(TODAY(), 9))
    last = selectors.months_before(TODAY(), 6)  # exactly 6 months ago
    VisitFactory(patient=patient, date=last)
    open_episode(reception_client, patient)
    old.refresh_from_db()
    # The rule's end is written down first (as the nightly job would have), then the
    # resumption opens.
    assert old.closed_on == last and old.closure_reason == "six_months"
    new = Episode.objects.get(patient=patient, closed_on__isnull=True)
    assert new.kind == Episode.Kind.RESUMPTION and new.opened_on == TODAY()
    assert AuditEvent.objects.filter(
        patient=patient, object_id=str(old.pk),
        summary="episode closed automatically: no contact for six months").exists()


def test_six_months_rule_counts_a_day_short_as_still_in_treatment(reception_client):
    patient = PatientFactory()
    EpisodeFactory(patient=patient, opened_on=selectors.months_before(TODAY(), 9))
    VisitFactory(patient=patient, date=selectors.months_before(TODAY(), 6)
                 + datetime.timedelta(days=1))
    # Every gap inside the episode is under six months too.
    VisitFactory(patient=patient, date=selectors.months_before(TODAY(), 8))
    open_episode(reception_client, patient)
    assert Episode.objects.filter(patient=patient).count() == 1


def test_six_months_rule_without_any_contact_counts_from_the_opening(reception_client):
    patient = PatientFactory()
    old = EpisodeFactory(patient=patient, opened_on=days_ago(250))
    open_episode(reception_client, patient)
    old.refresh_from_db()
    assert old.closed_on == old.opened_on and old.closure_reason == "six_months"


def test_six_months_rule_looks_at_consultations_too(reception_client, doctor_user):
    patient = PatientFactory()
    EpisodeFactory(patient=patient, opened_on=days_ago(200))
    VisitFactory(patient=patient, date=days_ago(100))
    Consultation.objects.create(patient=patient, author=doctor_user, discipline="medical",
                                date=days_ago(20))
    assert not selectors.patient_without_contact_for_six_months(patient=patient, on=TODAY())
    open_episode(reception_client, patient)
    assert Episode.objects.filter(patient=patient).count() == 1


def test_a_contact_after_the_gap_does_not_revive_the_episode(reception_client):
    """Opened, then a year without contact, then back: the episode ended as of its opening
    (docs/domain.md), and the person's next request is a resumption."""
    patient = PatientFactory()
    old = EpisodeFactory(patient=patient, opened_on=days_ago(400))
    VisitFactory(patient=patient, date=days_ago(20))
    old = Episode.objects.with_end().get(pk=old.pk)
    assert old.ended_on == old.opened_on and old.ended_by_rule
    open_episode(reception_client, patient)
    assert Episode.objects.get(patient=patient, closed_on__isnull=True).kind == "resumption"


def test_months_before_handles_short_months():
    assert selectors.months_before(datetime.date(2024, 8, 31), 6) == datetime.date(2024, 2, 29)
    assert selectors.months_before(datetime.date(2024, 3, 15), 6) == datetime.date(2023, 9, 15)


def test_six_calendar_months_after_end_of_august_is_end_of_february():
    assert selectors.months_after(datetime.date(2024, 8, 31), 6) == datetime.date(2025, 2, 28)
    assert selectors.months_after(datetime.date(2023, 8, 31), 6) == datetime.date(2024, 2, 29)
    assert selectors.months_after(datetime.date(2025, 3, 15), 6) == datetime.date(2025, 9, 15)
    assert selectors.contact_gap_exceeded(since=datetime.date(2024, 8, 31),
                                          on=datetime.date(2025, 2, 28))
    assert not selectors.contact_gap_exceeded(since=datetime.date(2024, 8, 31),
                                              on=datetime.date(2025, 2, 27))


@pytest.mark.parametrize("day,message", [
    ("2024-02-30", "Enter a valid date"),
    ((TODAY() + datetime.timedelta(days=2)).isoformat(), "cannot open in the future"),
    ("", "This field is required"),
])
def test_open_bad_input_writes_nothing(reception_client, day, message):
    patient = PatientFactory()
    response = reception_client.post(f"/patients/{patient.pk}/episodes/open/",
                                      {"opened_on": day}, **EN, follow=True)
    assert message in response.content.decode()
    assert not Episode.objects.exists()


def test_open_is_post_only(reception_client):
    patient = PatientFactory()
    assert reception_client.get(f"/patients/{patient.pk}/episodes/open/").status_code == 405


def test_open_refused_on_a_merged_file(reception_client):
    kept = PatientFactory(file_number="K9")
    stub = PatientFactory(status=Patient.Status.MERGED, merged_into=kept)
    response = open_episode(reception_client, stub)
    follow = reception_client.get(response["Location"], **EN).content.decode()
    assert "was merged into file K9" in follow
    assert not Episode.objects.exists()


def test_coordinator_cannot_open_an_episode(coordinator_client):
    patient = PatientFactory()
    assert open_episode(coordinator_client, patient).status_code == 404
    assert not Episode.objects.exists()


def test_closing_with_a_reason(doctor_client, doctor_user):
    episode = EpisodeFactory(opened_on=days_ago(30))
    page = doctor_client.get(f"/patients/episodes/{episode.pk}/close/", **EN)
    assert "Re-oriented to the network" in page.content.decode()
    response = doctor_client.post(f"/patients/episodes/{episode.pk}/close/", {
        "closed_on": TODAY().isoformat(), "closure_reason": "incarcerated",
        "closure_note": "Saint-Gilles"}, **EN)
    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.closed_on == TODAY() and episode.closure_reason == "incarcerated"
    assert episode.closed_by == doctor_user and episode.closure_note == "Saint-Gilles"
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE, object_id=str(episode.pk))
    assert event.details["reason"] == "incarcerated"


def test_the_closure_note_is_for_clinicians(doctor_user, reception_user, coordinator_user):
    """Why an episode closed (incarcerated, hospitalised...) shows to everyone who opens the
    file; the clinician's note on it only to clinicians."""
    from django.test import Client
    episode = EpisodeFactory(opened_on=days_ago(30), closed_on=TODAY(),
                             closure_reason="hospitalised", closure_note="NOTEXBRUGMANN psy")
    url = f"/patients/{episode.patient_id}/"
    clients = {}
    for user in (doctor_user, reception_user, coordinator_user):
        clients[user] = Client()
        clients[user].force_login(user)
    assert "NOTEXBRUGMANN" in clients[doctor_user].get(url, **EN).content.decode()
    for user in (reception_user, coordinator_user):
        content = clients[user].get(url, **EN).content.decode()
        assert "Hospitalised" in content and "NOTEXBRUGMANN" not in content


@pytest.mark.parametrize("data,message", [
    ({"closure_reason": ""}, "Choose why the episode closes"),
    ({"closure_reason": "bored"}, "Select a valid choice"),
    ({"closed_on": "2020-01-01"}, "cannot close before it opened"),
    ({"closed_on": "2024-13-01"}, "Enter a valid date"),
    ({"closed_on": (TODAY() + datetime.timedelta(days=2)).isoformat()},
     "cannot close in the future"),
    ({"closure_note": "n" * 501}, "at most 500 characters"),
])
def test_closing_bad_input_writes_nothing(doctor_client, data, message):
    episode = EpisodeFactory(opened_on=days_ago(30))
    form = {"closed_on": TODAY().isoformat(), "closure_reason": "other", **data}
    response = doctor_client.post(f"/patients/episodes/{episode.pk}/close/", form, **EN)
    assert response.status_code == 200 and message in response.content.decode()
    episode.refresh_from_db()
    assert episode.closed_on is None and episode.closure_reason == ""


def test_reception_cannot_close_an_episode(reception_client):
    episode = EpisodeFactory(opened_on=days_ago(30))
    response = reception_client.post(f"/patients/episodes/{episode.pk}/close/", {
        "closed_on": TODAY().isoformat(), "closure_reason": "other"})
    assert response.status_code == 404
    episode.refresh_from_db()
    assert episode.is_open


def test_closing_a_closed_episode_is_refused(doctor_client):
    episode = EpisodeFactory(opened_on=days_ago(30), closed_on=days_ago(5),
                             closure_reason="moved")
    response = doctor_client.post(f"/patients/episodes/{episode.pk}/close/", {
        "closed_on": TODAY().isoformat(), "closure_reason": "other"}, **EN)
    assert "already closed" in response.content.decode()
    episode.refresh_from_db()
    assert episode.closure_reason == "moved"


def test_a_request_dated_before_the_rules_end_of_the_last_episode_is_refused(reception_client):
    """The last episode ended by the rule on its last contact; a request dated before that
    day would overlap it: refused, nothing written."""
    patient = PatientFactory()
    old = EpisodeFactory(patient=patient, opened_on=days_ago(400))
    VisitFactory(patient=patient, date=days_ago(390))  # then nothing until 100 days ago
    VisitFactory(patient=patient, date=days_ago(100))
    response = open_episode(reception_client, patient, day=days_ago(395))
    follow = reception_client.get(response["Location"], **EN).content.decode()
    assert "a new one cannot start before" in follow
    old.refresh_from_db()
    assert old.closed_on is None and Episode.objects.filter(patient=patient).count() == 1
    assert not AuditEvent.objects.filter(patient=patient).exclude(
        action=AuditEvent.Action.VIEW).exists()
