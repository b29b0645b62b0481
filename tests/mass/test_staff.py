import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from mass.accounts.roles import Role
from mass.models import AuditEvent

User = get_user_model()

GOOD = {"username": "nadia", "first_name": "Nadia", "last_name": "V", "email": "",
        "language": "nl", "roles": ["nurse"], "password": "Correct-horse-battery-9"}


def test_coordinator_creates_staff_with_roles(coordinator_client):
    response = coordinator_client.post("/staff/new/", {**GOOD, "roles": ["nurse", "reception"]})
    assert response.status_code == 302
    user = User.objects.get(username="nadia")
    # Reception at once; nurse, a clinical role, waits for a second coordinator
    # (tests/mass/test_role_grants.py).
    assert list(user.groups.values_list("name", flat=True)) == ["reception"]
    assert list(user.role_grants.values_list("role", "decided_at")) == [("nurse", None)]
    assert user.check_password(GOOD["password"])
    assert AuditEvent.objects.filter(action="create", object_id=str(user.pk)).exists()


@pytest.mark.parametrize("field,value,message", [
    ("password", "short", "too short"),
    ("password", "password12345", "too common"),
    ("roles", "janitor", "not one of the available choices"),
    ("username", "", "required"),
    ("username", "bad name!", "Enter a valid username"),
])
def test_staff_create_rejects_bad_input(coordinator_client, field, value, message):
    before = User.objects.count()
    response = coordinator_client.post("/staff/new/", {**GOOD, field: value},
                                       HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == before


def test_deactivating_ends_the_staff_members_sessions(client, coordinator_user, nurse_user):
    from django.test import Client
    nurse_browser = Client()
    nurse_browser.force_login(nurse_user)
    assert nurse_browser.get("/").status_code == 200
    client.force_login(coordinator_user)
    response = client.post(f"/staff/{nurse_user.pk}/", {
        "first_name": "N", "last_name": "V", "email": "", "language": "",
        "roles": ["nurse"],  # is_active left unchecked: deactivate
    })
    assert response.status_code == 302
    nurse_user.refresh_from_db()
    assert nurse_user.is_active is False
    assert nurse_browser.get("/").status_code == 302  # back to login


def test_changing_roles_ends_open_sessions(client, coordinator_user, nurse_user):
    from django.test import Client
    nurse_browser = Client()
    nurse_browser.force_login(nurse_user)
    client.force_login(coordinator_user)
    client.post(f"/staff/{nurse_user.pk}/", {"first_name": "N", "last_name": "V", "email": "",
                                             "language": "", "roles": ["nurse", "reception"],
                                             "is_active": "on"})
    assert set(nurse_user.groups.values_list("name", flat=True)) == {"nurse", "reception"}
    assert nurse_browser.get("/").status_code == 302


def test_password_reset_by_coordinator(coordinator_client, nurse_user):
    response = coordinator_client.post(f"/staff/{nurse_user.pk}/password/", {
        "new_password1": "Another-long-pass-42", "new_password2": "Another-long-pass-42"})
    assert response.status_code == 302
    nurse_user.refresh_from_db()
    assert nurse_user.check_password("Another-long-pass-42")


def test_password_reset_mismatch_writes_nothing(coordinator_client, nurse_user):
    response = coordinator_client.post(f"/staff/{nurse_user.pk}/password/", {
        "new_password1": "Another-long-pass-42", "new_password2": "different-pass-4242"},
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    nurse_user.refresh_from_db()
    assert nurse_user.check_password("test-password-123")


def test_own_password_is_changed_not_reset(coordinator_client, coordinator_user):
    """Without the current password, a reset of one's own would let whoever holds an open
    session choose it (and end a lost outreach device's wait: outreach.services)."""
    from mass.services import staff_set_password
    url = f"/staff/{coordinator_user.pk}/password/"
    assert coordinator_client.get(url).url == "/accounts/password/"
    response = coordinator_client.post(url, {"new_password1": "Another-long-pass-42",
                                             "new_password2": "Another-long-pass-42"})
    assert response.url == "/accounts/password/"
    with pytest.raises(ValidationError, match="Change your own password from your account"), \
            translation.override("en"):
        staff_set_password(user=coordinator_user, password="Another-long-pass-42",
                           actor=coordinator_user)
    coordinator_user.refresh_from_db()
    assert coordinator_user.check_password("test-password-123")
    assert coordinator_user.password_reset_at is None


STAFF_PAGE_QUERIES = 10


def test_staff_list_query_count_is_constant(coordinator_client, staff_factory,
                                            django_assert_num_queries):
    from mass.accounts.roles import Role
    coordinator_client.get("/staff/")
    # session, user, permissions and roles (one), pending role grants, staff, their groups,
    # their merge right,
    # session save (3)
    with django_assert_num_queries(STAFF_PAGE_QUERIES):
        coordinator_client.get("/staff/")
    for _ in range(5):
        staff_factory(Role.NURSE, Role.DOCTOR)
    with django_assert_num_queries(STAFF_PAGE_QUERIES):
        response = coordinator_client.get("/staff/")
    # One reset link per other member; one's own password is changed, not reset.
    assert len(re.findall(r'/staff/\d+/password/"', response.content.decode())) == 5


def test_create_staff_command_creates_coordinator(db, monkeypatch):
    from django.core.management import call_command
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "Long-enough-pass-2026")
    call_command("create_staff", "claire", "--role", "coordinator")
    user = User.objects.get(username="claire")
    assert user.has_perm("mass.manage_staff") and not user.is_superuser
    assert not user.must_change_password  # typed by the coordinator themselves


def test_create_staff_command_refuses_weak_password(db, monkeypatch):
    from django.core.management import CommandError, call_command
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "short")
    with pytest.raises(CommandError):
        call_command("create_staff", "claire", "--role", "coordinator")
    assert not User.objects.filter(username="claire").exists()


