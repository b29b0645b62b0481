"""An htmx action that cannot be done says so on the page, never inside the row it was for
(issue 12, item 6): a session ended before the action (HX-Redirect to the login page, back to
the page after it), a refusal or a server error (an alert aimed at base.html's #htmx-alert).
Through the dispensing list's "give", the action that must never fail silently."""

import datetime
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone

from dispensary.models import Dispensation
from mass.accounts.security import SESSION_AUTH_AT

# Mimi's running prescription and the stock it is given from, as the dispensary tests have them.
from tests.conftest import EN
from tests.dispensary.conftest import give, given_rows, patient, rx, stock  # noqa: F401

LIST = reverse("dispensary:today")
PAGE = "http://testserver" + LIST + "?q=mim"  # the page the nurse clicked on (HX-Current-URL)


def login_target(response) -> tuple[str, str]:
    """The login page and the ``next`` of an HX-Redirect."""
    target = urlsplit(response["HX-Redirect"])
    return target.path, parse_qs(target.query)["next"][0]


def expire_idle(client) -> None:
    """What the 30-minute inactivity limit does: the session row has expired."""
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1))


def test_give_after_idle_timeout_redirects_the_page_to_login_and_records_nothing(
        nurse_client, rx):
    expire_idle(nurse_client)
    response = give(nurse_client, rx, htmx=True, HTTP_HX_CURRENT_URL=PAGE)
    assert response.status_code == 204 and response.content == b""  # nothing for the row
    assert login_target(response) == (reverse("login"), LIST + "?q=mim")
    assert not Dispensation.objects.filter(prescription=rx, dose_date=timezone.localdate()
                                           ).exists()
    # The whole page goes to the login page, which says what happened.
    login = nurse_client.get(response["HX-Redirect"], **EN).content.decode()
    assert "Not recorded: your session had ended" in login
    assert 'name="next" value="/dispensary/?q=mim"' in login  # back to the list after login


def test_give_without_session_redirects_to_login(rx):
    response = give(Client(), rx, htmx=True, HTTP_HX_CURRENT_URL=PAGE)
    assert login_target(response) == (reverse("login"), LIST + "?q=mim")
    assert not given_rows(rx, dose_date=timezone.localdate()).exists()


def test_give_after_the_absolute_session_limit_redirects_to_login(nurse_client, rx, settings):
    session = nurse_client.session
    session[SESSION_AUTH_AT] = int(timezone.now().timestamp()) - settings.SESSION_ABSOLUTE_AGE - 1
    session.save()
    response = give(nurse_client, rx, htmx=True, HTTP_HX_CURRENT_URL=PAGE)
    assert login_target(response) == (reverse("login"), LIST + "?q=mim")
    assert not given_rows(rx, dose_date=timezone.localdate()).exists()


def test_login_redirect_comes_back_only_to_a_page_of_this_site(rx):
    response = give(Client(), rx, htmx=True, HTTP_HX_CURRENT_URL="https://evil.example/x")
    assert login_target(response) == (reverse("login"), reverse("home"))


def test_search_after_timeout_redirects_to_login_without_not_recorded(reception_client, db):
    expire_idle(reception_client)
    board = "http://testserver" + reverse("reception:board")
    response = reception_client.get(reverse("reception:search"), {"q": "mimi"},
                                    HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=board, **EN)
    assert login_target(response) == (reverse("login"), reverse("reception:board"))
    login = reception_client.get(response["HX-Redirect"], **EN).content.decode()
    assert "Your session had ended" in login and "Not recorded: your session" not in login


def test_without_htmx_the_login_redirect_is_unchanged(rx):
    response = give(Client(), rx)
    assert response.status_code == 302 and "HX-Redirect" not in response
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_refused_htmx_action_answers_with_a_page_level_alert(reception_client, rx):
    response = give(reception_client, rx, htmx=True, HTTP_HX_CURRENT_URL=PAGE)
    content = response.content.decode()
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#htmx-alert" and response["HX-Reswap"] == "innerHTML"
    assert 'data-htmx-failure="403"' in content and "Not recorded:" in content
    assert "not allowed" in content and "<tr" not in content
    assert response["Content-Length"] == str(len(response.content))
    assert not given_rows(rx, dose_date=timezone.localdate()).exists()


def test_refused_request_without_htmx_keeps_its_page(reception_client, rx):
    response = give(reception_client, rx)
    assert response.status_code == 403 and "HX-Retarget" not in response
    assert "data-htmx-failure" not in response.content.decode()


def test_server_error_of_an_htmx_action_answers_with_a_page_level_alert(
        nurse_client, settings, db):
    from mass.config import urls

    def broken(request):
        raise RuntimeError("a bug")

    settings.ROOT_URLCONF = type("URLConf", (), {
        "urlpatterns": [path("broken/", broken)] + urls.urlpatterns,
        "handler500": urls.handler500})
    nurse_client.raise_request_exception = False
    response = nurse_client.post("/broken/", HTTP_HX_REQUEST="true", **EN)
    content = response.content.decode()
    assert response.status_code == 500 and response["HX-Retarget"] == "#htmx-alert"
    assert "Not recorded:" in content and "the server failed" in content


OUTAGE_PROBE = """
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "a" * 32  # loading the session needs the database
response = client.post("/dispensary/prescriptions/1/dispense/", HTTP_HX_REQUEST="true",
                       HTTP_ACCEPT_LANGUAGE="en")
print(response.status_code, response.get("Retry-After"), response.get("HX-Retarget"),
      "the server failed" in response.content.decode())
"""


def test_database_outage_during_an_htmx_action_is_a_page_level_alert():
    """The alert needs no database either (a real unreachable server, not a mock)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mass.config.settings", "DEMO": "1",
           "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none", "ALLOWED_HOSTS": "testserver"}
    result = subprocess.run([sys.executable, "-c", OUTAGE_PROBE],
                            cwd=Path(__file__).resolve().parents[2], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "503 10 #htmx-alert True", (
        result.stdout + result.stderr)


def test_every_page_has_the_alert_region_with_the_connection_lost_text(nurse_client, db):
    content = nurse_client.get(LIST, **EN).content.decode()
    assert 'id="htmx-alert"' in content
    assert ('data-connection-lost="Not recorded: the connection was lost. Check your '
            'connection and try again."') in content
