"""Sessions (inactivity limit, absolute lifetime) and password rules (issue 8, item 2).
Logout everywhere on deactivation or a change of roles: tests/mass/test_staff.py
(test_deactivating_ends_the_staff_members_sessions, test_changing_roles_ends_open_sessions)."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from mass.accounts.security import SESSION_AUTH_AT
from mass.models import AuditEvent
from tests.security.conftest import password_login

User = get_user_model()


def age_session(client, seconds: int) -> None:
    session = client.session
    session[SESSION_AUTH_AT] = int(time.time()) - seconds
    session.save()


def test_login_starts_the_session_clock(client, nurse_user):
    before = int(time.time())
    password_login(client, nurse_user)
    assert before <= client.session[SESSION_AUTH_AT] <= int(time.time())


def test_session_ends_twelve_hours_after_login_however_active(client, nurse_user, settings):
    assert settings.SESSION_ABSOLUTE_AGE == 12 * 3600
    client.force_login(nurse_user)
    age_session(client, 12 * 3600 - 60)
    assert client.get("/").status_code == 200  # still within the day
    age_session(client, 12 * 3600 + 1)
    response = client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/staff/"
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOGOUT, actor=nurse_user).exists()
    login_page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert "Your session has ended" in login_page.content.decode()
    assert client.get("/").status_code == 302  # and it stays ended


def test_session_from_before_the_rule_gets_its_clock_started(client, nurse_user):
    client.force_login(nurse_user)
    session = client.session
    del session[SESSION_AUTH_AT]
    session.save()
    assert client.get("/").status_code == 200
    assert abs(client.session[SESSION_AUTH_AT] - time.time()) < 5


def test_inactive_session_expires_after_thirty_minutes(client, nurse_user, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    client.force_login(nurse_user)
    client.get("/")
    session = Session.objects.get(session_key=client.session.session_key)
    # Each request pushes the end 30 minutes further...
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    # ...and 30 minutes without one end the session.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/").status_code == 302


def test_session_cookie_ends_with_the_browser(client, nurse_user, settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    password_login(client, nurse_user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


GOOD = {"username": "nadia", "first_name": "Nadia", "last_name": "V", "email": "",
        "language": "", "roles": ["nurse"], "password": "Correct-horse-battery-9"}


@pytest.mark.parametrize("password,message", [
    ("Short-pw-1", "too short"),                 # 10 characters: the minimum is 12
    ("password12345", "too common"),             # Django's list of common passwords
    ("01tairon1987", "leaked in data breaches"),  # only in the offline breached list
    ("020484m72539", "leaked in data breaches"),
    ("123456789012345", "entirely numeric"),
])
def test_weak_passwords_are_refused(coordinator_client, password, message):
    response = coordinator_client.post("/staff/new/", {**GOOD, "password": password},
                                       HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="nadia").exists()


def test_breached_list_also_guards_password_resets(coordinator_client, nurse_user):
    response = coordinator_client.post(f"/staff/{nurse_user.pk}/password/", {
        "new_password1": "01tairon1987", "new_password2": "01tairon1987"},
        HTTP_ACCEPT_LANGUAGE="en")
    assert "leaked in data breaches" in response.content.decode()
    nurse_user.refresh_from_db()
    assert not nurse_user.check_password("01tairon1987")


def test_long_unlisted_password_is_accepted(coordinator_client):
    assert coordinator_client.post("/staff/new/", GOOD).status_code == 302
    assert User.objects.get(username="nadia").check_password(GOOD["password"])