def edit(client, user, **changes):
    data = {"first_name": user.first_name, "last_name": user.last_name, "email": "",
            "language": "", "roles": list(user.groups.values_list("name", flat=True)),
            "is_active": "on", **changes}
    return client.post(f"/staff/{user.pk}/", {k: v for k, v in data.items() if v is not None},
                       HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("changes", [
    {"roles": ["coordinator", "psychologist"]},  # would read psychological notes
    {"is_active": None},
    {"roles": ["coordinator", "reception"], "reception_lead": "on"},
])
def test_no_one_changes_their_own_rights(coordinator_client, coordinator_user, changes):
    stamp = coordinator_user.security_stamp
    response = edit(coordinator_client, coordinator_user, **changes)
    assert response.status_code == 200
    assert "You cannot change your own roles" in response.content.decode()
    coordinator_user.refresh_from_db()
    assert list(coordinator_user.groups.values_list("name", flat=True)) == ["coordinator"]
    assert coordinator_user.is_active and coordinator_user.security_stamp == stamp
    assert not coordinator_user.user_permissions.exists()
    assert not AuditEvent.objects.filter(action="update", object_id=str(coordinator_user.pk)
                                         ).exists()


def test_own_name_and_language_may_change(coordinator_client, coordinator_user):
    assert edit(coordinator_client, coordinator_user, first_name="Claire").status_code == 302
    coordinator_user.refresh_from_db()
    assert coordinator_user.first_name == "Claire"


def test_a_reception_lead_may_merge_files(coordinator_client, reception_user):
    """Issue 3: files are merged by a coordinator or a reception lead."""
    from django.test import Client

    from patients.models import Patient
    from tests.factories import PatientFactory
    kept, other = PatientFactory(), PatientFactory()
    desk = Client()
    desk.force_login(reception_user)
    assert desk.get(f"/patients/{kept.pk}/merge/").status_code == 404

    assert edit(coordinator_client, reception_user, reception_lead="on").status_code == 302
    reception_user.refresh_from_db()
    assert reception_user.is_reception_lead
    assert "data-reception-lead" in coordinator_client.get("/staff/").content.decode()
    assert desk.get("/").status_code == 302  # rights changed: signed out everywhere
    desk.force_login(reception_user)
    response = desk.post(f"/patients/{kept.pk}/merge/", {
        "other": other.file_number, "reason": "Same person", "confirm": "True"})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.status == Patient.Status.MERGED

    assert edit(coordinator_client, reception_user).status_code == 302  # box unchecked
    reception_user.refresh_from_db()
    assert not reception_user.is_reception_lead
    desk.force_login(reception_user)
    assert desk.get(f"/patients/{kept.pk}/merge/").status_code == 404


def test_reception_lead_needs_the_reception_role(coordinator_client, nurse_user):
    response = edit(coordinator_client, nurse_user, reception_lead="on")
    assert response.status_code == 200
    assert "A reception lead has the reception role." in response.content.decode()
    assert not nurse_user.user_permissions.exists()


def test_staff_list_names_roles_in_the_reader_language(coordinator_client, coordinator_user,
                                                       staff_factory):
    """Issue 14: the role's name in Dutch, never the group's code "social_worker"."""
    staff_factory(Role.SOCIAL_WORKER)
    coordinator_user.language = "nl"
    coordinator_user.save(update_fields=["language"])
    content = coordinator_client.get(reverse("staff_list")).content.decode()
    with translation.override("nl"):
        label = str(Role.SOCIAL_WORKER.label)
    assert f">{label}</span>" in content
    assert ">social_worker<" not in content
