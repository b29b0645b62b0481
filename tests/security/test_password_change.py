"""Passwords (issue 13, part 6): every member changes their own; a password a coordinator set
is changed at the next login before anything else; zxcvbn and 12 characters at least; the
demo's published password is refused for a real one."""

import pytest
from django.test import Client

from mass.accounts.demo import DEMO_PASSWORD, seed_staff
from mass.accounts.roles import Role
from mass.models import AuditEvent, User
from tests.security.conftest import PASSWORD, password_login

CHANGE = "/accounts/password/"
NEW = "Lantern-quietly-orbits-7"


def change(client, old=PASSWORD, new1=NEW, new2=None):
    return client.post(CHANGE, {"old_password": old, "new_password1": new1,
                                "new_password2": new1 if new2 is None else new2},
                       HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("role", list(Role))
def test_member_changes_own_password_and_stays_signed_in(client, staff_factory, role):
    member = staff_factory(role)
    password_login(client, member)
    other_desk = Client()
    password_login(other_desk, member)
    response = change(client)
    assert response["Location"] == "/"
    member.refresh_from_db()
    assert member.check_password(NEW) and not member.check_password(PASSWORD)
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en", follow=True)  # reception's: the desk
    assert home.status_code == 200 and "Your password has been changed." in home.content.decode()
    assert other_desk.get("/").status_code == 302  # the other session ended
    event = AuditEvent.objects.get(summary=f"password changed by {member.username}")
    assert event.actor == member and event.object_id == str(member.pk)
    assert event.details == {"after_reset": False}


@pytest.mark.parametrize("old,new1,new2,message", [
    ("wrong-password-000", NEW, NEW, "Your old password was entered incorrectly"),
    (PASSWORD, NEW, "Lantern-quietly-orbits-8", "The two password fields didn’t match."),
    (PASSWORD, "Mass-demo-1999", "Mass-demo-1999", "Your password is too guessable"),
    (PASSWORD, DEMO_PASSWORD, DEMO_PASSWORD, "Your password is too guessable"),
    (PASSWORD, "Qv7#kLp2@zR", "Qv7#kLp2@zR", "at least 12 characters"),  # 11 characters
])
def test_bad_change_says_why_and_changes_nothing(client, nurse_user, old, new1, new2, message):
    password_login(client, nurse_user)
    response = change(client, old, new1, new2)
    assert response.status_code == 200
    assert message in response.content.decode()
    nurse_user.refresh_from_db()
    assert nurse_user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(summary__startswith="password changed").exists()
    assert client.get("/").status_code == 200  # still signed in


def test_wrong_current_password_is_audited_as_a_failed_authentication(client, nurse_user):
    password_login(client, nurse_user)
    change(client, old="wrong-password-000")
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.username == nurse_user.username and event.actor is None
    assert event.summary == "password change refused: wrong current password"


def test_wrong_current_passwords_end_the_session_after_five(client, nurse_user):
    password_login(client, nurse_user)
    for _ in range(4):
        assert change(client, old="wrong-password-000").status_code == 200
    response = change(client, old="wrong-password-000")
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    nurse_user.refresh_from_db()
    assert nurse_user.check_password(PASSWORD)


def test_change_page_is_get_or_post(client, nurse_user):
    client.force_login(nurse_user)
    assert client.put(CHANGE).status_code == 405
    page = client.get(CHANGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="old_password"' in page and 'name="new_password2"' in page
    assert 'data-state="must-change"' not in page


def test_change_page_needs_a_login(client):
    assert client.get(CHANGE)["Location"] == f"/accounts/login/?next={CHANGE}"


def test_suite_users_are_not_asked_to_change_their_password(client, nurse_user):
    """Accounts not created or reset by a coordinator (factories, seed_demo, create_staff)."""
    assert nurse_user.must_change_password is False
    client.force_login(nurse_user)
    assert client.get("/").status_code == 200


PAGES = ["/", "/staff/", "/audit/", "/reception/", "/accounts/two-factor/", "/sites/"]


def test_password_reset_by_a_coordinator_is_changed_at_next_login(coordinator_client,
                                                                  nurse_user):
    client = Client()
    coordinator_client.post(f"/staff/{nurse_user.pk}/password/", {
        "new_password1": "Coordinator-chose-this-42", "new_password2": "Coordinator-chose-this-42"})
    nurse_user.refresh_from_db()
    assert nurse_user.must_change_password
    client.post("/accounts/login/", {"username": nurse_user.username,
                                     "password": "Coordinator-chose-this-42"})
    for url in PAGES:
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, CHANGE), url
    htmx = client.get("/reception/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == CHANGE
    page = client.get(CHANGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-state="must-change"' in page and "set by a coordinator" in page

    # A weak new password keeps the member on the page.
    assert change(client, "Coordinator-chose-this-42", "Mass-demo-1999").status_code == 200
    assert client.get("/")["Location"] == CHANGE
    assert change(client, "Coordinator-chose-this-42")["Location"] == "/"
    nurse_user.refresh_from_db()
    assert not nurse_user.must_change_password and nurse_user.check_password(NEW)
    assert client.get("/").status_code == 200
    assert client.get("/reception/").status_code == 200
    assert AuditEvent.objects.get(
        summary=f"password changed by {nurse_user.username}").details == {"after_reset": True}


def test_new_account_changes_the_coordinators_password_first(coordinator_client):
    client = Client()
    coordinator_client.post("/staff/new/", {
        "username": "nadia", "first_name": "Nadia", "last_name": "V", "email": "",
        "language": "", "roles": ["reception"], "password": "Coordinator-chose-this-42"})
    member = User.objects.get(username="nadia")
    assert member.must_change_password
    client.post("/accounts/login/", {"username": "nadia",
                                     "password": "Coordinator-chose-this-42"})
    assert client.get("/reception/")["Location"] == CHANGE
    logout = client.post("/accounts/logout/")
    assert logout.status_code == 302 and "_auth_user_id" not in client.session


def test_second_factor_comes_before_the_forced_change(client, staff_factory, settings):
    settings.MASS_REQUIRE_2FA = True
    member = staff_factory(Role.RECEPTION)
    User.objects.filter(pk=member.pk).update(must_change_password=True)
    password_login(client, member)
    assert client.get("/")["Location"].startswith("/accounts/two-factor/verify/")
    # The set-up page opens (not sent to the change page), and the change page waits for it.
    assert client.get("/accounts/two-factor/setup/").status_code == 200
    assert client.get(CHANGE)["Location"].startswith("/accounts/two-factor/verify/")


@pytest.mark.parametrize("password", ["Mass-demo-1999", DEMO_PASSWORD])
def test_demo_password_is_refused_for_a_real_account(coordinator_client, nurse_user, password):
    response = coordinator_client.post(f"/staff/{nurse_user.pk}/password/", {
        "new_password1": password, "new_password2": password}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Your password is too guessable" in response.content.decode()
    nurse_user.refresh_from_db()
    assert not nurse_user.check_password(password) and not nurse_user.must_change_password


def test_demo_accounts_keep_their_published_password(db, client):
    """seed_demo sets it without the validators (a demo on a laptop, refused on a real
    database by the command itself) and asks no change: `make run` logs in as before."""
    seed_staff()
    reception = User.objects.get(username="reception")
    assert reception.check_password(DEMO_PASSWORD) and not reception.must_change_password
    client.post("/accounts/login/", {"username": "reception", "password": DEMO_PASSWORD})
    assert client.get("/reception/").status_code == 200


def test_guessable_password_is_explained_in_the_members_language(client, nurse_user):
    password_login(client, nurse_user)
    response = client.post(CHANGE, {"old_password": PASSWORD, "new_password1": "Mass-demo-1999",
                                    "new_password2": "Mass-demo-1999"},
                           HTTP_ACCEPT_LANGUAGE="fr")
    assert "Your password is too guessable" not in response.content.decode()
    assert "Votre mot de passe est trop facile à deviner" in response.content.decode()
    nurse_user.refresh_from_db()
    assert nurse_user.check_password(PASSWORD)
