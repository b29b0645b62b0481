import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from mass.models import AuditEvent
from social.models import SocialAction, SocialActionUpdate
from tests.conftest import EN
from tests.factories import PartnerFactory, SocialActionFactory


def today(delta=0):
    return timezone.localdate() + datetime.timedelta(days=delta)


def create_url(patient):
    return reverse("social:action_create", args=[patient.pk])


def progress_url(action):
    return reverse("social:action_progress", args=[action.pk])


def edit_url(action):
    return reverse("social:action_edit", args=[action.pk])


def test_social_worker_opens_an_action(social_worker_client, social_worker_user, patient):
    partner = PartnerFactory(name="CPAS de Bruxelles", kind="cpas")
    response = social_worker_client.get(create_url(patient), **EN)
    assert response.status_code == 200 and "New social action" in response.content.decode()

    response = social_worker_client.post(create_url(patient), {
        "type": "rights_recovery", "social_worker": social_worker_user.pk,
        "partner": partner.pk, "opened_on": today(-2).isoformat(),
        "due_on": today(12).isoformat(), "notes": "Revenu d'intégration à demander."})

    action = SocialAction.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == action.get_absolute_url()
    assert (action.type, action.status, action.partner, action.due_on) == (
        "rights_recovery", "open", partner, today(12))
    assert action.created_by == social_worker_user == action.social_worker
    assert action.notes == "Revenu d'intégration à demander."
    assert AuditEvent.objects.filter(patient=patient, action="create",
                                     object_type="social.socialaction").exists()


def test_an_action_can_be_opened_for_a_colleague(social_worker_client, staff_factory, patient):
    colleague = staff_factory(Role.SOCIAL_WORKER)
    social_worker_client.post(create_url(patient), {
        "type": "food_aid", "social_worker": colleague.pk, "opened_on": today().isoformat()})
    assert SocialAction.objects.get(patient=patient).social_worker == colleague


@pytest.mark.parametrize("data,field,message", [
    ({"due_on": "DAY_BEFORE"}, "due_on", "The due date cannot be before the opening date"),
    ({"opened_on": "TOMORROW"}, "opened_on", "cannot be opened in the future"),
    ({"type": "holiday"}, "type", "Select a valid choice"),
    ({"type": ""}, "type", "This field is required"),
    ({"partner": "999999"}, "partner", "Select a valid choice"),
    ({"social_worker": "NURSE"}, "social_worker", "Select a valid choice"),
    ({"opened_on": "2024-13-01"}, "opened_on", "Enter a valid date"),
    ({"notes": "x" * 4001}, "notes", "at most 4000 characters"),
])
def test_bad_action_input_writes_nothing(social_worker_client, social_worker_user, nurse_user,
                                         patient, data, field, message):
    values = {"type": "housing", "social_worker": social_worker_user.pk,
              "opened_on": today(-5).isoformat(), "due_on": "", "notes": "", **data}
    if values["due_on"] == "DAY_BEFORE":
        values["due_on"] = today(-6).isoformat()
    if values["opened_on"] == "TOMORROW":
        values["opened_on"] = today(1).isoformat()
    if values["social_worker"] == "NURSE":
        values["social_worker"] = nurse_user.pk

    response = social_worker_client.post(create_url(patient), values, **EN)

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in e for e in errors), errors
    assert message in response.content.decode()
    assert not SocialAction.objects.exists()
    assert not AuditEvent.objects.filter(action="create").exists()


