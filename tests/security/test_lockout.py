"""Login throttling (issue 8, item 2): django-axes locks a username on the address it is
tried from after AXES_FAILURE_LIMIT failures; failures stay in the audit trail."""

import io
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from mass.models import AuditEvent
from tests.security.conftest import PASSWORD, password_login


def fail(client, username, times, **extra):
    for _ in range(times):
        response = client.post("/accounts/login/", {"username": username,
                                                    "password": "wrong-password-000"}, **extra)
    return response


def test_five_failures_lock_the_login(client, nurse_user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert fail(client, nurse_user.username, 4).status_code == 200  # the form, with its error
    response = fail(client, nurse_user.username, 1, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    content = response.content.decode()
    assert "Too many failed login attempts (5)" in content
    assert "Try again in 15 minutes, or ask a coordinator" in content
    # Even the right password is refused now, and nobody is logged in.
    response = password_login(client, nurse_user, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    failures = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED,
                                         username=nurse_user.username)
    assert failures.count() == 6
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).exists()


def test_lockout_page_is_in_the_visitors_language(client, nurse_user):
    response = fail(client, nurse_user.username, 5, HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 429
    assert 'lang="nl"' in response.content.decode()


def test_lockout_is_for_that_username_from_that_address(client, nurse_user, doctor_user):
    fail(client, nurse_user.username, 5)
    # The same person from another computer, and a colleague at the same desk, still log in.
    assert password_login(Client(REMOTE_ADDR="10.0.0.7"), nurse_user).status_code == 302
    assert password_login(Client(), doctor_user).status_code == 302


def test_unknown_usernames_are_locked_too(client, db):
    assert fail(client, "no-such-person", 5).status_code == 429


def test_success_clears_earlier_failures(client, nurse_user):
    fail(client, nurse_user.username, 4)
    assert password_login(client, nurse_user).status_code == 302
    client.post("/accounts/logout/")
    assert fail(client, nurse_user.username, 4).status_code == 200
    assert password_login(client, nurse_user).status_code == 302


def test_lockout_ends_after_the_cool_off(client, nurse_user, settings):
    fail(client, nurse_user.username, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME
                                 - timedelta(seconds=1))
    assert password_login(client, nurse_user).status_code == 302


def test_coordinator_sees_and_lifts_a_lockout(client, nurse_user, coordinator_user):
    fail(Client(), nurse_user.username, 5)
    client.force_login(coordinator_user)
    page = client.get("/staff/security/").content.decode()
    assert f'data-lockout="{nurse_user.username}"' in page
    response = client.post("/staff/security/unlock/", {"username": nurse_user.username})
    assert response["Location"] == "/staff/security/"
    assert password_login(Client(), nurse_user).status_code == 302
    event = AuditEvent.objects.get(summary=f"login lockout lifted for {nurse_user.username}")
    assert event.actor == coordinator_user


@pytest.mark.parametrize("method", ["get", "post"])
def test_only_coordinators_lift_lockouts(client, nurse_user, reception_user, method):
    fail(Client(), nurse_user.username, 5)
    client.force_login(reception_user)
    response = getattr(client, method)("/staff/security/unlock/",
                                       {"username": nurse_user.username})
    assert response.status_code == (405 if method == "get" else 403)
    assert AccessAttempt.objects.filter(username=nurse_user.username).exists()


def test_unlock_without_username_changes_nothing(coordinator_client, nurse_user):
    fail(Client(), nurse_user.username, 5)
    coordinator_client.post("/staff/security/unlock/", {"username": ""})
    assert AccessAttempt.objects.filter(username=nurse_user.username).exists()
    assert not AuditEvent.objects.filter(summary__startswith="login lockout lifted").exists()


def test_server_command_lifts_a_lockout(client, nurse_user):
    """The documented way without the web interface: manage.py axes_reset_username."""
    fail(client, nurse_user.username, 5)
    call_command("axes_reset_username", nurse_user.username, stdout=io.StringIO())
    assert password_login(client, nurse_user).status_code == 302


def test_password_is_never_stored_with_the_attempt(client, nurse_user):
    fail(client, nurse_user.username, 2)
    attempt = AccessAttempt.objects.get(username=nurse_user.username)
    assert "wrong-password-000" not in attempt.post_data
    assert PASSWORD not in attempt.post_data
