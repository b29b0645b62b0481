import pytest
from django.contrib.auth import get_user_model

from mass.models import AuditEvent

User = get_user_model()

GOOD = {"username": "nadia", "first_name": "Nadia", "last_name": "V", "email": "",
        "language": "nl", "roles": ["nurse"], "password": "Correct-horse-battery-9"}


def test_coordinator_creates_staff_with_roles(coordinator_client):
    response = coordinator_client.post("/staff/new/", GOOD)
    assert response.status_code == 302
    user = User.objects.get(username="nadia")
    assert list(user.groups.values_list("name", flat=True)) == ["nurse"]
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
                                             "language": "", "roles": ["nurse", "doctor"],
                                             "is_active": "on"})
    assert set(nurse_user.groups.values_list("name", flat=True)) == {"nurse", "doctor"}
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


STAFF_PAGE_QUERIES = 10


def test_staff_list_query_count_is_constant(coordinator_client, staff_factory,
                                            django_assert_num_queries):
    from mass.roles import Role
    coordinator_client.get("/staff/")
    # session, user, permissions (2), roles, staff, their groups, session save (3)
    with django_assert_num_queries(STAFF_PAGE_QUERIES):
        coordinator_client.get("/staff/")
    for _ in range(5):
        staff_factory(Role.NURSE, Role.DOCTOR)
    with django_assert_num_queries(STAFF_PAGE_QUERIES):
        response = coordinator_client.get("/staff/")
    assert response.content.decode().count('/password/"') == 6


def test_create_staff_command_creates_coordinator(db, monkeypatch):
    from django.core.management import call_command
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "Long-enough-pass-2026")
    call_command("create_staff", "claire", "--role", "coordinator")
    user = User.objects.get(username="claire")
    assert user.has_perm("mass.manage_staff") and not user.is_superuser


def test_create_staff_command_refuses_weak_password(db, monkeypatch):
    from django.core.management import CommandError, call_command
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "short")
    with pytest.raises(CommandError):
        call_command("create_staff", "claire", "--role", "coordinator")
    assert not User.objects.filter(username="claire").exists()
