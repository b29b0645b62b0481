"""Second factor (issue 8, item 2; issue 13, part 6): required for every role when
MASS_REQUIRE_2FA is on (MASS_2FA_ROLES=clinical narrows it to the clinical roles and
coordinators); recovery codes are stored hashed and work once; a coordinator can remove
another member's second factor, never their own; the demo says on every page that it is off."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mass.accounts.roles import Role
from mass.accounts.security import SESSION_SECOND_FACTOR
from mass.models import AuditEvent
from tests.security.conftest import current_code, enrol, fresh_code, password_login

SECOND_FACTOR_ROLES = [Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHIATRIST,
                       Role.PSYCHOLOGIST, Role.SOCIAL_WORKER, Role.COORDINATOR]
VERIFY = "/accounts/two-factor/verify/"
SETUP = "/accounts/two-factor/setup/"


@pytest.mark.parametrize("role", SECOND_FACTOR_ROLES)
def test_password_alone_opens_nothing_for_role(client, staff_factory, two_factor_on, role):
    user = staff_factory(role)
    device, _ = enrol(user)
    assert password_login(client, user).status_code == 302
    for url in ["/", "/staff/", "/audit/", "/accounts/two-factor/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(VERIFY), url
    response = client.post(VERIFY, {"code": fresh_code(device), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/", follow=True)  # reception's start page: the desk
    assert home.status_code == 200
    assert AuditEvent.objects.filter(actor=user, action=AuditEvent.Action.LOGIN,
                                     summary="second factor: authenticator").exists()


@pytest.mark.parametrize("role", SECOND_FACTOR_ROLES)
def test_role_without_authenticator_must_set_one_up(client, staff_factory, two_factor_on, role):
    user = staff_factory(role)
    password_login(client, user)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith(SETUP)
    content = response.content.decode()
    assert 'src="data:image/svg+xml' in content  # the QR code, allowed by img-src data:
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP, {"code": current_code(device), "next": "/"},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    codes = shown_codes(content)
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert "shown only this once" in content
    assert "no-store" in response["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/", follow=True).status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE,
                                     summary=f"second factor set up by {user.username}").exists()


def shown_codes(content: str) -> list[str]:
    """The recovery codes of the page that shows them once, as typed (without the dash)."""
    listed = content[content.index("data-recovery-codes"):]
    listed = listed[:listed.index("</ul>")]
    return [a + b for a, b in re.findall(r"<li>(\w{4})-(\w{4})</li>", listed)]


def test_production_settings_ask_every_role_by_default():
    """The settings as production reads them (no DEMO, no test overrides)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"MASS_REQUIRE_2FA", "MASS_2FA_ROLES", "DEBUG"}}
    env.update({"DJANGO_SETTINGS_MODULE": "mass.config.settings", "DEMO": "0",
                "SECRET_KEY": "x" * 50})
    script = "from django.conf import settings as s; print(s.MASS_REQUIRE_2FA, s.MASS_2FA_ROLES)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
        timeout=120, check=False)
    assert result.stdout.split() == ["True", "['all']"], result.stderr


def test_reception_must_give_a_second_factor_in_production(client, reception_user,
                                                           two_factor_on):
    assert two_factor_on.MASS_2FA_ROLES == ["all"]
    password_login(client, reception_user)
    response = client.get("/reception/", follow=True)
    assert response.redirect_chain[-1][0].startswith(SETUP)
    assert SESSION_SECOND_FACTOR not in client.session


def test_reception_is_not_asked_when_only_clinical_roles_are(client, reception_user,
                                                             two_factor_on):
    two_factor_on.MASS_2FA_ROLES = ["clinical"]
    password_login(client, reception_user)
    assert client.get("/", follow=True).status_code == 200  # the desk, no second factor
    assert client.session[SESSION_SECOND_FACTOR] == "exempt"


def test_unknown_role_in_the_second_factor_setting_stops_the_server(settings):
    from mass.accounts.security import check_second_factor_roles
    settings.MASS_2FA_ROLES = ["clinical", "receptoin"]
    errors = check_second_factor_roles(None)
    assert [e.id for e in errors] == ["mass.E001"] and "receptoin" in errors[0].msg


def test_reception_who_chose_an_authenticator_is_asked(client, reception_user, two_factor_on):
    two_factor_on.MASS_2FA_ROLES = ["clinical"]
    enrol(reception_user)
    password_login(client, reception_user)
    assert client.get("/")["Location"].startswith(VERIFY)