def test_the_database_refuses_a_due_date_before_opening(patient, social_worker_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        SocialActionFactory(patient=patient, social_worker=social_worker_user,
                            opened_on=today(), due_on=today(-1))


def test_the_database_refuses_closing_without_outcome(patient, social_worker_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        SocialActionFactory(patient=patient, social_worker=social_worker_user,
                            status="done", closed_on=today(), outcome="")


def test_progress_with_a_note_keeps_a_journal(social_worker_client, social_worker_user):
    action = SocialActionFactory(social_worker=social_worker_user)

    response = social_worker_client.post(progress_url(action), {
        "status": "in_progress", "note": "Dossier déposé au CPAS."})

    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "in_progress"
    update = SocialActionUpdate.objects.get(action=action)
    assert (update.status_from, update.status_to, update.note, update.author) == (
        "open", "in_progress", "Dossier déposé au CPAS.", social_worker_user)
    assert update.patient_id == action.patient_id

    social_worker_client.post(progress_url(action), {"status": "in_progress",
                                                     "note": "Relance téléphonique."})
    page = social_worker_client.get(action.get_absolute_url(), **EN).content.decode()
    assert "Dossier déposé au CPAS." in page and "Relance téléphonique." in page
    assert action.updates.count() == 2


def test_closing_needs_an_outcome(social_worker_client, social_worker_user):
    action = SocialActionFactory(social_worker=social_worker_user, opened_on=today(-20))

    response = social_worker_client.post(progress_url(action), {"status": "done", "outcome": " "},
                                         **EN)

    assert response.status_code == 200
    assert "Give the outcome to close the action." in response.content.decode()
    action.refresh_from_db()
    assert action.status == "open" and action.closed_on is None
    assert not action.updates.exists()

    response = social_worker_client.post(progress_url(action), {
        "status": "done", "outcome": "Revenu d'intégration accordé."})

    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.closed_on, action.outcome) == (
        "done", today(), "Revenu d'intégration accordé.")


def test_abandoning_also_needs_an_outcome(social_worker_client, social_worker_user):
    action = SocialActionFactory(social_worker=social_worker_user)
    social_worker_client.post(progress_url(action), {"status": "abandoned"})
    action.refresh_from_db()
    assert action.status == "open"
    social_worker_client.post(progress_url(action), {"status": "abandoned",
                                                     "outcome": "Perdu de vue."})
    action.refresh_from_db()
    assert action.status == "abandoned" and action.closed_on == today()


@pytest.mark.parametrize("data,message", [
    ({"status": "open"}, "Change the status or write a note."),
    ({"status": "paused"}, "Select a valid choice"),
    ({"status": "in_progress", "note": "x" * 4001}, "at most 4000 characters"),
])
def test_bad_progress_writes_nothing(social_worker_client, social_worker_user, data, message):
    action = SocialActionFactory(social_worker=social_worker_user)
    response = social_worker_client.post(progress_url(action), data, **EN)
    assert response.status_code == 200
    assert message in response.content.decode()
    action.refresh_from_db()
    assert action.status == "open" and not action.updates.exists()


def test_a_closed_action_stays_closed(social_worker_client, social_worker_user):
    action = SocialActionFactory(social_worker=social_worker_user, status="done",
                                 closed_on=today(), outcome="Fait.")
    response = social_worker_client.post(progress_url(action), {"status": "open", "note": "x"},
                                         **EN)
    assert "This action is closed; open a new action instead." in response.content.decode()
    action.refresh_from_db()
    assert action.status == "done" and not action.updates.exists()
    response = social_worker_client.get(edit_url(action), **EN)
    assert response.status_code == 302


def test_progress_is_post_only(social_worker_client, social_worker_user):
    action = SocialActionFactory(social_worker=social_worker_user)
    assert social_worker_client.get(progress_url(action)).status_code == 405


def test_edit_reassigns_and_moves_the_due_date(social_worker_client, social_worker_user,
                                               staff_factory):
    colleague = staff_factory(Role.SOCIAL_WORKER)
    partner = PartnerFactory(name="Bruss'Help", kind="shelter")
    action = SocialActionFactory(social_worker=social_worker_user, opened_on=today(-3))

    response = social_worker_client.post(edit_url(action), {
        "social_worker": colleague.pk, "partner": partner.pk, "due_on": today(30).isoformat()})

    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.social_worker, action.partner, action.due_on) == (colleague, partner,
                                                                     today(30))
    event = AuditEvent.objects.get(action="update", object_type="social.socialaction")
    assert event.details["before"]["social_worker"] == social_worker_user.pk


def test_edit_page_is_an_audited_read(social_worker_client, social_worker_user):
    partner = PartnerFactory(name="CPAS d'Ixelles", kind="cpas")
    action = SocialActionFactory(social_worker=social_worker_user, partner=partner,
                                 notes="EDIT-PAGE-NOTES")

    response = social_worker_client.get(edit_url(action), **EN)

    assert "CPAS d&#x27;Ixelles" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW,
                                   object_type="social.socialaction", object_id=str(action.pk))
    assert (event.actor, event.patient) == (social_worker_user, action.patient)
    assert "EDIT-PAGE-NOTES" not in event.summary


