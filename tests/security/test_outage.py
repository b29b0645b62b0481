"""A database that cannot be reached gives 503 with Retry-After (issue 8, item 6); the load
and restart run is `python -m bench load` (bench/load.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "a" * 32  # loading the session needs the database
response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
print(response.status_code, response.get("Retry-After"), "Temporarily unavailable" in
      response.content.decode(), "Nothing of what you just did was saved" in
      response.content.decode())
"""


def test_unreachable_database_answers_503_not_500():
    """A real unreachable server (a closed port), not a mock."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mass.config.settings", "DEMO": "1",
           "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none", "ALLOWED_HOSTS": "testserver"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "503 10 True True", (
        result.stdout + result.stderr)


def test_other_errors_stay_500(client, db, settings):
    from django.urls import path

    def broken(request):
        raise RuntimeError("a bug")

    from mass.config import urls
    settings.ROOT_URLCONF = type("URLConf", (), {
        "urlpatterns": [path("broken/", broken)] + urls.urlpatterns,
        "handler500": urls.handler500})
    client.raise_request_exception = False
    from django.contrib.auth.decorators import login_not_required
    login_not_required(broken)
    response = client.get("/broken/")
    assert response.status_code == 500


def test_session_lost_to_an_outage_is_503_not_400(rf):
    """The database went away between reading and saving the session: Django raises
    SessionInterrupted (a 400) from the UpdateError from the OperationalError."""
    from django.contrib.sessions.backends.base import UpdateError
    from django.contrib.sessions.exceptions import SessionInterrupted
    from django.db import OperationalError

    from mass.accounts.security_views import bad_request
    try:
        try:
            try:
                raise OperationalError("the database system is shutting down")
            # Raised as Django's session middleware does, with the cause as context.
            except OperationalError:
                raise UpdateError  # noqa: B904
        except UpdateError:
            raise SessionInterrupted("The request's session was deleted")  # noqa: B904
    except SessionInterrupted as interrupted:
        response = bad_request(rf.get("/"), interrupted)
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert bad_request(rf.get("/"), SessionInterrupted("a real one")).status_code == 400
