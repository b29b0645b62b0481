"""Social notes (action notes, outcomes, follow-up notes) are read by social workers, doctors
(psychiatrists hold doctor rights) and their author only: on every page that could show them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from mass.accounts.roles import Role
from social.models import SocialActionUpdate
from tests.conftest import EN
from tests.factories import SocialActionFactory

NOTE = "Dette de loyer, rendez-vous médiation"
FOLLOW_UP = "Plan de paiement accepté par le propriétaire"
OUTCOME = "Médiation de dettes obtenue"

# role -> may read the note text
READERS = {
    Role.SOCIAL_WORKER: True,
    Role.DOCTOR: True,
    Role.PSYCHIATRIST: True,
    Role.COORDINATOR: False,
}
NO_ACCESS = [Role.RECEPTION, Role.NURSE, Role.PSYCHOLOGIST]


@pytest.fixture
def action(staff_factory):
    author = staff_factory(Role.SOCIAL_WORKER, username="author_sw")
    action = SocialActionFactory(social_worker=author, created_by=author, notes=NOTE,
                                 status="done", closed_on=timezone.localdate(),
                                 outcome=OUTCOME)
    SocialActionUpdate.objects.create(action=action, patient=action.patient, author=author,
                                      note=FOLLOW_UP)
    return action


def pages(action):
    return {
        "action": action.get_absolute_url(),
        "patient file": action.patient.get_absolute_url(),
    }


@pytest.mark.parametrize("role,readable", READERS.items())
def test_note_text_by_role(client, staff_factory, action, role, readable):
    client.force_login(staff_factory(role))
    for name, url in pages(action).items():
        response = client.get(url, **EN)
        page = response.content.decode()
        assert response.status_code == 200, name
        assert (NOTE in page) is readable, name
        if name == "action":
            assert (FOLLOW_UP in page) is readable
            assert (OUTCOME in page) is readable
            if not readable:
                assert "Confidential" in page


@pytest.mark.parametrize("role", NO_ACCESS)
def test_roles_without_social_rights_never_see_the_notes(client, staff_factory, action, role):
    client.force_login(staff_factory(role))
    assert client.get(action.get_absolute_url()).status_code == 403
    response = client.get(action.patient.get_absolute_url())
    page = response.content.decode()
    if response.status_code == 200:
        assert NOTE not in page and FOLLOW_UP not in page and OUTCOME not in page
        assert f'data-social-action="{action.pk}"' not in page


def test_the_author_reads_their_own_notes_whatever_their_role(client, staff_factory):
    """Someone who wrote a note keeps reading it (e.g. a former social worker who is now the
    coordinator), but not their colleagues' notes."""
    coordinator = staff_factory(Role.COORDINATOR)
    social_worker = staff_factory(Role.SOCIAL_WORKER)
    own = SocialActionFactory(social_worker=social_worker, created_by=coordinator,
                              notes="Note de la coordinatrice")
    other = SocialActionFactory(social_worker=social_worker, created_by=social_worker,
                                notes="Note de l'assistante sociale")
    SocialActionUpdate.objects.create(action=other, patient=other.patient, author=coordinator,
                                      note="Suivi écrit par la coordinatrice")
    client.force_login(coordinator)

    assert "Note de la coordinatrice" in client.get(own.get_absolute_url()).content.decode()
    page = client.get(other.get_absolute_url()).content.decode()
    assert "Note de l'assistante sociale" not in page
    assert "Suivi écrit par la coordinatrice" in page


def test_the_rule_lives_in_one_selector(staff_factory):
    from social.selectors import can_read_social_notes
    author = staff_factory(Role.PSYCHOLOGIST)
    assert can_read_social_notes(staff_factory(Role.SOCIAL_WORKER), author_id=author.pk)
    assert can_read_social_notes(staff_factory(Role.DOCTOR), author_id=author.pk)
    assert can_read_social_notes(author, author_id=author.pk)
    for role in (Role.NURSE, Role.RECEPTION, Role.COORDINATOR, Role.PSYCHOLOGIST):
        assert not can_read_social_notes(staff_factory(role), author_id=author.pk)


def test_caseload_never_shows_note_text(coordinator_client, action):
    response = coordinator_client.get(reverse("social:team") + "?status=all")
    page = response.content.decode()
    assert f'data-action="{action.pk}"' in page
    assert NOTE not in page and OUTCOME not in page