@pytest.mark.parametrize("data,field,message", [
    ({"due_on": "BEFORE"}, "due_on", "The due date cannot be before the opening date"),
    ({"social_worker": ""}, "social_worker", "This field is required"),
    ({"due_on": "soon"}, "due_on", "Enter a valid date"),
])
def test_bad_edit_writes_nothing(social_worker_client, social_worker_user, data, field,
                                 message):
    action = SocialActionFactory(social_worker=social_worker_user, opened_on=today(-3),
                                 due_on=today(3))
    values = {"social_worker": social_worker_user.pk, "partner": "",
              "due_on": today(9).isoformat(), **data}
    if values["due_on"] == "BEFORE":
        values["due_on"] = today(-4).isoformat()
    response = social_worker_client.post(edit_url(action), values, **EN)
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field])
    action.refresh_from_db()
    assert action.due_on == today(3) and action.social_worker == social_worker_user
    # Nothing but the read of the action the form shows again.
    assert list(AuditEvent.objects.filter(patient=action.patient)
                .values_list("action", flat=True)) == ["view"]


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.COORDINATOR])
def test_readers_cannot_change_actions(client, staff_factory, social_worker_user, role):
    action = SocialActionFactory(social_worker=social_worker_user)
    client.force_login(staff_factory(role))
    page = client.get(action.get_absolute_url())
    assert page.status_code == 200
    assert progress_url(action) not in page.content.decode()
    assert client.post(progress_url(action), {"status": "in_progress",
                                              "note": "x"}).status_code == 403
    assert client.get(edit_url(action)).status_code == 403
    assert client.get(create_url(action.patient)).status_code == 403
    action.refresh_from_db()
    assert action.status == "open" and not action.updates.exists()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.NURSE, Role.PSYCHOLOGIST])
def test_other_roles_do_not_see_actions(client, staff_factory, social_worker_user, role):
    action = SocialActionFactory(social_worker=social_worker_user)
    client.force_login(staff_factory(role))
    assert client.get(action.get_absolute_url()).status_code == 403
    assert client.post(create_url(action.patient), {"type": "housing"}).status_code == 403
    assert SocialAction.objects.count() == 1


def test_unknown_action_is_404(social_worker_client):
    assert social_worker_client.get(reverse("social:action_detail", args=[999999])
                                    ).status_code == 404


def test_reading_an_action_is_audited(social_worker_client, social_worker_user):
    action = SocialActionFactory(social_worker=social_worker_user)
    social_worker_client.get(action.get_absolute_url())
    assert AuditEvent.objects.filter(action="view", patient=action.patient,
                                     object_id=str(action.pk)).exists()


def test_action_journal_is_append_only(social_worker_client, social_worker_user):
    from django.db import DatabaseError
    action = SocialActionFactory(social_worker=social_worker_user)
    social_worker_client.post(progress_url(action), {"status": "in_progress", "note": "n"})
    with pytest.raises(DatabaseError), transaction.atomic():
        SocialActionUpdate.objects.filter(action=action).update(note="rewritten")


def test_notes_are_shown_as_text_never_as_html(social_worker_client, social_worker_user,
                                               patient):
    social_worker_client.post(create_url(patient), {
        "type": "other", "social_worker": social_worker_user.pk,
        "opened_on": today().isoformat(), "notes": "<script>alert(1)</script>"})
    action = SocialAction.objects.get(patient=patient)
    assert action.notes == "<script>alert(1)</script>"
    page = social_worker_client.get(action.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("entries", [1, 3, 15])
def test_action_journal_constant_queries(social_worker_client, staff_factory,
                                         django_assert_num_queries, entries):
    action = SocialActionFactory(partner=PartnerFactory())
    for i in range(entries):
        SocialActionUpdate.objects.create(action=action, patient=action.patient,
                                          author=staff_factory(Role.SOCIAL_WORKER),
                                          note=f"Journal entry {i}")
    url = action.get_absolute_url()
    social_worker_client.get(url)
    # Session, user, permissions and roles (one); the action with its patient, partner and workers;
    # the journal with its authors; the patient's alerts (the banner); the audit row; session
    # save (3).
    with django_assert_num_queries(10):
        response = social_worker_client.get(url)
    assert response.content.decode().count("Journal entry") == entries
