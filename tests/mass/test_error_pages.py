"""No 500 from input, and the refusals a user meets are branded, translated pages with a
way back, logged in one line (issue 13, part 7)."""

import logging
import sys

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from mass.accounts.roles import Role
from mass.models import AuditEvent, Site

CHARSETS = ["latin-1", "utf-16"]


def _encoded_post(client, path, fields, charset):
    body = "&".join(f"{name}={value}" for name, value in fields.items()).encode(charset)
    return client.generic("POST", path, body,
                          content_type=f"application/x-www-form-urlencoded; charset={charset}")


@pytest.mark.django_db
@pytest.mark.parametrize("charset", CHARSETS)
def test_login_post_in_another_charset_is_a_400_page(charset, staff_factory):
    staff_factory(Role.RECEPTION, username="desk")
    client = Client(raise_request_exception=True, enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    audit_rows = AuditEvent.objects.count()

    response = _encoded_post(client, reverse("login"), {
        "csrfmiddlewaretoken": token, "username": "desk", "password": "pass\u00e9"}, charset)

    assert response.status_code == 400
    assert b"data-error-back" in response.content
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.count() == audit_rows  # not even a failed login recorded


@pytest.mark.django_db
@pytest.mark.parametrize("charset", CHARSETS)
def test_signed_in_form_in_another_charset_is_a_400_with_the_menu(charset, coordinator_user,
                                                                   caplog):
    client = Client(raise_request_exception=True)
    client.force_login(coordinator_user)
    audit_rows = AuditEvent.objects.count()

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = _encoded_post(client, reverse("site_create"),
                                 {"name": "Caf\u00e9", "kind": Site.Kind.SHELTER}, charset)

    assert response.status_code == 400
    content = response.content.decode()
    assert 'id="mainnav"' in content  # the menu of a signed-in user
    assert "data-error-back" in content
    assert not Site.objects.filter(name__startswith="Caf").exists()
    assert AuditEvent.objects.count() == audit_rows
    assert [(r.getMessage(), r.exc_info) for r in caplog.records if r.name == "django.request"] \
        == [(f"A form body must be UTF-8 encoded, not {charset}.: /sites/new/", None)]


@pytest.mark.django_db
def test_utf8_form_still_works(coordinator_user):
    client = Client(raise_request_exception=True)
    client.force_login(coordinator_user)

    response = _encoded_post(client, reverse("site_create"),
                             {"name": "Caf\u00e9", "kind": Site.Kind.SHELTER}, "utf-8")

    assert response.status_code == 302
    assert Site.objects.filter(name="Caf\u00e9").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "nl"])
@pytest.mark.parametrize("path,status,heading", [
    ("/staff/", 403, "Not allowed"),
    ("/nowhere/", 404, "Page not found"),
])
def test_refusal_pages_are_translated(reception_user, language, path, status, heading):
    client = Client()
    client.force_login(reception_user)

    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == status
    with translation.override(language):
        translated = translation.gettext(heading)
    assert translated != heading
    assert translated in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "nl"])
@pytest.mark.parametrize("path,status", [("/staff/", 403), ("/nowhere/", 404)])
def test_refusal_pages_are_branded_with_menu_and_way_back(reception_user, language, path,
                                                          status):
    client = Client()
    client.force_login(reception_user)

    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == status
    content = response.content.decode()
    assert f'<html lang="{language}">' in content
    assert 'id="mainnav"' in content
    assert f'href="{reverse("home")}" data-error-back' in content


@pytest.mark.django_db
@pytest.mark.parametrize("path,status", [("/staff/", 403), ("/nowhere/", 404)])
def test_expected_refusal_is_logged_in_one_line(reception_user, caplog, path, status):
    client = Client()
    client.force_login(reception_user)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(path)

    assert response.status_code == status
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    assert path in records[0].getMessage()
    assert records[0].exc_info is None
    formatted = logging.Formatter().format(records[0])
    assert "Traceback" not in formatted and "\n" not in formatted


def test_server_error_page_renders_without_request_context_or_query():
    """No django_db mark: any query of the page would fail the test."""
    from mass.accounts.security_views import server_error
    request = RequestFactory().get("/somewhere/")
    with translation.override("fr"):
        try:
            raise ValueError("a bug")
        except ValueError:
            assert sys.exc_info()[0] is ValueError
            response = server_error(request)

    assert response.status_code == 500
    content = response.content.decode()
    assert '<html lang="fr">' in content
    assert "navbar-brand" in content and "data-error-back" in content


@pytest.mark.django_db
def test_form_with_a_stale_token_gets_the_branded_403(coordinator_user, caplog):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator_user)
    sites = Site.objects.count()

    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = client.post(reverse("site_create"), {"name": "Abri", "kind": "shelter"},
                               HTTP_ACCEPT_LANGUAGE="nl")

    assert response.status_code == 403
    content = response.content.decode()
    assert '<html lang="nl">' in content and 'id="mainnav"' in content
    assert "data-error-back" in content
    assert Site.objects.count() == sites
    assert [record.exc_info for record in caplog.records] == [None]