def test_force_login_sessions_of_the_suite_are_checked_too(client, nurse_user, two_factor_on):
    """The rule is on the session, not on the login form: any session without a verified
    code is stopped, whatever opened it."""
    client.force_login(nurse_user)
    assert client.get("/").status_code == 302


def test_existing_authenticator_cannot_be_replaced_with_the_password_alone(
        client, nurse_user, two_factor_on):
    device, _ = enrol(nurse_user)
    password_login(client, nurse_user)
    response = client.get(SETUP)
    assert response["Location"].startswith(VERIFY)
    assert client.post(SETUP, {"code": "123456"})["Location"].startswith(VERIFY)
    assert list(TOTPDevice.objects.filter(user=nurse_user)) == [device]


def test_wrong_code_is_refused_and_audited(client, nurse_user, two_factor_on):
    device, _ = enrol(nurse_user)
    password_login(client, nurse_user)
    wrong = f"{(int(current_code(device)) + 1) % 1000000:06d}"
    response = client.post(VERIFY, {"code": wrong}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert client.get("/").status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.username == nurse_user.username
    assert event.summary == "second factor refused: authenticator"
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # django-otp slows the next tries down


def test_too_many_wrong_codes_end_the_session(client, nurse_user, two_factor_on, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # so that each try is really checked
    device, _ = enrol(nurse_user)
    password_login(client, nurse_user)
    wrong = f"{(int(current_code(device)) + 7) % 1000000:06d}"
    for _ in range(4):
        assert client.post(VERIFY, {"code": wrong}).status_code == 200
    response = client.post(VERIFY, {"code": wrong})
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert client.post(VERIFY, {"code": fresh_code(device)})["Location"].startswith(
        "/accounts/login/")


def test_recovery_code_works_once(client, nurse_user, two_factor_on):
    _, codes = enrol(nurse_user)
    password_login(client, nurse_user)
    code = codes[3]
    response = client.post(VERIFY, {"code": f"{code[:4].upper()}-{code[4:]}", "next": "/"},
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain[0] == ("/", 302)
    assert "You used a recovery code; 9 left" in response.content.decode()
    client.post("/accounts/logout/")

    other = Client()
    password_login(other, nurse_user)
    response = other.post(VERIFY, {"code": code}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert other.get("/").status_code == 302
    assert StaticToken.objects.filter(device__user=nurse_user).count() == 9
    assert AuditEvent.objects.filter(summary="second factor: recovery code").count() == 1
    assert AuditEvent.objects.filter(summary="second factor refused: recovery code").count() == 1


def test_new_recovery_codes_replace_the_old_ones(client, nurse_user, two_factor_on,
                                                 settings):
    device, old_codes = enrol(nurse_user)
    password_login(client, nurse_user)
    client.post(VERIFY, {"code": fresh_code(device)})
    assert client.get("/accounts/two-factor/recovery-codes/").status_code == 405
    response = client.post("/accounts/two-factor/recovery-codes/")
    new_codes = set(shown_codes(response.content.decode()))
    assert len(new_codes) == 10 and not new_codes & set(old_codes)
    assert StaticToken.objects.filter(device__user=nurse_user).count() == 10
    client.post("/accounts/logout/")
    # django-otp would make the next try wait after each refusal: not what is tested here.
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    for old_code in old_codes[:2]:
        other = Client()
        password_login(other, nurse_user)
        assert other.post(VERIFY, {"code": old_code}).status_code == 200  # refused
    other = Client()
    password_login(other, nurse_user)
    assert other.post(VERIFY, {"code": min(new_codes)})["Location"] == "/"


def test_own_two_factor_page_shows_state(client, nurse_user, two_factor_on):
    device, _ = enrol(nurse_user)
    password_login(client, nurse_user)
    client.post(VERIFY, {"code": fresh_code(device)})
    response = client.get("/accounts/two-factor/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'data-state="enrolled"' in response.content.decode()
    assert "10 recovery codes left" in response.content.decode()


def test_htmx_request_is_sent_to_verification_by_header(client, nurse_user, two_factor_on):
    enrol(nurse_user)
    password_login(client, nurse_user)
    response = client.get("/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(VERIFY)


def test_verification_refuses_foreign_next(client, nurse_user, two_factor_on):
    device, _ = enrol(nurse_user)
    password_login(client, nurse_user)
    response = client.post(VERIFY, {"code": fresh_code(device),
                                    "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_coordinator_removes_a_members_second_factor(client, coordinator_user, nurse_user):
    enrol(nurse_user)
    nurse_browser = Client()
    nurse_browser.force_login(nurse_user)
    assert nurse_browser.get("/").status_code == 200
    client.force_login(coordinator_user)
    response = client.post(f"/staff/{nurse_user.pk}/two-factor/reset/")
    assert response["Location"] == "/staff/security/"
    assert not TOTPDevice.objects.filter(user=nurse_user).exists()
    assert not StaticDevice.objects.filter(user=nurse_user).exists()
    assert nurse_browser.get("/").status_code == 302  # every session of the member ended
    event = AuditEvent.objects.get(summary=f"second factor reset for {nurse_user.username}")
    assert event.actor == coordinator_user and event.object_id == str(nurse_user.pk)


def test_member_sets_up_a_new_authenticator_after_reset(client, coordinator_user, nurse_user,
                                                        two_factor_on):
    from mass.accounts.security_services import second_factor_reset
    enrol(nurse_user)
    second_factor_reset(user=nurse_user, actor=coordinator_user)
    password_login(client, nurse_user)
    assert client.get("/", follow=True).redirect_chain[-1][0].startswith(SETUP)


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.NURSE, Role.DOCTOR, Role.PSYCHOLOGIST,
                                  Role.SOCIAL_WORKER])
def test_only_coordinators_remove_second_factors(client, staff_factory, nurse_user, role):
    enrol(nurse_user)
    client.force_login(staff_factory(role))
    assert client.post(f"/staff/{nurse_user.pk}/two-factor/reset/").status_code == 403
    assert client.get("/staff/security/").status_code == 403
    assert TOTPDevice.objects.filter(user=nurse_user, confirmed=True).exists()


def test_reset_is_post_only(coordinator_client, nurse_user):
    assert coordinator_client.get(f"/staff/{nurse_user.pk}/two-factor/reset/").status_code == 405


def test_reset_of_unknown_member_is_404(coordinator_client):
    assert coordinator_client.post("/staff/999999/two-factor/reset/").status_code == 404


def test_staff_security_page_shows_who_has_a_second_factor(coordinator_client, nurse_user,
                                                           reception_user):
    enrol(nurse_user)
    content = coordinator_client.get("/staff/security/", HTTP_ACCEPT_LANGUAGE="en"
                                     ).content.decode()
    nurse_row = content[content.index(f'data-member="{nurse_user.username}"'):]
    nurse_row = nurse_row[:nurse_row.index("</tr>")]
    assert "<td>yes</td>\n      <td>yes</td>\n      <td>10</td>" in nurse_row
    reception_row = content[content.index(f'data-member="{reception_user.username}"'):]
    reception_row = reception_row[:reception_row.index("</tr>")]
    # Everyone must have one by default (MASS_2FA_ROLES=all); reception has none yet.
    assert "<td>yes</td>\n      <td>no</td>\n      <td>0</td>" in reception_row


# session, user, permissions and roles (one), staff with their second-factor state,
# lockouts, session save (3).
STAFF_SECURITY_QUERIES = 8


def test_staff_security_page_query_count_is_constant(coordinator_client, staff_factory,
                                                     django_assert_num_queries):
    coordinator_client.get("/staff/security/")
    with django_assert_num_queries(STAFF_SECURITY_QUERIES):
        coordinator_client.get("/staff/security/")
    for _ in range(3):
        enrol(staff_factory(Role.NURSE))
    with django_assert_num_queries(STAFF_SECURITY_QUERIES):
        response = coordinator_client.get("/staff/security/")
    assert response.content.decode().count("/two-factor/reset/") == 3


def test_when_off_every_page_says_so(client, nurse_user, settings):
    settings.MASS_REQUIRE_2FA = False
    assert 'data-second-factor-off' in client.get("/accounts/login/").content.decode()
    client.force_login(nurse_user)
    for url in ["/", "/accounts/two-factor/"]:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert "Two-factor authentication is switched off." in response.content.decode()


def test_when_on_no_page_says_it_is_off(client, two_factor_on):
    assert 'data-second-factor-off' not in client.get("/accounts/login/").content.decode()


def test_deploy_check_fails_when_second_factor_is_off_outside_the_demo():
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items()
           if k not in ("DEMO", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "mass.config.settings",
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-9876543210-abcdefghij",
        "ALLOWED_HOSTS": "mass.example.org", "MASS_REQUIRE_2FA": "0",
    })
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "mass.W001" in result.stdout + result.stderr


def test_demo_switches_second_factor_off_by_default():
    root = Path(__file__).resolve().parents[2]
    script = "from django.conf import settings; print(settings.MASS_REQUIRE_2FA)"
    outputs = {}
    for demo in ("1", "0"):
        env = {k: v for k, v in os.environ.items() if k not in ("MASS_REQUIRE_2FA",)}
        env.update({"DJANGO_SETTINGS_MODULE": "mass.config.settings", "DEMO": demo,
                    "SECRET_KEY": "x" * 50})
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {script}"],
            cwd=root, env=env, capture_output=True, text=True, timeout=120)
        outputs[demo] = result.stdout.strip()
    assert outputs == {"1": "False", "0": "True"}


def test_recovery_codes_are_stored_hashed_and_work_once_each(client, nurse_user,
                                                             two_factor_on):
    from django.db import connection
    two_factor_on.OTP_STATIC_THROTTLE_FACTOR = 0  # each refusal would delay the next try
    _, codes = enrol(nurse_user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT t.* FROM otp_static_statictoken t")
        stored = repr(cursor.fetchall())
    assert len(codes) == 10
    assert not any(code in stored.lower() for code in codes)  # no clear code in the database
    for code in codes[:3]:
        browser = Client()
        password_login(browser, nurse_user)
        assert browser.post(VERIFY, {"code": code, "next": "/"})["Location"] == "/"
        again = Client()
        password_login(again, nurse_user)
        assert again.post(VERIFY, {"code": code}).status_code == 200  # used up
        assert again.get("/")["Location"].startswith(VERIFY)
    assert StaticToken.objects.filter(device__user=nurse_user).count() == 7


def test_recovery_codes_survive_a_rotated_secret_key(client, nurse_user, two_factor_on,
                                                     settings):
    _, codes = enrol(nurse_user)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-test-" + "x" * 20
    password_login(client, nurse_user)
    assert client.post(VERIFY, {"code": codes[0], "next": "/"})["Location"] == "/"


def test_clear_recovery_codes_of_before_are_hashed_by_the_migration(client, nurse_user,
                                                                    two_factor_on):
    """Codes handed out before they were hashed keep working (migration 0007)."""
    from importlib import import_module

    from django.apps import apps
    migration = import_module("mass.migrations.0007_password_change_and_hashed_recovery_codes")
    enrol(nurse_user)
    device = StaticDevice.objects.get(user=nurse_user)
    device.token_set.all().delete()
    StaticToken.objects.create(device=device, token="abcdefgh")  # stored in clear, as before
    migration.hash_clear_recovery_codes(apps, None)
    assert not StaticToken.objects.filter(token="abcdefgh").exists()
    password_login(client, nurse_user)
    assert client.post(VERIFY, {"code": "ABCD-EFGH", "next": "/"})["Location"] == "/"


def test_coordinator_cannot_remove_their_own_second_factor(coordinator_client,
                                                           coordinator_user):
    enrol(coordinator_user)
    page = coordinator_client.get("/staff/security/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/staff/{coordinator_user.pk}/two-factor/reset/" not in page
    response = coordinator_client.post(f"/staff/{coordinator_user.pk}/two-factor/reset/",
                                       follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "You cannot remove your own second factor" in response.content.decode()
    assert TOTPDevice.objects.filter(user=coordinator_user, confirmed=True).exists()
    assert StaticToken.objects.filter(device__user=coordinator_user).count() == 10
    assert not AuditEvent.objects.filter(summary__startswith="second factor reset").exists()


def test_another_coordinator_removes_a_coordinators_second_factor(
        coordinator_client, coordinator_user, staff_factory):
    other = staff_factory(Role.COORDINATOR)
    enrol(other)
    coordinator_client.post(f"/staff/{other.pk}/two-factor/reset/")
    assert not TOTPDevice.objects.filter(user=other).exists()
    assert AuditEvent.objects.get(summary=f"second factor reset for {other.username}"
                                  ).actor == coordinator_user
